/**
 * `npm run bench:agreement -- [--rows 10000000] [--work DIR] [--cluster convbill_2shards] [--keep]`
 *
 * Do DuckDB and ClickHouse bill the same? Builds the bench's dataset of N
 * rows (bench/generate.ts, made once per size under DIR/data and shared with
 * `npm run bench`) with convbill on DuckDB and with convbill on the ClickHouse
 * cluster (bench/clickhouse.ts: CONVBILL_BENCH_CLICKHOUSE_URL), each in a
 * process of its own, then prints each one's conversation total and an md5 of
 * its sorted detail:
 *   org_id|cycle_id|epoch_ms(cycle_start)|integration_id|platform|customer_account_id|interaction_count|epoch_ms(first_activity_at)|epoch_ms(last_activity_at)
 * joined by ',' in order of org_id, cycle_start, integration_id,
 * customer_account_id. Exits 1 when they differ, 2 when no cluster answers.
 * The ClickHouse database is dropped at the end unless --keep.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { publishedPathOf } from '../src/config/warehouse-paths.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { clickhouseTarget, clickhouseUnavailable, dropDatabase, query } from './clickhouse.js';
import type { ContenderResult } from './contenders.js';
import { AS_OF, benchDataset } from './generate.js';
import { runContender } from './spawn.js';

const DUCKDB_DETAIL = `
select count(*) as detail_rows,
    md5(string_agg(
        concat_ws('|', org_id, cycle_id, epoch_ms(cycle_start), integration_id, platform, customer_account_id,
            interaction_count, epoch_ms(first_activity_at), epoch_ms(last_activity_at)),
        ',' order by org_id, cycle_start, integration_id, customer_account_id)) as md5
from fct_billable_conversations`;

/**
 * The same string per row; the instants are epoch milliseconds already. The
 * joined detail is held whole (about 1 GB at 10M rows, past the test
 * cluster's 4 GB per query with the arrays), so the check, not the build, is
 * allowed more: max_memory_usage as a URL parameter (18.16 does not apply a
 * SETTINGS clause's memory limit to the query's tracker).
 */
const CLICKHOUSE_DETAIL = `
select count() as detail_rows, lower(hex(MD5(arrayStringConcat(groupArray(s), ',')))) as md5
from (
    select concat(org_id, '|', cycle_id, '|', toString(cycle_start), '|', integration_id, '|', platform, '|', customer_account_id, '|',
        toString(interaction_count), '|', toString(first_activity_at), '|', toString(last_activity_at)) as s
    from fct_billable_conversations
    order by org_id, cycle_start, integration_id, customer_account_id
)
format TSV`;

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '10000000' },
    work: { type: 'string', default: resolve('bench/out') },
    cluster: { type: 'string', default: 'convbill_2shards' },
    keep: { type: 'boolean', default: false },
  },
});
const rows = Number(values.rows);
const work = resolve(values.work as string);
const cluster = values.cluster as string;

const unavailable = await clickhouseUnavailable(cluster);
if (unavailable) {
  process.stderr.write(`bench:agreement: ${unavailable}\n`);
  process.exit(2);
}
const input = await benchDataset(work, rows);

interface Side {
  engine: string;
  build: ContenderResult;
  detailRows: number;
  md5: string;
  checkSeconds: number;
}

async function timedCheck<T>(work: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const started = performance.now();
  const value = await work();
  return { value, seconds: (performance.now() - started) / 1000 };
}

process.stderr.write(`DuckDB: building ${rows} rows\n`);
const duckWork = join(work, 'agreement', 'duckdb');
const duckBuild = runContender('convbill', { input, asOf: AS_OF, work: duckWork }, 'convbill on DuckDB');
const duckCheck = await timedCheck(async () => {
  const published = await Warehouse.open(publishedPathOf(join(duckWork, 'convbill.duckdb')), { readOnly: true });
  try {
    const [row] = await published.rows<{ detail_rows: bigint; md5: string }>(DUCKDB_DETAIL);
    return { detailRows: Number(row?.detail_rows), md5: String(row?.md5) };
  } finally {
    published.close();
  }
});

process.stderr.write(`ClickHouse (${cluster}): building ${rows} rows\n`);
const target = clickhouseTarget(cluster, `convbill_bench_${cluster.replace(/\W/g, '_')}`);
const chBuild = runContender(
  'clickhouse',
  { input, asOf: AS_OF, work: join(work, 'agreement', 'clickhouse'), clickhouseCluster: cluster, keepDatabase: true },
  `convbill on ClickHouse (${cluster})`,
);
const chCheck = await timedCheck(async () => {
  const [detailRows, md5] = (await query(`${target.url}/?database=${target.database}&max_memory_usage=16000000000`, target, CLICKHOUSE_DETAIL)).trim().split('\t');
  return { detailRows: Number(detailRows), md5: String(md5) };
});
if (!values.keep) await dropDatabase(target);

const sides: Side[] = [
  { engine: 'DuckDB', build: duckBuild, ...duckCheck.value, checkSeconds: duckCheck.seconds },
  { engine: `ClickHouse (${cluster})`, build: chBuild, ...chCheck.value, checkSeconds: chCheck.seconds },
];
const agree =
  sides.every((side) => side.md5 === sides[0]?.md5) &&
  sides.every((side) => side.build.conversations === sides[0]?.build.conversations && side.detailRows === side.build.conversations);
const gib = (kb: number) => `${(kb / 1024 / 1024).toFixed(2)} GiB`;
process.stdout.write(
  [
    `Agreement: ${rows.toLocaleString('en')} rows (${input}), as of ${AS_OF}`,
    '',
    '| engine | build seconds | node peak RSS | conversations (counts) | detail rows | md5 of the sorted detail | md5 query seconds |',
    '|---|---:|---:|---:|---:|---|---:|',
    ...sides.map(
      (side) =>
        `| ${side.engine} | ${side.build.seconds.toFixed(2)} | ${gib(side.build.maxRssKb)} | ${side.build.conversations.toLocaleString('en')} | ${side.detailRows.toLocaleString('en')} | ${side.md5} | ${side.checkSeconds.toFixed(2)} |`,
    ),
    '',
    agree ? 'The engines agree: the same total and the same detail, row for row.' : 'MISMATCH: the engines disagree (see the totals and md5s above).',
    `ClickHouse build's phases: ${Object.entries(chBuild.phases ?? {})
      .map(([name, seconds]) => `${name.replace(/^phase: /, '')} ${seconds.toFixed(2)} s`)
      .join(', ')}; servers' peak RSS ${chBuild.servers?.peakRssKb === undefined ? '–' : gib(chBuild.servers.peakRssKb)}, peak MemoryTracking ${gib(chBuild.servers?.peakTrackedKb ?? 0)} (summed over the shards).`,
    '',
  ].join('\n'),
);
if (!agree) process.exitCode = 1;
