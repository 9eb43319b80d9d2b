/**
 * Publishing on ClickHouse (docs/engines.md#publishing-partitions-and-the-run-manifest):
 * what readers see when a build fails or is killed between attaching its
 * partitions and writing its manifest row, idempotent rebuilds, and the
 * commands that cannot run there. A real 2-shard cluster (clickhouse-target.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createClient } from '@clickhouse/client';
import { afterAll, describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import { explain } from '../src/read/explain.js';
import { diffRuns } from '../src/read/diff.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { RunLog } from '../src/engine/log.js';
import { describeClickHouse } from './clickhouse-target.js';
import { type InputRow, mulberry32, tempDir, writeCsv } from './helpers.js';
import { startBuild } from './kill-harness.js';

const SHARD_URLS = (url: string) => [url, url.replace('127.0.0.1', '127.0.0.2')];
let counter = 0;

function interactions(seed: number, count: number, month: string): InputRow[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, (_, i) => {
    const start = Date.parse(`${month}-01T00:00:00Z`) + Math.floor(random() * 27 * 86_400_000);
    const open = random() < 0.05;
    return {
      interaction_id: `s${seed}-${i}`,
      org_id: random() < 0.5 ? 'acme' : 'globex',
      integration_id: `int-${Math.floor(random() * 6)}`,
      customer_account_id: `cust-${Math.floor(random() * 300)}`,
      started_at: new Date(start).toISOString(),
      ended_at: open ? null : new Date(start + Math.floor(random() * 5 * 86_400_000)).toISOString(),
    };
  });
}

describeClickHouse('ClickHouse: publishing by partition behind the run manifest', (target) => {
  const databases: string[] = [];
  const entry = createClient({ url: target.url, username: target.user, password: target.password });
  const dropAll = async () => {
    for (const url of SHARD_URLS(target.url)) {
      const shard = createClient({ url, username: target.user, password: target.password });
      for (const database of databases) await shard.command({ query: `drop database if exists ${database}` });
      await shard.close();
    }
  };
  afterAll(async () => {
    await dropAll();
    await entry.close();
  });

  function project(files: Record<string, InputRow[]>) {
    const dir = tempDir('convbill-ch-publish-');
    const database = `t_publish_${process.pid}_${(counter += 1)}`;
    databases.push(database);
    mkdirSync(join(dir, 'logs'));
    for (const [name, rows] of Object.entries(files)) writeCsv(join(dir, 'logs'), name, rows);
    const clickhouse = { url: target.url, cluster: 'convbill_2shards', database };
    writeFileSync(
      join(dir, 'convbill.json'),
      JSON.stringify({ db: 'out/convbill.duckdb', sources: ['logs/'], engine: 'clickhouse', clickhouse, orgs: { globex: { anchor_day: 15, timezone: 'Europe/Paris' } } }),
    );
    const options = (asOf: string): BuildOptions => ({
      db: join(dir, 'out', 'convbill.duckdb'),
      parquetDir: join(dir, 'out', 'parquet'),
      sources: [{ path: join(dir, 'logs'), timezone: 'UTC', columns: {}, key: 'sources[0]' }],
      cycles: { defaultRule: { anchorDay: 1, timezone: 'UTC' }, orgRules: { globex: { anchorDay: 15, timezone: 'Europe/Paris' } } },
      asOf,
      engine: 'clickhouse',
      clickhouse: { ...clickhouse, user: target.user, password: target.password },
    });
    return { dir, database, options };
  }

  /** What readers see: the detail's digest and the count total, through the readers' views. */
  async function seen(database: string): Promise<{ digest: string; total: number }> {
    const result = await entry.query({
      query: `select lower(hex(MD5(arrayStringConcat(groupArray(s), ',')))) as digest, count() as total from (
                select concat(org_id, '|', cycle_id, '|', integration_id, '|', customer_account_id, '|', toString(interaction_count), '|',
                              toString(first_activity_at), '|', toString(last_activity_at)) as s
                from ${database}.fct_billable_conversations order by s)`,
      format: 'JSONEachRow',
    });
    const [row] = await result.json<{ digest: string; total: string }>();
    const [counts] = await (
      await entry.query({ query: `select sum(conversations) as n from ${database}.fct_conversation_counts`, format: 'JSONEachRow' })
    ).json<{ n: string }>();
    expect(Number(counts?.n ?? 0)).toBe(Number(row?.total ?? 0));
    return { digest: row?.digest ?? '', total: Number(row?.total ?? 0) };
  }

  const throwingAt = (step: string) =>
    new RunLog({
      format: 'json',
      interactive: false,
      quiet: false,
      write: (text) => {
        if (text.includes('"event":"publish_step"') && text.includes(`"step":"${step}"`)) throw new Error(`the log sink failed at ${step}`);
      },
    });

  it('a build that fails after attaching its partitions, before its manifest row, leaves readers the previous facts, and the next build recovers', async () => {
    const { dir, database, options } = project({ 'a.csv': interactions(1, 3000, '2026-01') });
    await build(options('2026-02-10T00:00:00Z'));
    const before = await seen(database);
    expect(before.total).toBeGreaterThan(500);
    writeCsv(join(dir, 'logs'), 'b.csv', interactions(2, 2000, '2026-02'));
    await expect(build(options('2026-03-10T00:00:00Z'), throwingAt('attached'))).rejects.toThrow(/log sink failed at attached/);
    // the failed run's rows are in the fact tables, unseen
    const [hidden] = await (
      await entry.query({ query: `select count() as n from ${database}.fct_billable_conversations_all`, format: 'JSONEachRow' })
    ).json<{ n: string }>();
    expect(Number(hidden?.n)).toBeGreaterThan(before.total);
    expect(await seen(database)).toEqual(before);

    const recovered = await build(options('2026-03-10T00:00:00Z'));
    expect(recovered.plan.partitionsRebuilt).toBeGreaterThan(0);
    const after = await seen(database);
    expect(after.total).toBeGreaterThan(before.total);
    // only the visible rows are left: the failed run's and the replaced ones are gone
    const [stored] = await (
      await entry.query({ query: `select count() as n from ${database}.fct_billable_conversations_all`, format: 'JSONEachRow' })
    ).json<{ n: string }>();
    expect(Number(stored?.n)).toBe(after.total);
    // and equal to a fresh build of the same files into a new database
    const fresh = project({ 'a.csv': interactions(1, 3000, '2026-01'), 'b.csv': interactions(2, 2000, '2026-02') });
    await build(fresh.options('2026-03-10T00:00:00Z'));
    expect(await seen(fresh.database)).toEqual(after);

    // the same inputs and as-of again: nothing rewritten, nothing changed
    const again = await build(options('2026-03-10T00:00:00Z'));
    expect(again.plan.partitionsRebuilt).toBe(0);
    expect(await seen(database)).toEqual(after);
  }, 240_000);

  it.each(['attached', 'published'])('a reader never sees half a run: SIGKILL right after the publish step "%s" shows the old facts or the new, whole, and the next build recovers', async (step) => {
    const { dir, database, options } = project({ 'a.csv': interactions(3, 3000, '2026-01') });
    await build(options('2026-02-10T00:00:00Z'));
    const before = await seen(database);
    writeCsv(join(dir, 'logs'), 'b.csv', interactions(4, 2000, '2026-02'));
    const child = startBuild(dir, ['--config', 'convbill.json', '--as-of', '2026-03-10T00:00:00Z']);
    child.onEvent((event) => {
      if (event.event === 'publish_step' && (event as unknown as { step: string }).step === step) child.child.kill('SIGKILL');
    });
    const exit = await child.exited;
    const killedAt = await seen(database);
    const finished = await build(options('2026-03-10T00:00:00Z'));
    const after = await seen(database);
    // killed between attach and manifest: the old facts; or just after the manifest: the new, whole
    expect([before.digest, after.digest]).toContain(killedAt.digest);
    expect(after.total).toBeGreaterThan(before.total);
    if (killedAt.digest === before.digest) {
      // nothing was published, and the working file rolled back with it: the same loads, incrementally
      expect(finished.plan.fullRefresh, finished.plan.reason).toBe(false);
    } else if (finished.plan.fullRefresh) {
      // published, then killed before the working file committed: the next build says so and starts over
      expect(finished.plan.reason).toMatch(/does not hold the last build/);
    } else {
      // published and committed before the kill landed: nothing is left to do
      expect(finished.plan.partitionsRebuilt).toBe(0);
    }
    expect(['SIGKILL', null]).toContain(exit.signal);
  }, 240_000);

  it('convbill test passes over what readers see, and export streams their rows as CSV and NDJSON; Parquet on 18.16 is refused', async () => {
    const { dir, database, options } = project({ 'a.csv': interactions(6, 800, '2026-01') });
    await build(options('2026-02-10T00:00:00Z'));
    const cli = (args: string[]) => spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), ...args, '--config', 'convbill.json'], { cwd: dir, encoding: 'utf8' });
    const tested = cli(['test']);
    expect(tested.status, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/PASS  audit_grain_fct_billable_conversations/);
    expect(tested.stdout).toMatch(/All 4 data tests passed/);
    const { total } = await seen(database);
    const csv = cli(['export', '--table', 'fct_billable_conversations', '--out', join(dir, 'detail.csv')]);
    expect(csv.status, csv.stderr).toBe(0);
    expect(csv.stdout).toContain(`Exported ${total} rows of fct_billable_conversations`);
    const lines = readFileSync(join(dir, 'detail.csv'), 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('"org_id","cycle_id","cycle_start","cycle_end","integration_id","platform","customer_account_id","interaction_count","first_activity_at","last_activity_at"');
    expect(lines).toHaveLength(total + 1);
    const ndjson = cli(['export', '--table', 'fct_conversation_counts', '--where', "org_id = 'acme'", '--out', join(dir, 'counts.ndjson')]);
    expect(ndjson.status, ndjson.stderr).toBe(0);
    const counts = readFileSync(join(dir, 'counts.ndjson'), 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as { org_id: string });
    expect(counts.length).toBeGreaterThan(0);
    expect(new Set(counts.map((row) => row.org_id))).toEqual(new Set(['acme']));
    const parquet = cli(['export', '--table', 'fct_conversation_counts', '--out', join(dir, 'counts.parquet')]);
    expect(parquet.status).toBe(2);
    expect(parquet.stderr).toMatch(/cannot write parquet .*--format csv/);
    const written = cli(['export', '--table', 'fct_conversation_counts', '--where', '1 = 1) union all select 1 settings readonly = 0 --', '--out', join(dir, 'x.csv')]);
    expect(written.status).toBe(1);
  }, 120_000);

  it('explain tells the same conversations, interactions and input rows on both engines', async () => {
    const { dir, options } = project({ 'a.csv': interactions(7, 1500, '2026-01'), 'b.csv': interactions(8, 600, '2026-02') });
    const asOf = '2026-03-01T00:00:00Z';
    await build(options(asOf));
    const duckdb = { ...options(asOf), engine: 'duckdb' as const, db: join(dir, 'duck', 'convbill.duckdb'), parquetDir: join(dir, 'duck', 'parquet') };
    await build(duckdb);
    let compared = 0;
    let unknown = 0;
    // an account billed nowhere fails on both; only DuckDB, which holds every key, offers close matches
    const outcome = (explained: Promise<Awaited<ReturnType<typeof explain>>>) =>
      explained.then((conversations) => ({ conversations }), (error: Error) => ({ error: error.message.replace(/(; the closest .*)?\.$/, '') }));
    for (const account of ['cust-1', 'cust-17', 'cust-250', 'nobody']) {
      for (const org of ['acme', 'globex']) {
        const onClickHouse = await outcome(explain({ db: options(asOf).db, org, account, clickhouse: options(asOf).clickhouse }));
        const onDuckDB = await outcome(explain({ db: duckdb.db, org, account }));
        expect(onClickHouse).toEqual(onDuckDB);
        if ('error' in onDuckDB) unknown += 1;
        else compared += onDuckDB.conversations.reduce((sum, conversation) => sum + conversation.interactions.length, 0);
      }
    }
    expect(compared).toBeGreaterThan(5);
    expect(unknown).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('diff tells the same count changes, and their causes, on both engines', async () => {
    const { dir, options } = project({ 'a.csv': interactions(9, 1200, '2026-01') });
    const duckdb = (asOf: string) => ({ ...options(asOf), engine: 'duckdb' as const, db: join(dir, 'duck', 'convbill.duckdb'), parquetDir: join(dir, 'duck', 'parquet') });
    for (const opts of [options, duckdb]) await build(opts('2026-02-10T00:00:00Z'));
    writeCsv(join(dir, 'logs'), 'b.csv', interactions(10, 700, '2026-02'));
    for (const opts of [options, duckdb]) await build(opts('2026-03-05T00:00:00Z'));
    const onClickHouse = await diffRuns({ db: options('x').db });
    const onDuckDB = await diffRuns({ db: duckdb('x').db });
    expect(onClickHouse.changes.length).toBeGreaterThan(3);
    expect(onClickHouse.changes).toEqual(onDuckDB.changes);
    expect(onClickHouse.changes.some((change) => /b\.csv/.test(change.caused_by))).toBe(true);
  }, 120_000);

  it('commands that cannot run on ClickHouse stop with one sentence and exit 2; a wrong cluster name is a configuration error', async () => {
    const { dir, options } = project({ 'a.csv': interactions(5, 50, '2026-01') });
    const cli = join(process.cwd(), 'dist/src/cli/main.js');
    for (const args of [['reconcile', '--invoices', 'x.csv'], ['report', '--out', 'r.html']]) {
      const run = spawnSync(process.execPath, [cli, ...args, '--config', 'convbill.json'], { cwd: dir, encoding: 'utf8' });
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(new RegExp(`convbill ${args[0]} does not run on ClickHouse: `));
    }
    const wrong = { ...options('2026-02-01T00:00:00Z'), clickhouse: { ...options('2026-02-01T00:00:00Z').clickhouse!, cluster: 'no_such_cluster' } };
    await expect(build(wrong)).rejects.toThrow(/has no cluster "no_such_cluster" in system\.clusters \(config key "clickhouse\.cluster"; it has: .*convbill_2shards/);
  }, 120_000);
});

describe('ClickHouse engine configuration', () => {
  it('engine clickhouse without a "clickhouse" key is a configuration error naming the key', () => {
    const dir = tempDir('convbill-ch-config-');
    writeFileSync(join(dir, 'convbill.json'), JSON.stringify({ engine: 'clickhouse', sources: ['logs/'] }));
    const run = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), 'build', '--config', 'convbill.json'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Engine clickhouse needs the config key "clickhouse"/);
  });

  it('a clickhouse key with a database name that is not an identifier is refused, naming the key', () => {
    const dir = tempDir('convbill-ch-config-');
    writeFileSync(
      join(dir, 'convbill.json'),
      JSON.stringify({ engine: 'clickhouse', clickhouse: { url: 'http://127.0.0.1:1', cluster: 'c', database: 'x; drop' } }),
    );
    const run = spawnSync(process.execPath, [join(process.cwd(), 'dist/src/cli/main.js'), 'build', '--config', 'convbill.json'], { cwd: dir, encoding: 'utf8' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/Config key "clickhouse.database" must be a database name/);
  });
});
