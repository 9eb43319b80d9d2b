/**
 * One build, on DuckDB or on ClickHouse, read back into one engine-free shape
 * (instants as epoch milliseconds, 64-bit integers as numbers), so a test can
 * hold both engines to the same expected values and to each other.
 *
 * A ClickHouse build still has a working DuckDB file (the loader and the run
 * history): each target gets its own temporary folder and its own ClickHouse
 * database, `t_<pid>_<counter>`, dropped from every shard after the file's tests.
 */
import { basename, join } from 'node:path';
import { createClient } from '@clickhouse/client';
import { afterAll } from 'vitest';
import { build, type BuildResult } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import type { SourceSpec } from '../src/ingest/ingest.js';
import type { CycleConfig } from '../src/reference/cycles.js';
import type { ClickHouseTarget } from './clickhouse-target.js';
import { rows as duckRows, tempDir } from './helpers.js';

export type EngineName = 'duckdb' | 'clickhouse';
export const ENGINES: EngineName[] = ['duckdb', 'clickhouse'];

export interface DetailRow {
  org_id: string;
  cycle_id: string;
  cycle_start: number;
  cycle_end: number | null;
  integration_id: string;
  platform: string;
  customer_account_id: string;
  interaction_count: number;
  first_activity_at: number;
  last_activity_at: number;
}

export interface CycleRow {
  org_id: string;
  cycle_id: string;
  cycle_start: number;
  cycle_end: number | null;
}

export interface RejectedRow {
  source_file: string;
  source_row: number;
  reason: string;
  /** null for a malformed_row */
  org_id: string | null;
  integration_id: string | null;
  interaction_key: string | null;
  /** the row as read, JSON text */
  raw: string;
}

export interface EngineFacts {
  /** conversations per `org/cycle_id`, every cycle of dim_billing_cycles included (0 when none) */
  counts: Record<string, number>;
  /** rejected rows per reason */
  rejects: Record<string, number>;
  /** fct_billable_conversations, sorted */
  detail: DetailRow[];
  /** fct_conversation_counts, sorted */
  countRows: (Omit<DetailRow, 'customer_account_id' | 'interaction_count' | 'first_activity_at' | 'last_activity_at'> & { conversations: number })[];
  /** dim_billing_cycles, sorted */
  cycles: CycleRow[];
  /** rejected_interactions as (file basename, row, reason), sorted */
  rejected: RejectedRow[];
}

export interface EngineBuildOptions {
  inputs?: (string | SourceSpec)[];
  cycles?: Partial<CycleConfig>;
  integrations?: string;
  asOf: string;
  fullRefresh?: boolean;
}

export interface EngineTarget {
  engine: EngineName;
  dir: string;
  db: string;
  /** set for ClickHouse */
  clickhouse?: ClickHouseTarget & { cluster: string; database: string };
}

let databases = 0;
const created: { target: ClickHouseTarget; database: string }[] = [];

afterAll(async () => {
  for (const { target, database } of created.splice(0)) await dropEverywhere(target, database);
});

/** The database on every node the server knows in system.clusters, at the URL's port. */
export async function dropEverywhere(target: ClickHouseTarget, database: string): Promise<void> {
  const url = new URL(target.url);
  const entry = createClient({ url: target.url, username: target.user, password: target.password });
  try {
    const hosts = await (
      await entry.query({ query: 'select distinct host_address from system.clusters', format: 'JSONEachRow' })
    ).json<{ host_address: string }>();
    for (const host of new Set([url.hostname, ...hosts.map((h) => h.host_address)])) {
      const client = createClient({ url: `${url.protocol}//${host}:${url.port || '8123'}`, username: target.user, password: target.password });
      try {
        await client.command({ query: `drop database if exists ${database}` });
      } finally {
        await client.close();
      }
    }
  } finally {
    await entry.close();
  }
}

