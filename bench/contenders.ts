/**
 * One benchmark contender per process, so each has its own peak memory:
 *   node dist/bench/contenders.js <name> '<json args>'
 * prints one JSON line: seconds (and phases), conversation total, peak RSS.
 */
import { closeSync, cpSync, fsyncSync, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { RunLog } from '../src/engine/log.js';
import { type ServerMemoryReport, ServerMemory, clickhouseTarget, dropDatabase } from './clickhouse.js';
import { clickhouseNode, clickhouseNodeInput } from './clickhouse-node.js';
import { naiveCount } from './naive.js';
import { orgRulesConfig, orgRulesValues } from './orgs.js';
import { postgresCount } from './postgres.js';
import { benchSql } from './sql-template.js';

export interface ContenderArgs {
  input: string;
  /** one more day of rows after the history in `input` */
  day?: string;
  asOf: string;
  work: string;
  /** nightly: the warehouse (built from `input` alone) the increment starts from; clickhouse-node: its TSV input */
  base?: string;
  memoryLimit?: string;
  threads?: number;
  /** clickhouse: the cluster (system.clusters) the build runs on */
  clickhouseCluster?: string;
  /** clickhouse: leave the run's database on the cluster (bench/agreement.ts reads it) */
  keepDatabase?: boolean;
}

export interface ContenderResult {
  seconds: number;
  phases?: Record<string, number>;
  conversations: number;
  /** this process's peak RSS, plus a PostgreSQL server's (serverRssKb); a ClickHouse server's is in `servers` */
  maxRssKb: number;
  /** ClickHouse: the servers' memory during the build (bench/clickhouse.ts) */
  servers?: ServerMemoryReport;
  /** ClickHouse: seconds of each shard-local model */
  models?: Record<string, number>;
  /** convbill builds: the partitions the build rebuilt (its plan.partitionsRebuilt) */
  partitionsRebuilt?: number;
}

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const started = performance.now();
  const value = await work();
  return { seconds: (performance.now() - started) / 1000, value };
}

async function floor(file: 'floor-bare.sql' | 'floor-spec.sql', args: ContenderArgs): Promise<Omit<ContenderResult, 'maxRssKb'>> {
  rmSync(args.work, { recursive: true, force: true });
  mkdirSync(args.work, { recursive: true });
  const spec = file === 'floor-spec.sql';
  const warehouse = await Warehouse.open(spec ? join(args.work, 'floor.duckdb') : ':memory:');
  try {
    const { seconds } = await timed(async () => {
      await warehouse.run(benchSql('cycles.sql', { org_rules: orgRulesValues() }));
      await warehouse.run(benchSql(file, { path: args.input, as_of: args.asOf, out: args.work }));
    });
    const conversations = spec
      ? await warehouse.value<bigint>(`select sum(conversations) from fct_conversation_counts`)
      : await warehouse.value<bigint>(`select sum(conversations) from '${join(args.work, 'counts.parquet')}'`);
    return { seconds, conversations: Number(conversations) };
  } finally {
    warehouse.close();
  }
}

const cycleConfig = () => ({
  defaultRule: { anchorDay: 1, timezone: 'UTC' },
  orgRules: Object.fromEntries(
    Object.entries(orgRulesConfig()).map(([org, rule]) => [org, { anchorDay: rule.anchor_day, timezone: rule.timezone }]),
  ),
});

/** A build into `work` of `inputs`; a nightly increment when `work` already holds a warehouse. */
async function convbillBuild(
  args: ContenderArgs,
  inputs: string[],
  engine: Pick<BuildOptions, 'engine' | 'clickhouse'> = {},
  log?: RunLog,
): Promise<Omit<ContenderResult, 'maxRssKb'>> {
  const { seconds, value } = await timed(() =>
    build({
      ...engine,
      db: join(args.work, 'convbill.duckdb'),
      parquetDir: join(args.work, 'parquet'),
      sources: inputs.map((path) => ({ path, timezone: 'UTC', columns: {} })),
      cycles: cycleConfig(),
      asOf: args.asOf,
      memoryLimit: args.memoryLimit,
      threads: args.threads,
    }, log),
  );
  const conversations = value.summary.conversations.reduce((sum, cycle) => sum + cycle.conversations, 0);
  const phases = Object.fromEntries(value.timings.map((timing) => [timing.name, timing.seconds]));
  return { seconds, phases, conversations, partitionsRebuilt: value.plan.partitionsRebuilt };
}

