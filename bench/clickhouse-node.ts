/**
 * The single-node ClickHouse contender (`clickhouse-node`): hand-written
 * ClickHouse 18.16 SQL (bench/clickhouse-node.sql) on the one server at
 * CONVBILL_BENCH_CLICKHOUSE_URL, no convbill code and no Distributed tables.
 *
 * ClickHouse 18.16 cannot read Parquet, so an untimed step first
 * (`clickhouseNodeInput`, in a process of its own like every contender) has
 * DuckDB write the generated rows and bench/cycles.sql's cycles as TSV, with
 * instants as Int64 epoch milliseconds. The timed run then creates the
 * database and tables and ships the cycles (`setup`), streams the rows' file
 * over HTTP into a MergeTree table (`load`), and merges, expands to cycles
 * and counts (`count`, itself `count: merge`, `count: detail` and
 * `count: counts`), letting GROUP BY spill past half the server's memory cap
 * as convbill's ClickHouse build does. The database is dropped before the run and after it.
 * The server's memory is watched as for the other ClickHouse contenders.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import type { ClickHouseSettings } from '../src/config/build-options.js';
import { ServerMemory, type ServerMemoryReport, clickhouseTarget, insertFile, query } from './clickhouse.js';
import type { ContenderArgs } from './contenders.js';
import { orgRulesValues } from './orgs.js';
import { benchSql } from './sql-template.js';

const DATABASE = 'convbill_bench_node';

const rowsFile = (base: string) => join(base, 'rows.tsv');
const cyclesFile = (base: string) => join(base, 'cycles.tsv');

/** The untimed step: the rows and cycles as TSV under `args.work` (the node run's `base`). */
export async function clickhouseNodeInput(args: ContenderArgs): Promise<{ seconds: number; conversations: number }> {
  const started = performance.now();
  mkdirSync(args.work, { recursive: true });
  const warehouse = await Warehouse.open(':memory:');
  try {
    const tsv = `(format csv, delimiter '\t', header false, nullstr '\\N')`;
    await warehouse.run(benchSql('cycles.sql', { org_rules: orgRulesValues() }));
    await warehouse.run(
      `copy (select org_id, cycle_id, epoch_ms(cycle_start), epoch_ms(cycle_end) from bench_cycles order by all) to '${cyclesFile(args.work)}' ${tsv}`,
    );
    await warehouse.run(
      `copy (select org_id, integration_id, interaction_id, customer_account_id, epoch_ms(started_at), epoch_ms(ended_at) from read_parquet('${args.input}'))
       to '${rowsFile(args.work)}' ${tsv}`,
    );
  } finally {
    warehouse.close();
  }
  return { seconds: (performance.now() - started) / 1000, conversations: 0 };
}

/** bench/clickhouse-node.sql's statements by `-- @section`. */
function sections(values: Record<string, string | number>): Map<string, string[]> {
  const text = benchSql('clickhouse-node.sql', values);
  const result = new Map<string, string[]>();
  let current: string[] | undefined;
  let statement: string[] = [];
  for (const line of text.split('\n')) {
    const section = /^-- @(\w+)\s*$/.exec(line)?.[1];
    if (section) {
      current = [];
      result.set(section, current);
      continue;
    }
    if (!current || /^\s*--/.test(line) || (!line.trim() && statement.length === 0)) continue;
    statement.push(line);
    if (/;\s*$/.test(line)) {
      current.push(statement.join('\n').replace(/;\s*$/, ''));
      statement = [];
    }
  }
  return result;
}

/**
 * The URL with the settings the heavy statements run under: as convbill's
 * ClickHouse build does (src/engine/clickhouse/cluster.ts), where the
 * server's profile caps a query's memory and sets no spill sizes, GROUP BY and
 * ORDER BY spill past half the cap instead of failing.
 */
async function spillingUrl(settings: ClickHouseSettings): Promise<string> {
  const text = await query(
    settings.url,
    settings,
    `select name, value from system.settings
     where name in ('max_memory_usage', 'max_bytes_before_external_group_by', 'max_bytes_before_external_sort') format TSV`,
  );
  const values = new Map(text.split('\n').filter(Boolean).map((line) => line.split('\t') as [string, string]));
  const cap = Number(values.get('max_memory_usage') ?? 0);
  const url = new URL(settings.url);
  if (cap > 0) {
    for (const name of ['max_bytes_before_external_group_by', 'max_bytes_before_external_sort']) {
      if (Number(values.get(name) ?? 0) === 0) url.searchParams.set(name, String(Math.floor(cap / 2)));
    }
  }
  return url.toString();
}

export async function clickhouseNode(
  args: ContenderArgs,
): Promise<{ seconds: number; phases: Record<string, number>; conversations: number; servers: ServerMemoryReport; serverRssKb: number }> {
  if (!args.base || !existsSync(rowsFile(args.base))) throw new Error('clickhouse-node needs base with rows.tsv (its untimed input step)');
  const settings = clickhouseTarget('', DATABASE);
  const run = (sql: string, url = settings.url) => query(url, settings, sql, 3_600_000);
  const heavy = await spillingUrl(settings);
  const statements = sections({ db: DATABASE, as_of: Date.parse(args.asOf) });
  const section = (name: string) => statements.get(name) ?? [];
  await run(`drop database if exists ${DATABASE}`);

  const phases: Record<string, number> = {};
  const timed = async (name: string, work: () => Promise<unknown>) => {
    const started = performance.now();
    await work();
    phases[name] = (performance.now() - started) / 1000;
  };
  const base = args.base;
  const memory = await ServerMemory.start(settings, [settings.url]);
  const ran = await (async () => {
    await timed('setup', async () => {
      for (const sql of section('setup')) await run(sql);
      await insertFile(settings.url, settings, `insert into ${DATABASE}.bench_cycles format TabSeparated`, cyclesFile(base));
    });
    await timed('load', () => insertFile(settings.url, settings, `insert into ${DATABASE}.raw_rows format TabSeparated`, rowsFile(base), 3_600_000));
    for (const step of ['merge', 'detail', 'counts']) {
      await timed(`count: ${step}`, async () => {
        for (const sql of section(step)) await run(sql, heavy);
      });
    }
  })().catch((error: unknown) => (error instanceof Error ? error : new Error(String(error))));
  const servers = await memory.stop();
  if (ran instanceof Error) throw ran;
  phases.count = (phases['count: merge'] ?? 0) + (phases['count: detail'] ?? 0) + (phases['count: counts'] ?? 0);
  const total = await run(`select sum(conversations) from ${DATABASE}.fct_conversation_counts format TSV`);
  if (!args.keepDatabase) await run(`drop database if exists ${DATABASE}`);
  return {
    seconds: (phases.setup ?? 0) + (phases.load ?? 0) + phases.count,
    phases,
    conversations: Number(total.trim()),
    servers,
    // the server's peak RSS (or, when its process cannot be inspected, its peak MemoryTracking)
    // is added to the node process's, as PostgreSQL's server is: the node process only sends the file
    serverRssKb: servers.peakRssKb ?? servers.peakTrackedKb,
  };
}