/** Rows of `table` on each shard of the target's cluster, by shard number. */
export async function rowsPerShard(target: EngineTarget, table: string): Promise<number[]> {
  if (!target.clickhouse) throw new Error('rowsPerShard reads a ClickHouse target');
  const { url, user, password, cluster, database } = target.clickhouse;
  const entry = createClient({ url, username: user, password });
  try {
    const shards = await (
      await entry.query({
        query: `select shard_num, any(host_address) as host from system.clusters where cluster = '${cluster}' group by shard_num order by shard_num`,
        format: 'JSONEachRow',
      })
    ).json<{ shard_num: number; host: string }>();
    const port = new URL(url).port || '8123';
    return Promise.all(
      shards.map(async (shard) => {
        const client = createClient({ url: `${new URL(url).protocol}//${shard.host}:${port}`, username: user, password, database });
        try {
          const [row] = await (await client.query({ query: `select count() as n from ${table}`, format: 'JSONEachRow' })).json<{ n: string }>();
          return Number(row?.n);
        } finally {
          await client.close();
        }
      }),
    );
  } finally {
    await entry.close();
  }
}

/** A fresh place to build: a temp folder, and on ClickHouse a database of its own on `cluster`. */
export function newTarget(engine: EngineName, clickhouse?: ClickHouseTarget | null, cluster = 'convbill_2shards'): EngineTarget {
  const dir = tempDir(`convbill-${engine}-`);
  const db = join(dir, 'convbill.duckdb');
  if (engine === 'duckdb') return { engine, dir, db };
  if (!clickhouse) throw new Error('a ClickHouse target needs CONVBILL_TEST_CLICKHOUSE_URL');
  const database = `t_${process.pid}_${++databases}`;
  created.push({ target: clickhouse, database });
  return { engine, dir, db, clickhouse: { ...clickhouse, cluster, database } };
}

export async function buildOn(target: EngineTarget, options: EngineBuildOptions): Promise<BuildResult> {
  const inputs = options.inputs ?? [];
  const buildOptions: BuildOptions = {
    db: target.db,
    parquetDir: join(target.dir, 'convbill_parquet'),
    sources: inputs.filter((input): input is SourceSpec => typeof input !== 'string'),
    inputs: inputs.filter((input): input is string => typeof input === 'string'),
    integrations: options.integrations,
    cycles: {
      defaultRule: options.cycles?.defaultRule ?? { anchorDay: 1, timezone: 'UTC' },
      orgRules: options.cycles?.orgRules ?? {},
      calendar: options.cycles?.calendar,
    },
    asOf: options.asOf,
    fullRefresh: options.fullRefresh,
  };
  if (target.clickhouse) {
    const { url, cluster, database, user, password } = target.clickhouse;
    return build({ ...buildOptions, engine: 'clickhouse', clickhouse: { url, cluster, database, user, password } });
  }
  return build(buildOptions);
}

type Raw = Record<string, unknown>;

const num = (value: unknown): number => {
  const n = Number(value);
  if (value === null || value === undefined || !Number.isFinite(n)) throw new Error(`not a number: ${String(value)}`);
  return n;
};
const textOrNull = (value: unknown): string | null => (value === null || value === undefined ? null : String(value));
const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : num(value));

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const [x, y] = [a[i], b[i]];
    if (x === y) continue;
    if (x === null || x === undefined) return -1;
    if (y === null || y === undefined) return 1;
    return (x as number | string) < (y as number | string) ? -1 : 1;
  }
  return 0;
}

export function sortBy<T>(items: T[], key: (item: T) => unknown[]): T[] {
  return items.map((item) => [key(item), item] as const).sort((a, b) => compareKeys(a[0], b[0])).map(([, item]) => item);
}

