/**
 * `convbill report`: one self-contained HTML page of the published facts for
 * people who will not write SQL: conversations per cycle by platform, per
 * integration, the top accounts, rejects, the last reconcile and the run
 * history.
 *
 * Self-contained because it is mailed, archived next to invoices and opened
 * offline: inline CSS and inline SVG only, no script, no font or URL to
 * fetch. Each bar carries its numbers in data-* attributes, so a test (or a
 * curious reader of the source) can check the picture against the database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../engine/errors.js';
import { Kysely, sql } from 'kysely';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database } from '../typed/schema.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';

export interface ReportOptions {
  /** the database to read, read-only: normally the published copy */
  db: string;
  /** the HTML file to write */
  out: string;
}

/** Writes the report and returns its path. */
export async function writeReport(options: ReportOptions): Promise<string> {
  const html = await renderReport(options.db);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, html);
  return options.out;
}

type Row = Record<string, string | number | null>;

/** The published tables, and the marker publish() adds to the copy (not a mart, so not in the generated types). */
interface ReportTables extends Database {
  convbill_publication: { run_id: number; published_at: string };
}

/** The report's data, read in one read-only session through the typed API. */
async function readFacts(db: string) {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  const kysely = new Kysely<ReportTables>({ dialect: new DuckDBDialect({ connection: warehouse }) });
  try {
    const tables = new Set((await kysely.introspection.getTables()).map((table) => table.name));
    for (const table of ['fct_conversation_counts', 'fct_billable_conversations', 'dim_billing_cycles', 'rejected_interactions', 'convbill_runs']) {
      if (!tables.has(table)) throw new ConfigError(`Database ${db} has no table ${table}; run "convbill build" first, or pass the published copy with --db.`);
    }
    const when = (column: string) => sql<string>`strftime(${sql.ref(column)}, '%Y-%m-%d %H:%M') || ' UTC'`;
    const rows = (query: { execute(): Promise<unknown[]> }) => query.execute() as Promise<Row[]>;
    const hasReconcile = tables.has('rpt_invoice_reconciliation');
    return {
      publication: tables.has('convbill_publication')
        ? (await rows(kysely.selectFrom('convbill_publication').select(['run_id', when('published_at').as('published_at')])))[0]
        : undefined,
      cycles: await rows(
        kysely
          .selectFrom('dim_billing_cycles as cycles')
          .leftJoin('fct_conversation_counts as counts', (join) =>
            join.onRef('cycles.org_id', '=', 'counts.org_id').onRef('cycles.cycle_start', '=', 'counts.cycle_start'),
          )
          .select(({ fn }) => ['cycles.org_id', 'cycles.cycle_id', 'counts.platform', fn.coalesce(fn.sum('counts.conversations'), sql.lit(0)).as('conversations')])
          .groupBy(['cycles.org_id', 'cycles.cycle_id', 'counts.platform'])
          .orderBy('cycles.org_id')
          .orderBy(({ fn }) => fn.min('cycles.cycle_start'))
          .orderBy('counts.platform'),
      ),
      integrations: await rows(
        kysely
          .selectFrom('fct_conversation_counts')
          .select(({ fn }) => ['org_id', 'integration_id', fn.agg('any_value', ['platform']).as('platform'), fn.sum('conversations').as('conversations')])
          .groupBy(['org_id', 'integration_id'])
          .orderBy('conversations', 'desc')
          .orderBy('org_id')
          .orderBy('integration_id'),
      ),
      accounts: await rows(
        kysely
          .selectFrom('fct_billable_conversations')
          .select(({ fn }) => [
            'org_id',
            'customer_account_id',
            fn.countAll().as('conversations'),
            fn.count('integration_id').distinct().as('integrations'),
            fn.count('cycle_start').distinct().as('cycles'),
          ])
          .groupBy(['org_id', 'customer_account_id'])
          .orderBy('conversations', 'desc')
          .orderBy('org_id')
          .orderBy('customer_account_id')
          .limit(20),
      ),
      rejects: await rows(
        kysely
          .selectFrom('rejected_interactions')
          .select(({ fn }) => ['reason', fn.countAll().as('rows')])
          .groupBy('reason')
          .orderBy('rows', 'desc')
          .orderBy('reason'),
      ),
      reconcile: hasReconcile
        ? {
            last: tables.has('convbill_reconciliations')
              ? (
                  await rows(
                    kysely
                      .selectFrom('convbill_reconciliations')
                      .select(['reconcile_id', when('reconciled_at').as('reconciled_at'), 'invoice_file', 'run_id'])
                      .orderBy('reconcile_id', 'desc')
                      .limit(1),
                  )
                )[0]
              : undefined,
            statuses: await rows(
              kysely
                .selectFrom('rpt_invoice_reconciliation')
                .select(({ fn }) => ['status', fn.countAll().as('lines')])
                .groupBy('status')
                .orderBy(sql`status = 'match'`, 'desc')
                .orderBy('lines', 'desc')
                .orderBy('status'),
            ),
            differing: await rows(
              kysely
                .selectFrom('rpt_invoice_reconciliation')
                .select(({ fn }) => [
                  fn.coalesce('line_label', sql.lit('usage')).as('line'),
                  'org_id',
                  'cycle_id',
                  fn.coalesce('integration_id', 'platform', sql.lit('all')).as('scope'),
                  'invoiced_conversations as invoiced',
                  'computed_conversations as computed',
                  'difference',
                  'status',
                  'explained_by',
                ])
                .where('status', '<>', 'match')
                .orderBy(sql`source_row nulls last`)
                .orderBy('org_id')
                .orderBy('cycle_id')
                .limit(30),
            ),
          }
        : undefined,
      runs: await rows(
        kysely
          .selectFrom('convbill_runs')
          .select(({ fn }) => [
            'run_id',
            'command',
            'status',
            when('started_at').as('started_at'),
            fn('round', ['duration_seconds', sql.lit(1)]).as('seconds'),
            when('as_of').as('as_of'),
            sql<string>`case when full_refresh then 'full' when not full_refresh then 'incremental' end`.as('build'),
            'rows_read',
            'rows_rejected',
            'partitions_rebuilt as partitions',
            'error',
          ])
          .orderBy('run_id', 'desc')
          .limit(20),
      ),
    };
  } finally {
    await kysely.destroy();
    warehouse.close();
  }
}

