/**
 * Nightly operation through the compiled binary: ingest then build, the
 * same night run twice, a build killed mid-way, two builds at once, a
 * failing audit, the reject-rate threshold, JSON logs, run history and
 * replays.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAudits } from '../src/project/audits.js';
import { loadModels } from '../src/project/load-models.js';
import { runModels } from '../src/project/run-models.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { rows, tempDir, writeCsv, writeParquet, type InputRow } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');

function convbill(cwd: string, args: string[]) {
  const run = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Starts a build in the background; resolves `started` once its JSON log shows `event`. */
function background(cwd: string, args: string[], event: string) {
  const child = spawn(process.execPath, [cliPath, ...args, '--log-format', 'json'], { cwd });
  let stderr = '';
  const started = new Promise<void>((resolveStarted, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes(`"event":"${event}"`)) resolveStarted();
    });
    child.on('exit', () => reject(new Error(`build ended before "${event}": ${stderr}`)));
  });
  const exited = new Promise<number | null>((resolveExit) => child.on('exit', (code) => resolveExit(code)));
  return { child, started, exited, stderr: () => stderr };
}

const night = (day: number, count: number): InputRow[] =>
  Array.from({ length: count }, (_, n) => ({
    interaction_id: `d${day}-${n}`,
    integration_id: n % 3 ? 'wa-1' : 'fb-1',
    customer_account_id: `cust-${n % 7}`,
    started_at: `2026-03-${String(day).padStart(2, '0')}T${String(8 + (n % 10)).padStart(2, '0')}:00:00Z`,
    ended_at: n % 5 ? `2026-03-${String(day).padStart(2, '0')}T20:00:00Z` : '',
    org_id: n % 2 ? 'acme' : 'globex',
  }));

/** Every published mart, in a stable order. */
async function publishedMarts(db: string): Promise<unknown[][]> {
  const tables = ['fct_billable_conversations', 'fct_conversation_counts', 'dim_billing_cycles', 'dim_integrations', 'rejected_interactions', 'rpt_source_files'];
  const result: unknown[][] = [];
  for (const table of tables) result.push(await rows(db, `select * from ${table} order by all`));
  return result;
}

function exportDigest(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else if (entry.name.endsWith('.parquet')) hash.update(child.slice(dir.length)).update(readFileSync(child));
    }
  };
  walk(dir);
  return hash.digest('hex');
}

/** A Parquet file big enough that a build takes a while: 300k rows. */
async function bigInput(dir: string): Promise<string> {
  return writeParquet(
    dir,
    'big.parquet',
    `select 'i' || n as interaction_id, 'wa-' || (n % 40) as integration_id, 'c' || (n * 7919 % 50000) as customer_account_id,
            timestamptz '2025-01-01 00:00:00+00' + to_seconds(n * 97 % 31536000) as started_at,
            timestamptz '2025-01-01 00:00:00+00' + to_seconds(n * 97 % 31536000 + 3600) as ended_at,
            'org-' || (n % 5) as org_id
     from range(300000) t(n)`,
  );
}

