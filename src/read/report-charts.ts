/**
 * The report's charts, as inline SVG (the page fetches nothing). Each bar
 * carries its numbers in data-* attributes, so a test can check the picture
 * against the database.
 */
import { dataAttributes, esc, fmt } from './report-html.js';

const SVG = 'xmlns="http://www.w3.org/2000/svg"';
/** Okabe–Ito: told apart with colour blindness and in greyscale print */
export const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#555555'];
/** amounts are not platforms: colours of their own, so a currency never reads as a platform */
export const AMOUNT_COLOURS = ['#44546a', '#8c6d31', '#6b4c9a', '#2f6f6f'];
export const STATUS_COLOURS: Record<string, string> = { match: '#009e73', not_invoiced: '#e69f00', no_usage: '#cc79a7' };

/** Ticks 1, 2 or 5 × 10^k apart (whole numbers for counts), up to at or above the data. */
function axis(max: number, whole: boolean): number[] {
  if (max <= 0) return [0, 1];
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [0.2, 0.5, 1, 2].map((s) => s * power).find((s) => (!whole || s >= 1) && max / s <= 5) ?? power * 2;
  const ticks = [];
  for (let tick = 0; tick < max + step; tick += step) ticks.push(Math.round(tick * 1e6) / 1e6);
  return ticks;
}

export interface ColumnPart {
  /** the series: a platform, a currency */
  name: string;
  value: number;
  colour: string;
  /** the value as the page prints it (an exact amount), when not fmt(value) */
  text?: string;
}

export interface ChartColumn {
  cycle: string;
  /** complete, in_progress or upcoming: only a complete cycle is drawn solid */
  status: string;
  parts: ColumnPart[];
  /** the column's total as printed */
  total: string;
}

/**
 * One column per cycle of one org, stacked by series. A cycle still in
 * progress at the as-of is drawn pale with a dashed outline and labelled, so
 * a count that can still grow never reads as a finished one.
 */
export function columnChart(chart: string, org: string, columns: ChartColumn[], options: { attribute: string; whole: boolean }): string {
  const width = 960;
  const height = 300;
  const left = 72;
  const bottom = 70;
  const top = 24;
  const plot = height - top - bottom;
  const sums = columns.map((column) => column.parts.reduce((sum, part) => sum + part.value, 0));
  const ticks = axis(Math.max(0, ...sums), options.whole);
  const max = ticks[ticks.length - 1] as number;
  const slot = (width - left - 8) / Math.max(columns.length, 1);
  const bar = Math.max(2, Math.min(48, slot * 0.7));
  const every = Math.ceil(columns.length / 24);
  const y = (value: number) => top + plot - (value / max) * plot;
  const grid = ticks.map(
    (tick) =>
      `<line class="grid" x1="${left}" x2="${width - 8}" y1="${y(tick)}" y2="${y(tick)}"/><text class="tick" x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${esc(fmt(tick))}</text>`,
  );
  const drawn = columns.map((column, i) => {
    const x = left + i * slot + (slot - bar) / 2;
    const pending = column.status !== 'complete';
    let base = 0;
    const rects = column.parts.map((part) => {
      const rect = `<rect class="bar${pending ? ' pending' : ''}" x="${x.toFixed(1)}" y="${y(base + part.value).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(base) - y(base + part.value)).toFixed(1)}" fill="${esc(part.colour)}"${dataAttributes({ org, cycle: column.cycle, status: column.status, series: part.name, [options.attribute]: part.text ?? part.value })}><title>${esc(`${column.cycle} ${part.name}: ${part.text ?? fmt(part.value)}${pending ? ' (in progress)' : ''}`)}</title></rect>`;
      base += part.value;
      return rect;
    });
    const sum = sums[i] as number;
    const outline = pending && sum > 0
      ? `<rect class="pending-outline" x="${x.toFixed(1)}" y="${y(sum).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(0) - y(sum)).toFixed(1)}"/>`
      : '';
    const label = i % every === 0
      ? `<text class="label" transform="translate(${(x + bar / 2).toFixed(1)} ${top + plot + 10}) rotate(-45)" text-anchor="end">${esc(column.cycle)}</text>`
      : '';
    const total = sum > 0 || pending
      ? `<text class="total" x="${(x + bar / 2).toFixed(1)}" y="${(y(sum) - 4).toFixed(1)}" text-anchor="middle">${esc(pending ? `${column.total} so far` : column.total)}</text>`
      : '';
    return `<g class="column"${dataAttributes({ cycle: column.cycle, status: column.status, total: column.total })}>${rects.join('')}${outline}${total}${label}</g>`;
  });
  return `<svg ${SVG} class="chart" data-chart="${esc(chart)}" data-org="${esc(org)}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(`${chart} of ${org}`)}">${grid.join('')}${drawn.join('')}</svg>`;
}
export interface BarRow {
  label: string;
  value: number;
  colour: string;
  attributes: Record<string, string | number>;
}

/** One horizontal bar per row, labelled, its value at its end. */
export function barList(chart: string, rows: BarRow[]): string {
  const width = 960;
  const row = 24;
  const left = 300;
  const height = rows.length * row + 8;
  const max = Math.max(1, ...rows.map((bar) => bar.value));
  const span = width - left - 90;
  const bars = rows.map((bar, i) => {
    const y = 4 + i * row;
    const data = dataAttributes(bar.attributes);
    const label = bar.label.length > 42 ? `${bar.label.slice(0, 41)}…` : bar.label;
    const length = Math.max(bar.value > 0 ? 1 : 0, (bar.value / max) * span);
    return `<text class="label" x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(label)}<title>${esc(bar.label)}</title></text><rect class="bar" x="${left}" y="${y + 3}" width="${length.toFixed(1)}" height="${row - 8}" fill="${esc(bar.colour)}" data-value="${esc(bar.value)}"${data}><title>${esc(`${bar.label}: ${fmt(bar.value)}`)}</title></rect><text class="value" x="${(left + length + 6).toFixed(1)}" y="${y + 16}">${esc(fmt(bar.value))}</text>`;
  });
  return `<svg ${SVG} class="chart" data-chart="${esc(chart)}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(chart)}">${bars.join('')}</svg>`;
}
export function legend(platforms: string[], colour: (platform: string) => string): string {
  return `<p class="legend">${platforms.map((platform) => `<span><i style="background:${esc(colour(platform))}"></i>${esc(platform)}</span>`).join('')}</p>`;
}
