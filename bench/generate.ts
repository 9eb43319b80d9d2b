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
}

/** A year of history from 2025-01-01. */
export const HISTORY: Span = { first: 0, start: '2025-01-01 00:00:00+00', days: 365 };

/** The as-of of a build of the history: its end. */
export const AS_OF = '2026-01-01T00:00:00Z';

export async function generate(rows: number, path: string, seed = 42, span: Span = HISTORY): Promise<void> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    await warehouse.run(benchSql('generate.sql', { rows, seed, path: path.replaceAll("'", "''"), ...span }));
  } finally {
    warehouse.close();
  }
}

/** The history of `rows` rows (seed 42) under `work`/data, as the bench names it; generated when missing. */
export async function benchDataset(work: string, rows: number): Promise<string> {
  const path = join(work, 'data', `rows-${rows}-seed42.parquet`);
  await generateOnce(path, rows, HISTORY);
  return path;
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