describe('nightly operation', () => {
  it('ingest, then build stages what was ingested; the same night run twice changes nothing; run history and run_results.json', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 30));
    const asOf = ['--as-of', '2026-03-02T00:00:00Z'];
    expect(convbill(dir, ['build', '--input', 'day-01.csv', ...asOf, '--quiet'])).toMatchObject({ status: 0, stdout: '', stderr: '' });

    writeCsv(dir, 'day-02.csv', night(2, 30));
    const ingested = convbill(dir, ['ingest', '--input', 'day-02.csv']);
    expect(ingested.status).toBe(0);
    expect(ingested.stdout).toMatch(/day-02\.csv: loaded as load 2, 30 rows/);
    const nightly = ['build', '--as-of', '2026-03-03T00:00:00Z'];
    const first = convbill(dir, nightly);
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('Rows: 60 read = 60 accepted + 0 rejected');
    const published = join(dir, 'convbill_published.duckdb');
    const marts = await publishedMarts(published);
    const exported = exportDigest(join(dir, 'convbill_parquet'));
    const exportVersion = readlinkSync(join(dir, 'convbill_parquet'));

    const again = convbill(dir, nightly);
    expect(again.status).toBe(0);
    expect(await publishedMarts(published)).toEqual(marts);
    expect(exportDigest(join(dir, 'convbill_parquet'))).toBe(exported);
    // nothing new and the same as-of: nothing is written again, not even the export
    expect(readlinkSync(join(dir, 'convbill_parquet'))).toBe(exportVersion);
    expect(again.stdout).toMatch(/up to date: no new file, and the as-of and references of run 3/);

    const runs = await rows(join(dir, 'convbill.duckdb'), `select run_id, command, status, full_refresh, rows_staged, partitions_rebuilt from convbill_runs order by run_id`);
    expect(runs).toEqual([
      { run_id: 1, command: 'build', status: 'success', full_refresh: true, rows_staged: 30, partitions_rebuilt: 2 },
      { run_id: 2, command: 'ingest', status: 'success', full_refresh: null, rows_staged: null, partitions_rebuilt: 0 },
      // only the March cycles of both orgs: the one the new day falls in
      { run_id: 3, command: 'build', status: 'success', full_refresh: false, rows_staged: 30, partitions_rebuilt: 2 },
      { run_id: 4, command: 'build', status: 'success', full_refresh: false, rows_staged: 0, partitions_rebuilt: 0 },
    ]);
    const listed = convbill(dir, ['runs', '--format', 'json', '--limit', '2']);
    expect(JSON.parse(listed.stdout).map((run: { run_id: number }) => run.run_id)).toEqual([4, 3]);
    const results = JSON.parse(readFileSync(join(dir, 'convbill_runs', 'run_results.json'), 'utf8'));
    expect(results).toMatchObject({
      run_id: 4, status: 'success', full_refresh: false, refresh_reason: 'up to date: no new file, and the as-of and references of run 3',
    });
    // no model ran, and no audit
    expect(results.results.map((result: { unique_id: string }) => result.unique_id).filter((id: string) => /^(model|test)\./.test(id))).toEqual([]);
    // the published copy carries the run history too, and `query` reads it
    const viaQuery = convbill(dir, ['query', 'select max(run_id) as run from convbill_runs', '--format', 'csv']);
    expect(viaQuery.stdout.trim()).toBe('run\n4');
  });

  it('--log-format json writes one JSON object per line on stderr; a replay with an earlier as-of rebuilds in full', () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 10));
    const run = convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-04-01T00:00:00Z', '--log-format', 'json', '--quiet']);
    expect(run.status).toBe(0);
    const events = run.stderr.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(events[0]).toMatchObject({ event: 'run_started', run_id: 1 });
    expect(events.map((event) => event.event)).toEqual(expect.arrayContaining(['file', 'plan', 'model', 'audit', 'run_finished']));
    expect(events.at(-1)).toMatchObject({ event: 'run_finished', status: 'success', full_refresh: true });
    const replay = convbill(dir, ['build', '--as-of', '2026-03-01T12:00:00Z', '--log-format', 'json', '--quiet']);
    expect(replay.status).toBe(0);
    const plan = replay.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((event) => event.event === 'plan');
    expect(plan).toMatchObject({ full_refresh: true, reason: "as-of is earlier than the last build's" });
    const planOf = (run: { stderr: string }) =>
      run.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((event) => event.event === 'plan');
    const same = convbill(dir, ['build', '--as-of', '2026-03-01T12:00:00Z', '--log-format', 'json', '--quiet']);
    expect(planOf(same)).toMatchObject({ full_refresh: false, reason: 'up to date: no new file, and the as-of and references of run 2', loads: 0 });
    const later = convbill(dir, ['build', '--as-of', '2026-03-02T12:00:00Z', '--log-format', 'json', '--quiet']);
    expect(planOf(later)).toMatchObject({ full_refresh: false, reason: 'incremental', loads: 0 });
    // other cycle rules change what every stored interaction spans
    const rules = convbill(dir, ['build', '--as-of', '2026-03-01T12:00:00Z', '--anchor-day', '15', '--log-format', 'json', '--quiet']);
    expect(planOf(rules)).toMatchObject({ full_refresh: true, reason: 'the models or the cycle configuration changed' });
  });

  it('--max-reject-rate: too many rejects fail the run with exit 1 and publish nothing', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 10));
    expect(convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z']).status).toBe(0);
    writeCsv(dir, 'day-02.csv', night(2, 10).map((row, n) => (n < 4 ? { ...row, customer_account_id: ' ' } : row)));
    const published = join(dir, 'convbill_published.duckdb');
    const before = statSync(published).mtimeMs;
    const failed = convbill(dir, ['build', '--input', 'day-02.csv', '--as-of', '2026-03-03T00:00:00Z', '--max-reject-rate', '0.25']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^convbill: 4 of the 10 rows this build read were rejected \(40\.00%\), more than --max-reject-rate 0\.25; nothing was published/);
    expect(statSync(published).mtimeMs).toBe(before);
    expect(await rows(published, `select sum(conversations)::integer as n from fct_conversation_counts`)).toEqual([{ n: 10 }]);
    const status = await rows(join(dir, 'convbill.duckdb'), `select status, error from convbill_runs order by run_id desc limit 1`);
    expect(status[0]).toMatchObject({ status: 'failed', error: expect.stringMatching(/max-reject-rate/) });
    // the loaded file waits for the next build, which takes it
    const next = convbill(dir, ['build', '--as-of', '2026-03-03T00:00:00Z', '--max-reject-rate', '0.5']);
    expect(next.status).toBe(0);
    expect(next.stdout).toContain('Rows: 20 read = 16 accepted + 4 rejected');
  });

  it('a failing audit fails the run with exit 1, names it, and publishes nothing; convbill test reports it', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 10));
    expect(convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z']).status).toBe(0);
    expect(convbill(dir, ['test']).stdout).toContain('All 11 data tests passed.');
    // corrupt the working facts behind convbill's back, where the next night
    // does not rewrite them: a conversation of an account nobody has
    const working = await Warehouse.open(join(dir, 'convbill.duckdb'));
    await working.run(
      `insert into int_conversations
       select integration_sk, cycle_seq, 'ghost', interaction_count, first_activity_at, last_activity_at
       from int_conversations limit 1`,
    );
    working.close();
    const tested = convbill(dir, ['test']);
    expect(tested.status).toBe(1);
    expect(tested.stdout).toMatch(/FAIL {2}audit_facts_conserved {2}first offending row: \{"assigned_pairs":10,"billed_pairs":11\}/);
    expect(tested.stderr).toMatch(/^convbill: \d+ of 11 data tests failed: .*audit_facts_conserved/);
    const link = readlinkSync(join(dir, 'convbill_parquet'));
    writeCsv(dir, 'day-02.csv', night(2, 10));
    const failed = convbill(dir, ['build', '--input', 'day-02.csv', '--as-of', '2026-03-03T00:00:00Z']);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toMatch(/^convbill: Audit audit_counts_match_detail failed \(.*audit_counts_match_detail\.sql\); first offending row: \{.*\} \(and 1 other audit\(s\): audit_facts_conserved\)\.\n$/);
    expect(readlinkSync(join(dir, 'convbill_parquet'))).toBe(link);
    expect(await rows(join(dir, 'convbill_published.duckdb'), `select count(*)::integer as n from fct_billable_conversations`)).toEqual([{ n: 10 }]);
    // --full-refresh recomputes everything from the raw layer and repairs it
    const repaired = convbill(dir, ['build', '--as-of', '2026-03-03T00:00:00Z', '--full-refresh']);
    expect(repaired.status).toBe(0);
    expect(repaired.stdout).toContain('Rows: 20 read = 20 accepted + 0 rejected');
  });

  it('an integration number held by two integrations fails audit_grain_dimensions, since the detail view would repeat conversations', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 10));
    expect(convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z', '--quiet']).status).toBe(0);
    expect(convbill(dir, ['test']).status).toBe(0);
    const working = await Warehouse.open(join(dir, 'convbill.duckdb'));
    const before = await working.value<bigint>('select count(*) from fct_billable_conversations');
    await working.run(`insert into int_integration_keys select org_id, 'other-integration', integration_sk from int_integration_keys limit 1`);
    expect(await working.value<bigint>('select count(*) from fct_billable_conversations')).toBeGreaterThan(before);
    working.close();
    const tested = convbill(dir, ['test']);
    expect(tested.status).toBe(1);
    expect(tested.stdout).toMatch(/FAIL {2}audit_grain_dimensions {2}first offending row: \{"mart":"int_integration_keys"/);
  });

  it('audit_grain_fct_billable_conversations checks the keys a build wrote among the rows it wrote; convbill test checks every key against the whole table', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 10));
    expect(convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z', '--quiet']).status).toBe(0);
    const working = await Warehouse.open(join(dir, 'convbill.duckdb'));
    const keys = 'org_id, cycle_start, integration_id, customer_account_id';
    const grain = async (written: string) => {
      await working.run(`create or replace temp view audit_conversations as select ${keys} from fct_billable_conversations ${written}`);
      const audits = await runAudits(working);
      return audits.find((audit) => audit.name === 'audit_grain_fct_billable_conversations');
    };
    const stored = (rows: string) =>
      working.run(`create or replace temp view audit_stored_conversations as select integration_sk, cycle_seq, customer_account_id from ${rows}`);
    try {
      await working.run(`create temp view audit_cycles as select org_id, cycle_start from dim_billing_cycles`);
      // a conversation stored twice
      await working.run(`insert into int_conversations select * from int_conversations order by all limit 1`);
      const repeated = `(select ${keys} from fct_billable_conversations group by all having count(*) > 1) as repeated using (${keys})`;
      // as convbill test looks: against the whole table
      await stored('int_conversations');
      expect(await grain(`anti join ${repeated}`)).toMatchObject({ passed: true });
      expect(await grain(`semi join ${repeated} limit 1`)).toMatchObject({ passed: false, rows: [expect.objectContaining({ rows_with_key: 2n })] });
      expect(await grain('where false')).toMatchObject({ passed: true });
      // as a build looks: among the rows it wrote, where both copies are
      await working.run(`create temp table written_twice as select * from int_conversations order by all limit 2`);
      await stored('written_twice');
      expect(await grain(`semi join ${repeated} limit 1`)).toMatchObject({ passed: false, rows: [expect.objectContaining({ rows_with_key: 2n })] });
      // one copy kept and one written is what the model runner rules out (next test)
      await working.run(`create or replace temp table written_once as select * from int_conversations order by all limit 1`);
      await stored('written_once');
      expect(await grain(`semi join ${repeated} limit 1`)).toMatchObject({ passed: true });
    } finally {
      working.close();
    }
    const tested = convbill(dir, ['test']);
    expect(tested.status).toBe(1);
    expect(tested.stdout).toMatch(/FAIL {2}audit_grain_fct_billable_conversations/);
  });

  it('a model that writes a key its `replaces` relation does not list fails the build: its stored rows of that key were not deleted first', async () => {
    const dir = tempDir();
    const root = join(dir, 'sql');
    mkdirSync(root);
    writeFileSync(join(root, 'int_replaced_keys.sql'), `-- materialized: temp\nselect 1 as k`);
    writeFileSync(
      join(root, 'int_stored.sql'),
      `-- materialized: incremental\n-- unique_key: k\n-- replaces: int_replaced_keys\ncreate table if not exists int_stored (k integer not null, v integer not null);\n\nselect k, k * 10 as v from range(1, 3) as t(k)`,
    );
    const working = await Warehouse.open(':memory:');
    try {
      await working.run(`create table int_stored (k integer not null, v integer not null)`);
      await working.run(`insert into int_stored values (1, 1), (2, 2)`);
      await expect(runModels(working, { fullRefresh: false }, loadModels(root))).rejects.toThrow(
        /Model int_stored \(.*int_stored\.sql\) wrote 1 key\(s\) of k that int_replaced_keys does not list, whose stored rows it did not replace\./,
      );
    } finally {
      working.close();
    }
  });

  it('the published copy reads the detail facts from the export version its build wrote: an open copy keeps its facts through the next build; copied where the path is a file pattern', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 12));
    expect(convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z', '--quiet']).status).toBe(0);
    const published = join(dir, 'convbill_published.duckdb');
    const [view] = await rows(published, `select sql from duckdb_views() where view_name = 'fct_billable_conversations'`);
    // relative to the copy's folder, so that the folder can move (test/moved-warehouse.test.ts)
    expect(String(view?.sql)).toContain(`'${readlinkSync(join(dir, 'convbill_parquet'))}/fct_billable_conversations/`);
    expect(String(view?.sql)).not.toContain(dir);
    const detail = `select columns(*)::varchar from fct_billable_conversations order by all`;
    const working = await rows(join(dir, 'convbill.duckdb'), detail);
    expect(await rows(published, detail)).toEqual(working);
    expect(working.length).toBeGreaterThan(0);

    const reader = await Warehouse.open(published, { readOnly: true });
    try {
      writeCsv(dir, 'day-02.csv', night(2, 12).map((row) => ({ ...row, customer_account_id: `new-${row.customer_account_id}` })));
      expect(convbill(dir, ['build', '--input', 'day-02.csv', '--as-of', '2026-03-03T00:00:00Z', '--quiet']).status).toBe(0);
      // the reader opened before the build still sees the first night's facts
      expect(await reader.rows(detail)).toEqual(working);
    } finally {
      reader.close();
    }
    const after = await rows(published, detail);
    expect(after).toEqual(await rows(join(dir, 'convbill.duckdb'), detail));
    expect(after.length).toBeGreaterThan(working.length);

    // no billable conversation: no Parquet file for a view, an empty table with the same columns
    const empty = tempDir();
    writeCsv(empty, 'late.csv', night(1, 3));
    expect(convbill(empty, ['build', '--input', 'late.csv', '--as-of', '2026-02-01T00:00:00Z', '--quiet']).status).toBe(0);
    const emptyCopy = join(empty, 'convbill_published.duckdb');
    expect(await rows(emptyCopy, `select count(*)::integer as n from fct_billable_conversations`)).toEqual([{ n: 0 }]);
    const columns = `select column_name from duckdb_columns() where table_name = 'fct_billable_conversations' order by column_index`;
    expect(await rows(emptyCopy, columns)).toEqual(await rows(published, columns));

    // a folder DuckDB would read as a file pattern: the facts are copied instead
    const bracketed = join(tempDir(), 'night[1]');
    mkdirSync(bracketed);
    writeCsv(bracketed, 'day-01.csv', night(1, 12));
    expect(convbill(bracketed, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z', '--quiet'])).toMatchObject({ status: 0, stderr: '' });
    expect(await rows(join(bracketed, 'convbill_published.duckdb'), detail)).toEqual(working);
  });

  it('a build killed mid-way leaves the previous facts, export and published copy intact; the next build completes', async () => {
    const dir = tempDir();
    writeCsv(dir, 'day-01.csv', night(1, 10));
    expect(convbill(dir, ['build', '--input', 'day-01.csv', '--as-of', '2026-03-02T00:00:00Z']).status).toBe(0);
    const published = join(dir, 'convbill_published.duckdb');
    const before = await publishedMarts(published);
    const exported = exportDigest(join(dir, 'convbill_parquet'));
    await bigInput(dir);
    const killed = background(dir, ['build', '--input', 'big.parquet', '--as-of', '2026-03-02T00:00:00Z'], 'plan');
    await killed.started;
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(await publishedMarts(published)).toEqual(before);
    expect(exportDigest(join(dir, 'convbill_parquet'))).toBe(exported);
    // the working database rolled back: still the first night's facts
    expect(await rows(join(dir, 'convbill.duckdb'), `select sum(conversations)::integer as n from fct_conversation_counts`)).toEqual([{ n: 10 }]);
    const next = convbill(dir, ['build', '--as-of', '2026-03-02T00:00:00Z']);
    expect(next.stderr).toBe('');
    expect(next.stdout).toContain('Rows: 300010 read = 300010 accepted + 0 rejected');
    const runs = await rows(join(dir, 'convbill.duckdb'), `select status from convbill_runs order by run_id`);
    expect(runs.map((run) => run.status)).toEqual(['success', 'interrupted', 'success']);
  }, 120_000);

  it('a second build while one runs fails at once with exit 1 and harms nothing', async () => {
    const dir = tempDir();
    await bigInput(dir);
    const first = background(dir, ['build', '--input', 'big.parquet', '--as-of', '2026-03-02T00:00:00Z'], 'run_started');
    await first.started;
    const second = convbill(dir, ['build', '--input', 'big.parquet', '--as-of', '2026-03-02T00:00:00Z']);
    expect(second.status).toBe(1);
    expect(second.stderr).toMatch(/^convbill: Database .*convbill\.duckdb is locked by another process \(PID \d+.*\), most likely a convbill build still running; nothing was changed/);
    expect(await first.exited).toBe(0);
    expect(await rows(join(dir, 'convbill_published.duckdb'), `select count(*)::integer as runs from convbill_runs`)).toEqual([{ runs: 1 }]);
  }, 120_000);
});

