/**
 * Killed at any point, nothing is lost; two builds at once, one runs; a
 * query during a build reads the published copy. Real processes, real
 * SIGKILL, a multi-million-row night (CONVBILL_KILL_ROWS, default 2,000,000
 * rows of the night's two files; the history is a tenth of that).
 *
 * A base history is built uninterrupted twice: in a reference warehouse and
 * in the one the builds are killed in (its readers' state P0). In the
 * reference, the night's build is started twice at once: one runs, and its
 * log times the phases the kill points are spread over. Then the night's
 * build is killed again and again, each run the recovery of the one before,
 * and after each kill readers must see P0 exactly. A last uninterrupted
 * build must give the reference's facts, row for row.
 */
import { appendFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate, HISTORY } from '../bench/generate.js';
import { orgRulesConfig } from '../bench/orgs.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';
import { EXPORTED_TABLES } from '../src/build/parquet-exports.js';
import {
  type Child, type KillPoint, type LogEvent, FACT_TABLES, convbillQuery, killBuild, leftovers, readerState, startBuild,
  tableHashes, workingState,
} from './kill-harness.js';
import { tempDir } from './helpers.js';

const NIGHT_ROWS = Number(process.env.CONVBILL_KILL_ROWS ?? 2_000_000);
const HISTORY_ROWS = Math.max(10_000, Math.round(NIGHT_ROWS / 10));
const BASE_AS_OF = '2026-01-01T00:00:00Z';
const NIGHT_AS_OF = '2026-01-02T00:00:00Z';
const COUNT = 'select count(*) from fct_conversation_counts';

const data = tempDir('convbill-kills-');
const files = {
  config: join(data, 'convbill.json'),
  history: join(data, 'history.parquet'),
  nightParquet: join(data, 'night.parquet'),
  nightCsv: join(data, 'night.csv'),
};
const baseArgs = (db: string) => ['--config', files.config, '--db', db, '--input', files.history, '--as-of', BASE_AS_OF];
const nightArgs = (db: string) => ['--config', files.config, '--db', db, '--input', files.nightParquet, '--input', files.nightCsv, '--as-of', NIGHT_AS_OF];

/**
 * The night: 60% of its rows as Parquet, 40% as CSV with text timestamps,
 * both from bench/generate.sql (20 orgs, 400 integrations, skewed repeat
 * accounts, 0.5% open, 0.5% duplicates, 0.1% without integration). The CSV
 * adds rows that end yesterday's open interactions, and rejects: bad and
 * backwards timestamps, accounts in conflict, starts after as-of, lines
 * that do not fit the header.
 */
async function writeInputs(): Promise<void> {
  writeFileSync(files.config, JSON.stringify({ orgs: orgRulesConfig() }));
  const parquetRows = Math.round(NIGHT_ROWS * 0.6);
  const csvRows = NIGHT_ROWS - parquetRows;
  // 'stale': 0.5% of rows open whatever their start, the generator's worst case
  const night = { start: '2026-01-01 00:00:00+00', days: 1, open: 'stale' as const };
  await generate(HISTORY_ROWS, files.history, 42, { ...HISTORY, open: 'stale' });
  await generate(parquetRows, files.nightParquet, 7, { ...night, first: 10_000_000 });
  const csvPart = join(data, 'night-csv-part.parquet');
  await generate(csvRows, csvPart, 8, { ...night, first: 20_000_000 });
  const text = (column: string) => `strftime(${column}, '%Y-%m-%dT%H:%M:%S.%gZ')`;
  const scratch = await Warehouse.open(':memory:');
  try {
    await scratch.run(
      `copy (
         with part as (select *, hash(interaction_id) % 10000 as h from read_parquet(${sqlString(csvPart)}))
         select org_id, integration_id, platform, interaction_id, customer_account_id,
                case when h < 10 then 'not a time' else ${text('started_at')} end as started_at,
                case when h between 10 and 14 and ended_at is not null then ${text('started_at - interval 1 hour')} else ${text('ended_at')} end as ended_at
         from part
         union all
         select org_id, integration_id, platform, interaction_id, customer_account_id || '-other', ${text('started_at')}, ${text('ended_at')}
         from part where h between 20 and 24 and integration_id is not null
         union all
         select org_id, integration_id, platform, 'late-' || interaction_id, customer_account_id, '2026-01-05T10:00:00Z', null
         from part where h between 30 and 31
         union all
         select org_id, integration_id, platform, interaction_id, customer_account_id, ${text('started_at')}, '2026-01-01T12:00:00.000Z'
         from read_parquet(${sqlString(files.history)}) where ended_at is null and integration_id is not null
       ) to ${sqlString(files.nightCsv)} (header)`,
    );
  } finally {
    scratch.close();
  }
  rmSync(csvPart);
  appendFileSync(files.nightCsv, 'org-01,int-01-01,sms\norg-01,int-01-01,sms,i-x,acct-1,2026-01-01T10:00:00Z,,extra\n');
}

