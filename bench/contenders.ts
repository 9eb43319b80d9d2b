/**
 * One benchmark contender per process, so each has its own peak memory:
 *   node dist/bench/contenders.js <name> '<json args>'
 * prints one JSON line: seconds (and phases), conversation total, peak RSS.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from '../src/build.js';
import { Warehouse } from '../src/warehouse.js';
import { naiveCount } from './naive.js';
import { orgRulesConfig, orgRulesValues } from './orgs.js';
import { postgresCount } from './postgres.js';
import { benchSql } from './sql-template.js';

export interface ContenderArgs {
  input: string;
  asOf: string;
  work: string;
  memoryLimit?: string;
  threads?: number;
}

export interface ContenderResult {
  seconds: number;
  phases?: Record<string, number>;
  conversations: number;
  maxRssKb: number;
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

async function convbill(args: ContenderArgs): Promise<Omit<ContenderResult, 'maxRssKb'>> {
  rmSync(args.work, { recursive: true, force: true });
  mkdirSync(args.work, { recursive: true });
  const db = join(args.work, 'convbill.duckdb');
  const { seconds, value } = await timed(() =>
    build({
      db,
      parquetDir: join(args.work, 'parquet'),
      sources: [{ path: args.input, timezone: 'UTC', columns: {} }],
      cycles: {
        defaultRule: { anchorDay: 1, timezone: 'UTC' },
        orgRules: Object.fromEntries(
          Object.entries(orgRulesConfig()).map(([org, rule]) => [org, { anchorDay: rule.anchor_day, timezone: rule.timezone }]),
        ),
      },
      asOf: args.asOf,
      memoryLimit: args.memoryLimit,
      threads: args.threads,
    }),
  );
  const conversations = value.summary.conversations.reduce((sum, cycle) => sum + cycle.conversations, 0);
  const phases = Object.fromEntries(value.timings.map((timing) => [timing.name, timing.seconds]));
  return { seconds, phases, conversations };
}

const CONTENDERS: Record<string, (args: ContenderArgs) => Promise<Omit<ContenderResult, 'maxRssKb'>>> = {
  convbill,
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