const esc = (value: unknown) =>
  String(value ?? '').replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const fmt = (value: number) => value.toLocaleString('en-US');
const SVG = 'xmlns="http://www.w3.org/2000/svg"';
/** Okabe–Ito: told apart with colour blindness and in greyscale print */
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442', '#555555'];
const STATUS_COLOURS: Record<string, string> = { match: '#009e73', not_invoiced: '#e69f00', no_usage: '#cc79a7' };

/** Ticks of whole conversations, 1, 2 or 5 × 10^k apart, up to at or above the data. */
function axis(max: number): number[] {
  if (max <= 0) return [0, 1];
  const power = 10 ** Math.floor(Math.log10(max));
  const step = [0.2, 0.5, 1, 2].map((s) => s * power).find((s) => s >= 1 && max / s <= 5) ?? power * 2;
  const ticks = [];
  for (let tick = 0; tick < max + step; tick += step) ticks.push(Math.round(tick * 1e6) / 1e6);
  return ticks;
}

/** Conversations per cycle of one org, stacked by platform. */
function stackedChart(org: string, cycles: { cycle: string; parts: [string, number][] }[], colour: (platform: string) => string): string {
  const width = 960;
  const height = 300;
  const left = 64;
  const bottom = 70;
  const top = 16;
  const plot = height - top - bottom;
  const totals = cycles.map((cycle) => cycle.parts.reduce((sum, [, n]) => sum + n, 0));
  const ticks = axis(Math.max(0, ...totals));
  const max = ticks[ticks.length - 1] as number;
  const slot = (width - left - 8) / Math.max(cycles.length, 1);
  const bar = Math.max(2, Math.min(48, slot * 0.7));
  const every = Math.ceil(cycles.length / 24);
  const y = (value: number) => top + plot - (value / max) * plot;
  const grid = ticks.map(
    (tick) =>
      `<line class="grid" x1="${left}" x2="${width - 8}" y1="${y(tick)}" y2="${y(tick)}"/><text class="tick" x="${left - 6}" y="${y(tick) + 4}" text-anchor="end">${fmt(tick)}</text>`,
  );
  const columns = cycles.map((cycle, i) => {
    const x = left + i * slot + (slot - bar) / 2;
    let base = 0;
    const rects = cycle.parts.map(([platform, n]) => {
      const rect = `<rect class="bar" x="${x.toFixed(1)}" y="${y(base + n).toFixed(1)}" width="${bar.toFixed(1)}" height="${(y(base) - y(base + n)).toFixed(1)}" fill="${colour(platform)}" data-org="${esc(org)}" data-cycle="${esc(cycle.cycle)}" data-platform="${esc(platform)}" data-conversations="${n}"><title>${esc(`${cycle.cycle} ${platform}: ${fmt(n)}`)}</title></rect>`;
      base += n;
      return rect;
    });
    const label = i % every === 0
      ? `<text class="label" transform="translate(${(x + bar / 2).toFixed(1)} ${top + plot + 10}) rotate(-45)" text-anchor="end">${esc(cycle.cycle)}</text>`
      : '';
    const sum = totals[i] as number;
    const total = sum > 0 ? `<text class="total" x="${(x + bar / 2).toFixed(1)}" y="${(y(sum) - 4).toFixed(1)}" text-anchor="middle">${fmt(sum)}</text>` : '';
    return `<g class="column" data-cycle="${esc(cycle.cycle)}" data-total="${sum}">${rects.join('')}${total}${label}</g>`;
  });
  return `<svg ${SVG} class="chart" data-chart="cycles" data-org="${esc(org)}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(`conversations per cycle of ${org}`)}">${grid.join('')}${columns.join('')}</svg>`;
}

