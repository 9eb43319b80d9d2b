/**
 * Escaping, number formatting and the HTML tables of the report. Every value
 * that reaches the page, in text, in an attribute or in an SVG title, goes
 * through `esc`: ids, names, paths and error messages come from input files
 * and flags, and a report is opened in a browser.
 */
import type { Row } from './report-facts.js';

/** Text for HTML text and double- or single-quoted attributes (in SVG too). */
export const esc = (value: unknown) =>
  String(value ?? '')
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
export const fmt = (value: number) => value.toLocaleString('en-US');

export function table(columns: string[], rows: Row[], keys: string[], classes: Record<string, (row: Row) => string> = {}): string {
  const head = columns.map((column) => `<th>${esc(column)}</th>`).join('');
  const body = rows.map((row) => `<tr>${keys.map((key) => `<td class="${classes[key]?.(row) ?? (typeof row[key] === 'number' ? 'num' : '')}">${esc(typeof row[key] === 'number' ? fmt(row[key] as number) : row[key])}</td>`).join('')}</tr>`);
  return `<table><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody></table>`;
}

export const empty = (text: string) => `<p class="empty">${esc(text)}</p>`;
