/**
 * Writes the seeded synthetic log of bench/generate.sql to a Parquet file.
 *   node dist/bench/generate.js --rows 10000000 --out /tmp/bench/10m.parquet [--seed 42]
 */
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { benchSql } from './sql-template.js';

export interface Span {
  /** the first row number: a later day's rows continue the history's */
  first: number;
  /** start times run from here (UTC) for `days` days */
  start: string;
  days: number;
  /** which interactions are open (bench/generate.sql): still running at the span's end, or 0.5% forever */
  open: 'in_progress' | 'stale';
  /** the earlier file (its rows and span) whose interactions ending within this span get their closing row here */
  closes?: { rows: number; span: Span };
}

/** A year of history from 2025-01-01. */
export const HISTORY: Span = { first: 0, start: '2025-01-01 00:00:00+00', days: 365, open: 'in_progress' };

/** The day after a history of `rows` rows: its own rows (1/365 of them) and the history's closing rows. */
export function dayAfter(rows: number): Span {
  return { first: rows, start: '2026-01-01 00:00:00+00', days: 1, open: 'in_progress', closes: { rows, span: HISTORY } };
}

/** The as-of of a build of the history: its end. */
export const AS_OF = '2026-01-01T00:00:00Z';

export async function generate(rows: number, path: string, seed = 42, span: Span = HISTORY): Promise<void> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    const { closes, ...own } = span;
    const close = { close_first: closes?.span.first ?? 0, close_rows: closes?.rows ?? 0, close_start: closes?.span.start ?? span.start, close_days: closes?.span.days ?? 1 };
    await warehouse.run(benchSql('generate.sql', { rows, seed, path: path.replaceAll("'", "''"), ...own, ...close }));
  } finally {
    warehouse.close();
  }
}

/**
 * The history of `rows` rows (seed 42) under `work`/data, as the bench names it; generated when missing.
 * `stale`: the worst case, 0.5% of the rows open forever. The names carry the
 * generator's version (v2: open means still running at the export's end), so
 * an older cached file is never taken for this one.
 */
export async function benchDataset(work: string, rows: number, open: Span['open'] = 'in_progress'): Promise<string> {
  const path = join(work, 'data', `rows-${rows}-seed42-v2${open === 'stale' ? '-stale' : ''}.parquet`);
  await generateOnce(path, rows, { ...HISTORY, open });
  return path;
}

/** The day after benchDataset's history (bench/run.ts's nightly pair), generated when missing. */
export async function benchDay(work: string, rows: number): Promise<{ path: string; rows: number }> {
  const path = join(work, 'data', `rows-${rows}-seed42-v2-day.parquet`);
  const dayRows = Math.max(1, Math.round(rows / 365));
  await generateOnce(path, dayRows, dayAfter(rows));
  return { path, rows: dayRows };
}

/** Generates `path` unless it exists, aside and renamed, so an interrupted run leaves no truncated file. */
export async function generateOnce(path: string, rows: number, span: Span): Promise<void> {
  if (existsSync(path)) return;
  mkdirSync(join(path, '..'), { recursive: true });
  process.stderr.write(`generating ${rows} rows into ${path}\n`);
  await generate(rows, `${path}.partial`, 42, span);
  renameSync(`${path}.partial`, path);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, out: { type: 'string' }, seed: { type: 'string', default: '42' } } });
  if (!values.out) throw new Error('--out FILE is required');
  await generate(Number(values.rows), values.out, Number(values.seed));
}

/** The rows a Parquet file holds, from its footer. */
export async function parquetRows(path: string): Promise<bigint> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    const rows = await warehouse.rows<{ rows: bigint }>(`select sum(num_rows)::bigint as rows from parquet_file_metadata('${path.replaceAll("'", "''")}')`);
    return rows[0]?.rows ?? 0n;
  } finally {
    warehouse.close();
  }
}