interface BarRow {
  label: string;
  value: number;
  colour: string;
  attributes: Record<string, string | number>;
}

/** One horizontal bar per row, labelled, its value at its end. */
function barList(chart: string, rows: BarRow[]): string {
  const width = 960;
  const row = 24;
  const left = 300;
  const height = rows.length * row + 8;
  const max = Math.max(1, ...rows.map((bar) => bar.value));
  const span = width - left - 90;
  const bars = rows.map((bar, i) => {
    const y = 4 + i * row;
    const data = Object.entries(bar.attributes).map(([key, value]) => ` data-${key}="${esc(value)}"`).join('');
    const label = bar.label.length > 42 ? `${bar.label.slice(0, 41)}…` : bar.label;
    const length = Math.max(bar.value > 0 ? 1 : 0, (bar.value / max) * span);
    return `<text class="label" x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(label)}<title>${esc(bar.label)}</title></text><rect class="bar" x="${left}" y="${y + 3}" width="${length.toFixed(1)}" height="${row - 8}" fill="${bar.colour}" data-value="${bar.value}"${data}><title>${esc(`${bar.label}: ${fmt(bar.value)}`)}</title></rect><text class="value" x="${(left + length + 6).toFixed(1)}" y="${y + 16}">${fmt(bar.value)}</text>`;
  });
  return `<svg ${SVG} class="chart" data-chart="${chart}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(chart)}">${bars.join('')}</svg>`;
}

function legend(platforms: string[], colour: (platform: string) => string): string {
  return `<p class="legend">${platforms.map((platform) => `<span><i style="background:${colour(platform)}"></i>${esc(platform)}</span>`).join('')}</p>`;
}