function freshDirectory(path: string): void {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
}

/** Full build of the history (and the extra day, when given). */
async function convbill(args: ContenderArgs): Promise<Omit<ContenderResult, 'maxRssKb'>> {
  freshDirectory(args.work);
  return convbillBuild(args, args.day ? [args.input, args.day] : [args.input]);
}

function syncTree(folder: string): void {
  for (const entry of readdirSync(folder, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const descriptor = openSync(join(entry.parentPath, entry.name), 'r');
    try {
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
  }
}

/**
 * A nightly build on a copy of the history's warehouse (the copy is not
 * timed): with `day`, one more day of rows; without, the history alone again
 * (at the history's as-of, or a later one).
 */
async function nightly(args: ContenderArgs): Promise<Omit<ContenderResult, 'maxRssKb'>> {
  if (!args.base) throw new Error('nightly needs base');
  freshDirectory(args.work);
  cpSync(args.base, args.work, { recursive: true, verbatimSymlinks: true });
  // A nightly job finds its warehouse on disk, not half a gigabyte of
  // copied pages still in the page cache: the build's first commit would
  // wait for them to be written back (up to 1.5 s measured) and bill the copy to the night.
  syncTree(args.work);
  // the sources are what counts now: the history stays named, and its files
  // are unchanged, so the build stages the new day alone (or nothing)
  return convbillBuild(args, args.day ? [args.input, args.day] : [args.input]);
}

/**
 * convbill's full build with engine clickhouse on `clickhouseCluster`, into a
 * database dropped on every server first (and after, unless kept). The
 * working DuckDB file is fresh too. The servers' memory is watched meanwhile.
 */
async function clickhouse(args: ContenderArgs): Promise<Omit<ContenderResult, 'maxRssKb'>> {
  if (!args.clickhouseCluster) throw new Error('clickhouse needs clickhouseCluster');
  const target = clickhouseTarget(args.clickhouseCluster, `convbill_bench_${args.clickhouseCluster.replace(/\W/g, '_')}`);
  freshDirectory(args.work);
  await dropDatabase(target);
  const models: Record<string, number> = {};
  const log = new RunLog({
    format: 'json',
    interactive: false,
    quiet: true,
    write: (line) => {
      const event = JSON.parse(line) as { event: string; model?: string; seconds?: number };
      if (event.event === 'model' && event.model) models[event.model] = event.seconds ?? 0;
    },
  });
  const memory = await ServerMemory.start(target);
  const built = await convbillBuild(args, args.day ? [args.input, args.day] : [args.input], { engine: 'clickhouse', clickhouse: target }, log).catch(
    (error: unknown) => error as Error,
  );
  const servers = await memory.stop();
  if (built instanceof Error) throw built;
  if (!args.keepDatabase) await dropDatabase(target);
  return { ...built, servers, models };
}

const CONTENDERS: Record<string, (args: ContenderArgs) => Promise<Omit<ContenderResult, 'maxRssKb'>>> = {
  convbill,
  nightly,
  clickhouse,
  'clickhouse-node': clickhouseNode,
  'clickhouse-node-input': clickhouseNodeInput,
  'floor-bare': (args) => floor('floor-bare.sql', args),
  'floor-spec': (args) => floor('floor-spec.sql', args),
  naive: naiveCount,
  postgres: postgresCount,
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const [name, json] = process.argv.slice(2);
  const run = CONTENDERS[name ?? ''];
  if (!run || !json) throw new Error(`usage: contenders.js <${Object.keys(CONTENDERS).join('|')}> '<json args>'`);
  const { serverRssKb = 0, ...result } = (await run(JSON.parse(json) as ContenderArgs)) as ContenderResult & { serverRssKb?: number };
  // A database server's memory counts too: PostgreSQL reports its own.
  const maxRssKb = process.resourceUsage().maxRSS + serverRssKb;
  process.stdout.write(`${JSON.stringify({ ...result, maxRssKb })}\n`);
}
