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

/**
 * An exact DECIMAL's text ("1234.500000") for the page: thousands grouped,
 * at least the 2 places of a currency, and every further non-zero place kept
 * ("0.0125" stays 0.0125): an amount is never rounded on its way to finance.
 * Done on the text, since a double would round it.
 */
export function money(amount: string | number | boolean | null | undefined): string {
  if (amount === null || amount === undefined) return '';
  const [whole = '0', fraction = ''] = String(amount).split('.');
  const sign = whole.startsWith('-') ? '-' : '';
  const digits = whole.replace('-', '').replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${sign}${digits}.${fraction.replace(/0+$/, '').padEnd(2, '0')}`;
}

export interface Column {
  head: string;
  key: string;
  /** num: right-aligned, grouped digits; money: an exact amount */
  kind?: 'num' | 'money' | 'text';
  /** extra classes for a cell, from its row */
  classes?: (row: Row) => string;
  /** the cell's text, when it is not the row's value */
  text?: (row: Row) => string;
}

const cell = (column: Column, row: Row) => {
  const value = row[column.key];
  const kind = column.kind ?? (typeof value === 'number' ? 'num' : 'text');
  const text = column.text ? column.text(row) : kind === 'money' ? money(value) : typeof value === 'number' ? fmt(value) : String(value ?? '');
  const classes = [kind === 'text' ? '' : 'num', column.classes?.(row) ?? ''].filter(Boolean).join(' ');
  return `<td data-col="${esc(column.key)}"${classes ? ` class="${esc(classes)}"` : ''}>${esc(text)}</td>`;
};

/**
 * A table whose cells name their column (data-col) and whose rows carry
 * `attributes` (data-*), so a test can read values back from the DOM.
 */
export function table(name: string, columns: Column[], rows: Row[], options: { attributes?: (row: Row) => Record<string, unknown>; foot?: string } = {}): string {
  const head = columns.map((column) => `<th${column.kind === 'num' || column.kind === 'money' ? ' class="num"' : ''}>${esc(column.head)}</th>`).join('');
  const body = rows.map((row) => `<tr${dataAttributes(options.attributes?.(row) ?? {})}>${columns.map((column) => cell(column, row)).join('')}</tr>`);
  return `<table data-table="${esc(name)}"><thead><tr>${head}</tr></thead><tbody>${body.join('')}</tbody>${options.foot ?? ''}</table>`;
}

export const dataAttributes = (attributes: Record<string, unknown>) =>
  Object.entries(attributes)
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => ` data-${key}="${esc(value)}"`)
    .join('');

export const empty = (text: string) => `<p class="empty">${esc(text)}</p>`;