/** The readers' tables, as plain rows with epoch-millisecond instants. */
async function readTables(target: EngineTarget): Promise<{ detail: Raw[]; counts: Raw[]; cycles: Raw[]; rejected: Raw[] }> {
  const detailColumns = 'org_id, cycle_id, integration_id, platform, customer_account_id, interaction_count';
  if (target.clickhouse) {
    const { url, user, password, database } = target.clickhouse;
    const client = createClient({ url, username: user, password, database, compression: { request: false, response: false } });
    const q = async (query: string) => (await client.query({ query, format: 'JSONEachRow' })).json<Raw>();
    try {
      return {
        detail: await q(`select ${detailColumns}, cycle_start, cycle_end, first_activity_at, last_activity_at from fct_billable_conversations`),
        counts: await q(`select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, conversations from fct_conversation_counts`),
        cycles: await q(`select org_id, cycle_id, cycle_start, cycle_end from dim_billing_cycles`),
        rejected: await q(`select source_file, source_row, reason, org_id, integration_id, interaction_key, raw from rejected_interactions`),
      };
    } finally {
      await client.close();
    }
  }
  const q = (sql: string) => duckRows(target.db, sql);
  return {
    detail: await q(
      `select ${detailColumns}, epoch_ms(cycle_start) as cycle_start, epoch_ms(cycle_end) as cycle_end,
         epoch_ms(first_activity_at) as first_activity_at, epoch_ms(last_activity_at) as last_activity_at
       from fct_billable_conversations`,
    ),
    counts: await q(
      `select org_id, cycle_id, epoch_ms(cycle_start) as cycle_start, epoch_ms(cycle_end) as cycle_end, integration_id, platform, conversations
       from fct_conversation_counts`,
    ),
    cycles: await q(`select org_id, cycle_id, epoch_ms(cycle_start) as cycle_start, epoch_ms(cycle_end) as cycle_end from dim_billing_cycles`),
    rejected: await q(`select source_file, source_row, reason, org_id, integration_id, interaction_key, raw from rejected_interactions`),
  };
}

/** the detail's sort key: its grain */
export const detailKey = (row: DetailRow): unknown[] => [row.org_id, row.cycle_start, row.integration_id, row.customer_account_id];

export async function readFacts(target: EngineTarget): Promise<EngineFacts> {
  const tables = await readTables(target);
  const detail = sortBy(
    tables.detail.map(
      (row): DetailRow => ({
        org_id: String(row.org_id),
        cycle_id: String(row.cycle_id),
        cycle_start: num(row.cycle_start),
        cycle_end: numOrNull(row.cycle_end),
        integration_id: String(row.integration_id),
        platform: String(row.platform),
        customer_account_id: String(row.customer_account_id),
        interaction_count: num(row.interaction_count),
        first_activity_at: num(row.first_activity_at),
        last_activity_at: num(row.last_activity_at),
      }),
    ),
    detailKey,
  );
  const countRows = sortBy(
    tables.counts.map((row) => ({
      org_id: String(row.org_id),
      cycle_id: String(row.cycle_id),
      cycle_start: num(row.cycle_start),
      cycle_end: numOrNull(row.cycle_end),
      integration_id: String(row.integration_id),
      platform: String(row.platform),
      conversations: num(row.conversations),
    })),
    (row) => [row.org_id, row.cycle_start, row.integration_id],
  );
  const cycles = sortBy(
    tables.cycles.map((row): CycleRow => ({ org_id: String(row.org_id), cycle_id: String(row.cycle_id), cycle_start: num(row.cycle_start), cycle_end: numOrNull(row.cycle_end) })),
    (row) => [row.org_id, row.cycle_start],
  );
  const rejected = sortBy(
    tables.rejected.map(
      (row): RejectedRow => ({
        source_file: basename(String(row.source_file)),
        source_row: num(row.source_row),
        reason: String(row.reason),
        org_id: textOrNull(row.org_id),
        integration_id: textOrNull(row.integration_id),
        interaction_key: textOrNull(row.interaction_key),
        raw: String(row.raw),
      }),
    ),
    (row) => [row.source_file, row.source_row, row.reason],
  );

  const counts: Record<string, number> = {};
  for (const cycle of cycles) counts[`${cycle.org_id}/${cycle.cycle_id}`] = 0;
  for (const row of countRows) {
    const key = `${row.org_id}/${row.cycle_id}`;
    counts[key] = (counts[key] ?? 0) + row.conversations;
  }
  const rejects: Record<string, number> = {};
  for (const row of rejected) rejects[row.reason] = (rejects[row.reason] ?? 0) + 1;
  return { counts, rejects, detail, countRows, cycles, rejected };
}

/** Build on a fresh target and read the facts back. */
export async function engineFacts(
  engine: EngineName,
  options: EngineBuildOptions,
  clickhouse?: ClickHouseTarget | null,
  cluster?: string,
): Promise<EngineFacts & { result: BuildResult; target: EngineTarget }> {
  const target = newTarget(engine, clickhouse, cluster);
  const result = await buildOn(target, options);
  return { ...(await readFacts(target)), result, target };
}