describe('progress', () => {
  // the lines themselves, on a real pseudo-terminal: test/progress.test.ts
  it('shows step lines and a live line on stderr when it is a terminal, and nothing otherwise', async () => {
    const { runCli } = await import('../src/cli/main.js');
    const dir = tempDir();
    await bigInput(dir);
    const run = async (interactive: boolean) => {
      let err = '';
      const status = await runCli(
        ['build', '--input', join(dir, 'big.parquet'), '--db', join(dir, `${interactive ? 'tty' : 'pipe'}.duckdb`), '--as-of', '2026-03-02T00:00:00Z'],
        { out: () => undefined, err: (text) => { err += text; }, interactive },
      );
      return { status, err };
    };
    const tty = await run(true);
    expect(tty.status).toBe(0);
    expect(tty.err).toMatch(/\r\x1b\[2K\[\d+\/(\d+)\] int_interactions …( +\d+%)? \d+\.\d s · build \d+\.\d s\r\x1b\[2K\[\d+\/\1\] int_interactions … OK \d+\.\d s\n/);
    expect(tty.err).toMatch(/\n(\r\x1b\[2K)?Done: \d+ steps in \d+\.\d s\n$/);
    const piped = await run(false);
    expect(piped).toEqual({ status: 0, err: '' });
  }, 120_000);
});
