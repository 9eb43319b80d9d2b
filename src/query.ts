/**
 * `query`: run one SQL statement against a convbill database and print it as
 * a table, CSV or JSON. Instants print as UTC ISO-8601 whatever the machine's
 * timezone: we format DuckDB's microseconds ourselves.
 */
import {
  DuckDBDateValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { ConfigError, RunError, engineMessage } from './errors.js';
import { Warehouse } from './warehouse.js';

export type QueryFormat = 'table' | 'csv' | 'json';
export const QUERY_FORMATS: QueryFormat[] = ['table', 'csv', 'json'];

export interface QueryResult {
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

function isoFromMicros(micros: bigint, suffix: string): string {
  const millis = micros / 1000n;
  const sub = ((micros % 1000n) + 1000n) % 1000n;
  const iso = new Date(Number(millis - (micros < 0n && sub !== 0n ? 1n : 0n))).toISOString();
  const [seconds, fraction] = iso.slice(0, -1).split('.');
  const digits = sub === 0n ? (fraction === '000' ? '' : `.${fraction}`) : `.${fraction}${String(sub).padStart(3, '0')}`;
  return `${seconds}${digits}${suffix}`;
}

/** One DuckDB value as JSON-safe JS: instants in UTC ISO-8601, exact integers. */
export function plainValue(value: DuckDBValue): string | number | boolean | null {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof DuckDBTimestampTZValue) return value.isFinite ? isoFromMicros(value.micros, 'Z') : value.toString();
  if (value instanceof DuckDBTimestampValue) return value.isFinite ? isoFromMicros(value.micros, '') : value.toString();
  if (value instanceof DuckDBDateValue) return value.toString();
  return String(value);
}

export async function query(db: string, sql: string): Promise<QueryResult> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  try {
    const { columns, rows } = await warehouse.table(sql).catch((error: unknown) => {
      throw new RunError(`Query failed: ${engineMessage(error)}.`, { cause: error });
    });
    return { columns, rows: rows.map((row) => row.map(plainValue)) };
  } finally {
    warehouse.close();
  }
}

function csvCell(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function formatResult(result: QueryResult, format: QueryFormat): string {
  if (format === 'json') {
    const objects = result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column, row[i]])));
    return JSON.stringify(objects, null, 2);
  }
  if (format === 'csv') {
    return [result.columns, ...result.rows].map((row) => row.map(csvCell).join(',')).join('\n');
  }
  const cells = [result.columns, ...result.rows.map((row) => row.map((value) => (value === null ? 'NULL' : String(value))))];
  const widths = result.columns.map((_, i) => Math.max(...cells.map((row) => String(row[i]).length)));
  const line = (row: unknown[]) => row.map((cell, i) => String(cell).padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  const footer = `(${result.rows.length} row${result.rows.length === 1 ? '' : 's'})`;
  return [line(result.columns), rule, ...result.rows.map((row, i) => line(cells[i + 1] ?? row)), footer].join('\n');
}

export function parseFormat(value: string): QueryFormat {
  if (!(QUERY_FORMATS as string[]).includes(value)) {
    throw new ConfigError(`Option --format must be one of ${QUERY_FORMATS.join(', ')}, not "${value}".`);
  }
  return value as QueryFormat;
}