function table(columns: string[], rows: Row[], keys: string[], classes: Record<string, (row: Row) => string> = {}): string {
  const head = columns.map((column) => `<th>${esc(column)}</th>`).join('');
  const body = rows.map((row) => `<tr>${keys.map((key) => `<td class="${classes[key]?.(row) ?? (typeof row[key] === 'number' ? 'num' : '')}">${esc(typeof row[key] === 'number' ? fmt(row[key] as number) : row[key])}</td>`).join('')}</tr>`);
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

const empty = (text: string) => `<p class="empty">${esc(text)}</p>`;

export async function renderReport(db: string): Promise<string> {
  const facts = await readFacts(db);
  const platforms = [...new Set(facts.cycles.flatMap((row) => (row.platform === null ? [] : [row.platform as string])))].sort();
  const colour = (platform: string) => PALETTE[Math.max(0, platforms.indexOf(platform)) % PALETTE.length] as string;
  const orgs = [...new Set(facts.cycles.map((row) => row.org_id as string))];
  const total = facts.integrations.reduce((sum, row) => sum + (row.conversations as number), 0);
  const lastBuild = facts.runs.find((run) => run.command === 'build' && run.status === 'success');
  const rejected = facts.rejects.reduce((sum, row) => sum + (row.rows as number), 0);

  const cycleCharts = orgs.map((org) => {
    const cycles: { cycle: string; parts: [string, number][] }[] = [];
    for (const row of facts.cycles.filter((candidate) => candidate.org_id === org)) {
      let cycle = cycles[cycles.length - 1];
      if (!cycle || cycle.cycle !== row.cycle_id) {
        cycle = { cycle: row.cycle_id as string, parts: [] };
        cycles.push(cycle);
      }
      if (row.platform !== null) cycle.parts.push([row.platform as string, row.conversations as number]);
    }
    return `<figure>${orgs.length > 1 ? `<figcaption>${esc(org)}</figcaption>` : ''}${stackedChart(org, cycles, colour)}</figure>`;
  });

  const shownIntegrations = facts.integrations.slice(0, 40);
  const hidden = facts.integrations.slice(shownIntegrations.length);
  const several = orgs.length > 1;
  const integrationChart = barList(
    'integrations',
    shownIntegrations.map((row) => ({
      label: `${several ? `${row.org_id} · ` : ''}${row.integration_id} (${row.platform})`,
      value: row.conversations as number,
      colour: colour(row.platform as string),
      attributes: { org: row.org_id as string, integration: row.integration_id as string, platform: row.platform as string },
    })),
  );
  const accountChart = barList(
    'accounts',
    facts.accounts.map((row) => ({
      label: `${several ? `${row.org_id} · ` : ''}${row.customer_account_id}`,
      value: row.conversations as number,
      colour: PALETTE[0] as string,
      attributes: { org: row.org_id as string, account: row.customer_account_id as string, integrations: row.integrations as number, cycles: row.cycles as number },
    })),
  );
  const rejectChart = barList(
    'rejects',
    facts.rejects.map((row) => ({ label: row.reason as string, value: row.rows as number, colour: '#d55e00', attributes: { reason: row.reason as string } })),
  );

  let reconcile = empty('No reconcile yet: run "convbill reconcile --invoices FILE"; the next build publishes its result.');
  if (facts.reconcile) {
    const { last, statuses, differing } = facts.reconcile;
    const lines = statuses.reduce((sum, row) => sum + (row.lines as number), 0);
    const matched = (statuses.find((row) => row.status === 'match')?.lines as number | undefined) ?? 0;
    reconcile = [
      `<p>${last ? `Reconcile ${esc(last.reconcile_id)} of <code>${esc(last.invoice_file)}</code> at ${esc(last.reconciled_at)}, against build ${esc(last.run_id)}: ` : ''}<strong>${fmt(matched)} of ${fmt(lines)}</strong> lines match.</p>`,
      barList(
        'reconcile',
        statuses.map((row) => ({
          label: row.status as string,
          value: row.lines as number,
          colour: STATUS_COLOURS[row.status as string] ?? '#d55e00',
          attributes: { status: row.status as string },
        })),
      ),
      differing.length
        ? table(['line', 'org', 'cycle', 'scope', 'invoiced', 'computed', 'difference', 'status', 'explained by'], differing,
            ['line', 'org_id', 'cycle_id', 'scope', 'invoiced', 'computed', 'difference', 'status', 'explained_by'])
        : '',
    ].join('');
  }

  const cards: [string, string][] = [
    ['conversations', fmt(total)],
    ['orgs', fmt(orgs.length)],
    ['integrations', fmt(facts.integrations.length)],
    ['rejected rows', fmt(rejected)],
    ['as of', (lastBuild?.as_of as string | undefined) ?? '-'],
  ];
  const runStatus = (row: Row) => `status ${row.status === 'success' ? 'ok' : row.status === 'running' ? '' : 'bad'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>convbill report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Billable conversations</h1>
<p class="meta">${facts.publication ? `Build ${esc(facts.publication.run_id)}, published ${esc(facts.publication.published_at)}` : 'Working database'} · <code>${esc(db)}</code></p>
<div class="cards">${cards.map(([name, value]) => `<div class="card"><span>${esc(name)}</span><b>${esc(value)}</b></div>`).join('')}</div>
</header>
<section id="cycles"><h2>Conversations per cycle, by platform</h2>
${platforms.length ? legend(platforms, colour) : ''}${total > 0 ? cycleCharts.join('\n') : empty('No conversations yet.')}</section>
<section id="integrations"><h2>Conversations per integration <small>all cycles</small></h2>
${facts.integrations.length ? integrationChart : empty('No conversations yet.')}${hidden.length ? `<p class="note">and ${fmt(hidden.length)} more integrations with ${fmt(hidden.reduce((sum, row) => sum + (row.conversations as number), 0))} conversations.</p>` : ''}</section>
<section id="accounts"><h2>Top ${facts.accounts.length || 20} accounts by conversations <small>all cycles</small></h2>
${facts.accounts.length ? accountChart : empty('No conversations yet.')}</section>
<section id="rejects"><h2>Rejected rows, by reason</h2>
${facts.rejects.length ? rejectChart : empty('No rejected rows.')}</section>
<section id="reconcile"><h2>Last reconcile</h2>
${reconcile}</section>
<section id="runs"><h2>Run history <small>last ${facts.runs.length}</small></h2>
${table(['run', 'command', 'status', 'started', 'seconds', 'build', 'as of', 'rows read', 'rejected', 'partitions', 'error'], facts.runs,
  ['run_id', 'command', 'status', 'started_at', 'seconds', 'build', 'as_of', 'rows_read', 'rows_rejected', 'partitions', 'error'], { status: runStatus })}</section>
<footer>Written by <code>convbill report</code>. Every number comes from the published tables; see docs/data-dictionary.md.</footer>
</body>
</html>
`;
}

const CSS = `
:root { color-scheme: light; --ink: #1d2329; --muted: #5f6b76; --rule: #dde2e6; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 10px; }
h2 small { font-weight: normal; color: var(--muted); font-size: 13px; margin-left: 6px; }
.meta, .note, .empty, footer { color: var(--muted); }
.empty { font-style: italic; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
section { border-top: 1px solid var(--rule); padding: 18px 0 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 16px 0 20px; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; min-width: 0; overflow-wrap: anywhere; }
.card span { display: block; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card b { font-size: 20px; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 12px; }
figcaption { font-weight: 600; margin-bottom: 2px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--rule); stroke-width: 1; }
svg text { font-size: 12px; fill: var(--ink); }
svg .tick, svg .value, svg .total { fill: var(--muted); font-variant-numeric: tabular-nums; }
.legend { margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.status.ok { color: #007a5a; }
td.status.bad { color: #b34700; font-weight: 600; }
footer { margin-top: 24px; font-size: 12px; }
@media (max-width: 700px) { body { padding: 16px; } }
@media print {
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section, figure, table tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  .cards { grid-template-columns: repeat(5, minmax(0, 1fr)); }
  .card { border-color: #999; }
  .card b { font-size: 13pt; }
  table { font-size: 8.5pt; }
  th, td { padding: 2px 4px; }
  footer { break-before: avoid; }
}
`;