async function succeeds(run: Child): Promise<LogEvent[]> {
  const exit = await run.exited;
  expect(run.errors(), 'stderr of a build that must succeed').toBe('');
  expect(exit.code).toBe(0);
  return run.events;
}

function untilEvent(run: Child, name: string): Promise<void> {
  const is = (event: LogEvent) => `${event.event}:${event.phase ?? ''}` === name;
  return new Promise((resolveSeen, reject) => {
    if (run.events.some(is)) resolveSeen();
    run.onEvent((event) => {
      if (is(event)) resolveSeen();
    });
    void run.exited.then(() => reject(new Error(`the build ended before ${name}`)));
  });
}

const elapsed: Record<string, number> = {};
const started = performance.now();
const lap = (name: string) => (elapsed[name] = Math.round((performance.now() - started) / 100) / 10);

const reference = { dir: tempDir('convbill-kills-reference-'), events: [] as LogEvent[] };
const referenceDb = join(reference.dir, 'convbill.duckdb');

beforeAll(async () => {
  await writeInputs();
  lap('inputs written');
}, 120_000);

describe('builds at once', () => {
  it('two builds started together: one runs, the other exits 1 at once naming the database and the PID; a query meanwhile reads the published copy', async () => {
    await succeeds(startBuild(reference.dir, baseArgs(referenceDb)));
    const queryArgs = [COUNT, '--db', referenceDb, '--format', 'csv'];
    const queryStarted = performance.now();
    const before = await convbillQuery(reference.dir, queryArgs);
    // how long the CLI takes to start, open a file and print on this machine now
    const queryMs = performance.now() - queryStarted;
    expect(before).toMatchObject({ status: 0, stderr: '' });

    const both = [startBuild(reference.dir, nightArgs(referenceDb)), startBuild(reference.dir, nightArgs(referenceDb))];
    // a query started with them starts a CLI and opens a file under the same load as the one that loses
    // (of the published copy, whose lock no build takes; the working file's could lock a build out)
    const alongsideStarted = performance.now();
    const alongside = convbillQuery(reference.dir, [COUNT, '--db', join(reference.dir, 'convbill_published.duckdb'), '--format', 'csv'])
      .then(() => performance.now() - alongsideStarted);
    const first = await Promise.race(both.map((run) => run.exited.then((exit) => ({ run, exit }))));
    const alongsideMs = await alongside;
    const loser = first.run;
    const winner = both.find((run) => run !== loser) as Child;
    expect(first.exit.code).toBe(1);
    const holder = String(winner.child.pid);
    expect(loser.errors()).toMatch(
      new RegExp(`^convbill: Database ${referenceDb.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is locked by another process \\(PID ${holder}, [^)\n]*\\), most likely a convbill build still running; nothing was changed, try again when it has finished\\.\n$`),
    );
    expect(loser.events, 'the second build did no work').toEqual([]);
    console.log(
      `kills: the second build exited 1 after ${Math.round(first.exit.ms)} ms (a query takes ${Math.round(queryMs)} ms here, ` +
        `${Math.round(alongsideMs)} ms started with the builds); the first holds the database (PID ${holder})`,
    );
    // at once: no longer than the CLI needs to start and open a file under the same load, give or take a busy machine
    expect(first.exit.ms).toBeLessThan(Math.max(2_000, queryMs, alongsideMs) + 1_500);

    // while the first builds, queries read the copy it has not replaced yet, and the one it has
    const publishing = untilEvent(winner, 'phase:publish').then(() => convbillQuery(reference.dir, queryArgs));
    await untilEvent(winner, 'phase:models');
    const during = await convbillQuery(reference.dir, queryArgs);
    expect({ status: during.status, stdout: during.stdout }).toEqual({ status: before.status, stdout: before.stdout });
    expect(during.stderr).toMatch(/is being written by another process; reading its published copy .*_published\.duckdb\.\n$/);
    expect(winner.events.some((event) => event.event === 'published'), 'the query ran during the build').toBe(false);
    reference.events = await succeeds(winner);
    const after = await convbillQuery(reference.dir, queryArgs);
    expect(after).toMatchObject({ status: 0, stderr: '' });
    const duringPublish = await publishing;
    expect(duringPublish.status).toBe(0);
    expect([before.stdout, after.stdout]).toContain(duringPublish.stdout);

    const runs = await Warehouse.open(referenceDb, { readOnly: true });
    try {
      expect(await runs.rows(`select run_id, status from convbill_runs order by run_id`)).toEqual([
        { run_id: 1, status: 'success' },
        { run_id: 2, status: 'success' },
      ]);
    } finally {
      runs.close();
    }
    lap('reference built, two at once');
  }, 300_000);
});

