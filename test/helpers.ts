/** Shared test fixtures: temporary folders, input files, one-call builds. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll } from 'vitest';
import { build, type BuildResult } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import type { CycleConfig } from '../src/reference/cycles.js';
import type { SourceSpec } from '../src/ingest/ingest.js';
import type { PriceEntry } from '../src/reference/prices.js';
import { query } from '../src/read/query.js';
import { plainValue, type PlainValue } from '../src/engine/duckdb/values.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix = 'convbill-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** mulberry32: a tiny seeded PRNG, so a failing seed replays exactly. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** "1-50" or "7,9" (from an environment variable) as a list of seeds. */
export function seedsFromEnv(value: string | undefined): number[] | undefined {
  if (!value) return undefined;
  return value.split(',').flatMap((part) => {
    const [from, to] = part.split('-').map(Number) as [number, number | undefined];
    return Array.from({ length: (to ?? from) - from + 1 }, (_, i) => from + i);
  });
}

export type InputRow = Record<string, string | number | null | undefined>;

function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes rows as CSV with a header holding every key used by any row. */
export function writeCsv(dir: string, name: string, rows: InputRow[], columns?: string[]): string {
  const header = columns ?? [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const lines = [header.join(','), ...rows.map((row) => header.map((column) => csvCell(row[column])).join(','))];
  const path = join(dir, name);
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

export function writeNdjson(dir: string, name: string, rows: InputRow[]): string {
  const path = join(dir, name);
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
  return path;
}

/** Writes the result of a DuckDB query as a Parquet file, types and all. */
export async function writeParquet(dir: string, name: string, select: string): Promise<string> {
  const path = join(dir, name);
  const scratch = await Warehouse.open(':memory:');
  try {
    await scratch.run(`copy (${select}) to ${sqlString(path)} (format parquet)`);
  } finally {
    scratch.close();
  }
  return path;
}

export interface TestBuild {
  dir: string;
  db: string;
  result: BuildResult;
  rows: (sql: string) => Promise<Record<string, PlainValue>[]>;
}

export interface TestBuildOptions {
  /** paths (as --input gives them) or configured sources */
  inputs?: (string | SourceSpec)[];
  dir?: string;
  cycles?: Partial<CycleConfig>;
  integrations?: string;
  asOf?: string;
  priceBook?: string;
  prices?: PriceEntry[];
}

/** Builds into a database of its own (or `dir`'s) and returns a reader on it. */
export async function buildFacts(options: TestBuildOptions): Promise<TestBuild> {
  const dir = options.dir ?? tempDir();
  const db = join(dir, 'convbill.duckdb');
  const buildOptions: BuildOptions = {
    db,
    parquetDir: join(dir, 'convbill_parquet'),
    // a path alone is what --input names (loaded until forgotten); a spec is a configured source
    sources: (options.inputs ?? []).filter((input): input is SourceSpec => typeof input !== 'string'),
    inputs: (options.inputs ?? []).filter((input): input is string => typeof input === 'string'),
    integrations: options.integrations,
    cycles: {
      defaultRule: options.cycles?.defaultRule ?? { anchorDay: 1, timezone: 'UTC' },
      orgRules: options.cycles?.orgRules ?? {},
      calendar: options.cycles?.calendar,
    },
    asOf: options.asOf ?? '2030-01-01T00:00:00Z',
    priceBook: options.priceBook,
    prices: options.prices,
    // small builds: one DuckDB thread costs about a tenth less CPU, and CI runs a test file per core
    threads: 1,
  };
  const result = await build(buildOptions);
  return { dir, db, result, rows: (sql) => rows(db, sql) };
}

/** Rows of `sql` through the library's query (sandboxed), which may read files beside the database. */
export async function rows(db: string, sql: string): Promise<Record<string, PlainValue>[]> {
  const result = await query(db, sql, { allowedDirectories: [dirname(resolve(db))] });
  return result.rows.map((row) => Object.fromEntries(result.columns.map((column, i) => [column, row[i] ?? null])));
}

/**
 * Several queries' rows, each as `rows` gives them, from one sandboxed session:
 * opening a database costs more than a small query, and the step-by-step
 * tests compare a dozen marts after every step.
 */
export async function rowsEach<K extends string>(db: string, sqls: Record<K, string>): Promise<Record<K, Record<string, PlainValue>[]>> {
  const warehouse = await Warehouse.open(db, { readOnly: true, sandbox: { allowedDirectories: [dirname(resolve(db))] } });
  try {
    const result = {} as Record<K, Record<string, PlainValue>[]>;
    for (const [name, sql] of Object.entries(sqls) as [K, string][]) {
      const { columns, rows: cells } = await warehouse.userTable(sql);
      result[name] = cells.map((row) => Object.fromEntries(columns.map((column, i) => [column, plainValue(row[i] ?? null)])));
    }
    return result;
  } finally {
    warehouse.close();
  }
}

/** Conversations per cycle_id of one org, every cycle of the org included, in order. */
export async function conversationsByCycle(build: TestBuild, org = 'default'): Promise<Record<string, number>> {
  const counts = await build.rows(
    `select c.cycle_id, coalesce(sum(f.conversations), 0)::integer as n
     from dim_billing_cycles c
     left join fct_conversation_counts f on f.org_id = c.org_id and f.cycle_start = c.cycle_start
     where c.org_id = ${sqlString(org)} group by c.cycle_id, c.cycle_start order by c.cycle_start`,
  );
  return Object.fromEntries(counts.map((row) => [row.cycle_id as string, row.n as number]));
}
