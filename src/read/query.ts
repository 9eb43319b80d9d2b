/**
 * `query`: run one SQL statement against a convbill database and print it as
 * a table, CSV or JSON. Instants print as UTC ISO-8601 whatever the machine's
 * timezone: we format DuckDB's microseconds ourselves.
 *
 * The SQL is the user's, so the session is sandboxed (engine/duckdb/sandbox.ts):
 * read-only, no file outside the folders the database's views read and those
 * `allowedDirectories` names, no ATTACH, no extension, no setting changed.
 */
import { existsSync, statSync } from 'node:fs';
import { ConfigError, RunError, engineMessage } from '../engine/errors.js';
import { isRefusal } from '../engine/duckdb/sandbox.js';
import { plainValue } from '../engine/duckdb/values.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { displayText } from './display-text.js';

// The same command on a ClickHouse warehouse: its own module, as its sandbox is the server's.
export { queryClickHouse } from './clickhouse-query.js';

export type QueryFormat = 'table' | 'csv' | 'json';
export const QUERY_FORMATS: QueryFormat[] = ['table', 'csv', 'json'];

export interface QueryResult {
  columns: string[];
  rows: (string | number | boolean | null)[][];
}

export interface QueryOptions {
  /** folders the SQL may read files from and COPY ... TO (`--allow-dir`); none by default */
  allowedDirectories?: string[];
}

/** What a refusal adds to the engine's words. */
const REFUSAL_HINT = 'convbill query is read-only; --allow-dir, or the allowedDirectories option, names the folders it may read and write';

export async function query(db: string, sql: string, options: QueryOptions = {}): Promise<QueryResult> {
  const allowedDirectories = checkedFolders(options.allowedDirectories ?? [], '--allow-dir');
  const warehouse = await Warehouse.open(db, { readOnly: true, sandbox: { allowedDirectories } });
  try {
    const { columns, rows } = await warehouse.userTable(sql).catch((error: unknown) => {
      if (isRefusal(error)) throw new RunError(`Query refused: ${engineMessage(error)} (${REFUSAL_HINT}).`, { cause: error });
      throw new RunError(`Query failed: ${engineMessage(error)}.`, { cause: error });
    });
    return { columns, rows: rows.map((row) => row.map(plainValue)) };
  } finally {
    warehouse.close();
  }
}

/** Folders a sandbox allows must exist: a typo would otherwise refuse every path in it, silently. */
export function checkedFolders(folders: string[], flag: string): string[] {
  for (const folder of folders) {
    if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new ConfigError(`Option ${flag} ${folder} is not a folder.`);
  }
  return folders;
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
  const cells = [result.columns, ...result.rows.map((row) => row.map((value) => (value === null ? 'NULL' : displayText(String(value), Infinity))))];
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