const percent = (fraction: number) => `${Math.round(fraction * 100)}%`;

/**
 * Spread over the night's build, in the order they come; each run is also
 * the recovery of the one before. Every kill before the commit costs the
 * build up to it again, so those are fewer the later they come (none in
 * the audits, which only read). The first
 * run past the commit is the last to stage the night: the runs after it
 * start from its committed facts and export and publish them.
 */
const KILLS: (KillPoint & { label: string })[] = [
  { label: 'at run_started', anchor: 'run_started', fraction: 0, expect: 'intact' },
  ...[0.02, 0.1, 0.3, 0.6, 0.85].map((fraction) => ({
    label: `ingest ${percent(fraction)}`, anchor: 'phase:ingest', until: 'file', fraction, deadline: 'phase:models', expect: 'intact' as const,
  })),
  { label: 'configuration 50%', anchor: 'phase:configuration', until: 'phase:models', fraction: 0.5, deadline: 'phase:models', expect: 'intact' },
  ...[0, 0.2, 0.4, 0.7].map((fraction) => ({
    label: `models ${percent(fraction)}`, anchor: 'phase:models', until: 'phase:audits', fraction, deadline: 'phase:commit', expect: 'intact' as const,
  })),
  // the checks and writes before the commit, then DuckDB's commit itself
  { label: 'commit 50%', anchor: 'phase:commit', until: 'phase:parquet export', fraction: 0.5, deadline: 'phase:parquet export', expect: 'intact' },
  ...[0, 0.15, 0.4, 0.7].map((fraction) => ({
    label: fraction === 0 ? 'right after commit' : `export ${percent(fraction)}`,
    anchor: 'phase:parquet export', until: 'phase:summary', fraction, deadline: 'phase:publish', expect: 'intact' as const,
  })),
  { label: 'summary', anchor: 'phase:summary', fraction: 0, expect: 'intact' },
  ...[0, 0.25].map((fraction) => ({
    label: `publish ${percent(fraction)}`, anchor: 'phase:publish', until: 'published', fraction, expect: 'intact' as const,
  })),
  { label: 'checkpoint, after publishing', anchor: 'phase:checkpoint', fraction: 0, expect: 'published' },
];

interface Row {
  point: string;
  hit: string;
  run: string;
  committed: string;
  outcome: string;
  leftovers: string;
}

describe('killed builds', () => {
  it(`a night's build killed at ${KILLS.length} points leaves the published copy and the export as they were; the next build gives the facts of an uninterrupted one`, async () => {
    expect(reference.events.length, 'the reference build ran (the test above)').toBeGreaterThan(0);
    const dir = tempDir('convbill-kills-chain-');
    const db = join(dir, 'convbill.duckdb');
    await succeeds(startBuild(dir, baseArgs(db)));
    const p0 = await readerState(dir);
    const published = await tableHashes(join(reference.dir, 'convbill_published.duckdb'), Object.keys(FACT_TABLES));
    lap('base built');

    const rows: Row[] = [];
    const runIds: (number | undefined)[] = [];
    const failures: string[] = [];
    for (const [index, point] of KILLS.entries()) {
      const kill = await killBuild(dir, nightArgs(db), point, reference.events);
      const state = await readerState(dir);
      const { committed, copies, named } = await workingState(dir);
      const orphans = copies.filter((copy) => !named.includes(copy));
      let outcome: string;
      if (point.expect === 'intact') {
        const same = JSON.stringify(state) === JSON.stringify(p0);
        outcome = same ? 'intact (P0)' : 'CHANGED';
        if (!same) failures.push(`#${index + 1} ${point.label}: ${JSON.stringify({ p0, state })}`);
      } else {
        const facts = Object.fromEntries(Object.keys(FACT_TABLES).map((table) => [table, state.tables[table]]));
        const same = JSON.stringify(facts) === JSON.stringify(published);
        outcome = same ? "the build's facts, whole" : 'NOT THE FACTS';
        if (!same) failures.push(`#${index + 1} ${point.label}: ${JSON.stringify({ published, facts })}`);
      }
      runIds.push(kill.runId);
      if (kill.killedMs === undefined && point.expect === 'intact') failures.push(`#${index + 1} ${point.label}: the build ended before the kill`);
      rows.push({
        point: `${index + 1}. ${point.label}${kill.why === 'deadline' ? ' (at its deadline)' : ''}`,
        hit: kill.killedMs === undefined ? 'ended before the kill' : `${kill.phase} (${(kill.killedMs / 1000).toFixed(2)} s)`,
        run: String(kill.runId ?? '-'),
        committed: committed === kill.runId ? 'yes' : 'no',
        outcome,
        leftovers: [...leftovers(dir), ...orphans.map((copy) => `raw store ${copy}`)].join(', ') || '-',
      });
    }
    lap('kills');

    const final = startBuild(dir, nightArgs(db));
    await succeeds(final);
    lap('final build');
    const finalRun = final.events[0]?.run_id as number;
    const working = await Warehouse.open(db, { readOnly: true });
    const statuses = Object.fromEntries(
      (await working.rows<{ run_id: number; status: string }>(`select run_id, status from convbill_runs`)).map((row) => [row.run_id, row.status]),
    );
    working.close();
    for (const row of rows) row.run = row.run === '-' ? row.run : `${row.run}: ${statuses[Number(row.run)]}`;
    console.log(`kills: ${NIGHT_ROWS.toLocaleString('en')} night rows, ${HISTORY_ROWS.toLocaleString('en')} history rows`);
    printTable(rows);

    expect(failures).toEqual([]);
    const expected = Object.fromEntries([
      [1, 'success'],
      ...KILLS.map((point, index) => [runIds[index], point.expect === 'intact' ? 'interrupted' : 'success']),
      [finalRun, 'success'],
    ]);
    expect(statuses).toEqual(expected);

    // nothing a killed build wrote is left: the export version replaced stays for readers still on it
    expect(leftovers(dir)).toEqual(['1 other export version(s)']);
    const store = await workingState(dir);
    expect(store.copies).toEqual(store.named);
    await expectSameFacts(dir, reference.dir);
    lap('compared');
    console.log(`kills: seconds since the test file started: ${JSON.stringify(elapsed)}`);
  }, 900_000);
});

/**
 * The published marts and the exports of two warehouses, row for row: the
 * rows one holds more times than the other, by a count up and down.
 */
async function expectSameFacts(dir: string, other: string): Promise<void> {
  const scratch = await Warehouse.open(':memory:');
  try {
    // the copies' detail views name their exports relative to the copies' folders (docs/nightly.md)
    await scratch.run(`set file_search_path = ${sqlString(`${dir},${other}`)}`);
    await scratch.run(`attach ${sqlString(join(dir, 'convbill_published.duckdb'))} as a (read_only)`);
    await scratch.run(`attach ${sqlString(join(other, 'convbill_published.duckdb'))} as b (read_only)`);
    const differences: Record<string, string> = {};
    const compare = async (name: string, left: string, right: string) => {
      const [row] = await scratch.rows<{ rows: bigint; differing: bigint }>(
        `select count(*) filter (where side = 1) as rows,
                (select count(*) from (
                    select * exclude (side), sum(side) as net from (select *, 1 as side from (${left}) union all select *, -1 from (${right}))
                    group by all having net <> 0)) as differing
         from (select 1 as side from (${left}))`,
      );
      differences[name] = `${row?.rows} rows, ${row?.differing} differing`;
    };
    for (const [table, columns] of Object.entries(FACT_TABLES)) {
      await compare(table, `select ${columns} from a.${table}`, `select ${columns} from b.${table}`);
    }
    // the published detail facts are a view over the export version the link names: compared above
    const [view] = await scratch.rows<{ sql: string }>(`select sql from duckdb_views() where database_name = 'a' and view_name = 'fct_billable_conversations'`);
    expect(view?.sql).toContain(`'${readlinkSync(join(dir, 'convbill_parquet'))}/fct_billable_conversations/`);
    const files = (root: string, table: string) => sqlString(join(root, 'convbill_parquet', table, '**', '*.parquet'));
    await compare('export fct_conversation_counts', `from read_parquet(${files(dir, 'fct_conversation_counts')}, hive_partitioning = true)`, `from read_parquet(${files(other, 'fct_conversation_counts')}, hive_partitioning = true)`);
    for (const table of Object.keys(EXPORTED_TABLES)) {
      const folders = (root: string) =>
        `select distinct regexp_extract(filename, 'org_id=[^/]*/cycle_id=[^/]*') as partition from read_parquet(${files(root, table)}, filename = true)`;
      await compare(`export ${table} partitions`, folders(dir), folders(other));
    }
    console.log(`kills: the facts against the reference's: ${JSON.stringify(differences)}`);
    for (const [name, difference] of Object.entries(differences)) expect(difference, name).toMatch(/^[1-9]\d* rows, 0 differing$/);
  } finally {
    scratch.close();
  }
}

function printTable(rows: Row[]): void {
  const header: Row = { point: 'kill point', hit: 'phase hit (since spawn)', run: 'run: status after', committed: 'committed', outcome: 'readers saw', leftovers: 'left beside' };
  const columns = Object.keys(header) as (keyof Row)[];
  const widths = columns.map((column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
  const line = (row: Row) => `| ${columns.map((column, i) => row[column].padEnd(widths[i] as number)).join(' | ')} |`;
  console.log([line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n'));
}
