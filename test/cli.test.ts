/**
 * The command line as a user runs it: the compiled binary, exit statuses of
 * docs/billing-rules.md §7, one-sentence errors, query formats, and the Parquet exports.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rows, tempDir, writeCsv, type InputRow } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');

function convbill(cwd: string, args: string[], env: Record<string, string> = {}) {
  const run = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** One sentence: one line, prefixed, ending with a full stop, no stack trace. */
function expectOneSentence(stderr: string, pattern: RegExp) {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(pattern);
  expect(stderr).not.toMatch(/\n\s+at /);
}

const row = (n: number, extra: InputRow = {}): InputRow => ({
  interaction_id: `i-${n}`,
  integration_id: 'wa-1',
  customer_account_id: `cust-${n % 3}`,
  started_at: `2024-01-${String(10 + n).padStart(2, '0')}T09:00:00Z`,
  ended_at: '',
  org_id: n % 2 ? 'acme' : 'globex',
  ...extra,
});

function workspace() {
  const dir = tempDir();
  writeCsv(dir, 'logs.csv', [row(1), row(2), row(3), row(4, { integration_id: '' })]);
  return dir;
}

describe('cli: build', () => {
  it('exit 0: builds, prints the summary, writes the database and Hive-partitioned Parquet', () => {
    const dir = workspace();
    const run = convbill(dir, ['build', '--input', 'logs.csv', '--as-of', '2024-02-15T00:00:00Z']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('convbill build — as of 2024-02-15T00:00:00Z');
    expect(run.stdout).toContain('Rows: 4 read = 3 accepted + 1 rejected');
    expect(run.stdout).toMatch(/missing_integration_id\s+1/);
    expect(existsSync(join(dir, 'convbill.duckdb'))).toBe(true);
    expect(lstatSync(join(dir, 'convbill_parquet')).isSymbolicLink()).toBe(true);
    // ordinary ids are their own folder names (docs/nightly.md, the export's folders)
    expect(readdirSync(join(dir, 'convbill_parquet/fct_conversation_counts')).sort()).toEqual(['org=acme', 'org=globex']);
    expect(readdirSync(join(dir, 'convbill_parquet/fct_billable_conversations/org=acme')).sort()).toEqual([
      'cycle=2024-01-01',
      'cycle=2024-02-01',
    ]);
  });

  it('the Parquet export holds the same facts as the database, org_id and cycle_id in its files', async () => {
    const dir = workspace();
    expect(convbill(dir, ['build', '--input', 'logs.csv', '--as-of', '2024-02-15T00:00:00Z']).status).toBe(0);
    const db = join(dir, 'convbill.duckdb');
    const fromParquet = await rows(
      db,
      `select org_id, cycle_id, integration_id, customer_account_id, interaction_count
       from read_parquet('${dir}/convbill_parquet/fct_billable_conversations/**/*.parquet', hive_partitioning = false) order by all`,
    );
    const fromDb = await rows(
      db,
      `select org_id, cycle_id, integration_id, customer_account_id, interaction_count from fct_billable_conversations order by all`,
    );
    expect(fromParquet).toEqual(fromDb);
    expect(fromDb.length).toBeGreaterThan(0);
  });

  it('running the same build twice leaves identical facts and writes nothing again; a later as-of swaps the export whole', async () => {
    const dir = workspace();
    const args = ['build', '--input', 'logs.csv', '--as-of', '2024-02-15T00:00:00Z'];
    expect(convbill(dir, args).status).toBe(0);
    const db = join(dir, 'convbill.duckdb');
    const facts = () => rows(db, `select * from fct_billable_conversations order by all`);
    const first = await facts();
    const version = readlinkSync(join(dir, 'convbill_parquet'));
    const second = convbill(dir, args);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain('0 file(s) loaded now, 1 already loaded');
    expect(second.stdout).toContain('Build: up to date: no new file, and the as-of and references of run 1; 0 (org, cycle) partition(s) rewritten.');
    expect(await facts()).toEqual(first);
    expect(readlinkSync(join(dir, 'convbill_parquet'))).toBe(version);
    // the new version and the one it replaced; nothing older piles up
    for (const asOf of ['2024-02-16T00:00:00Z', '2024-02-17T00:00:00Z']) {
      const later = convbill(dir, ['build', '--input', 'logs.csv', '--as-of', asOf]);
      expect(later.stdout).toMatch(/Build: incremental; \d+ \(org, cycle\) partition\(s\) rewritten\./);
    }
    expect(readdirSync(join(dir, '.convbill_parquet.versions'))).toHaveLength(2);
  });

  it('a failed build leaves the previous facts and export in place', async () => {
    const dir = workspace();
    expect(convbill(dir, ['build', '--input', 'logs.csv', '--as-of', '2024-02-15T00:00:00Z']).status).toBe(0);
    const link = lstatSync(join(dir, 'convbill_parquet'));
    writeFileSync(join(dir, 'broken.parquet'), 'this is not parquet');
    const failed = convbill(dir, ['build', '--input', 'broken.parquet', '--as-of', '2024-03-15T00:00:00Z']);
    expect(failed.status).toBe(1);
    expectOneSentence(failed.stderr, /^convbill: Cannot read .*broken\.parquet: .*\.$/);
    expect(lstatSync(join(dir, 'convbill_parquet')).mtimeMs).toBe(link.mtimeMs);
    expect(await rows(join(dir, 'convbill.duckdb'), `select max(cycle_id) as last from dim_billing_cycles`)).toEqual([{ last: '2024-02-01' }]);
  });

  it('exit 2: a missing input file, in one sentence', () => {
    const run = convbill(workspace(), ['build', '--input', 'nope.csv']);
    expect(run.status).toBe(2);
    expectOneSentence(run.stderr, /^convbill: Input file nope\.csv does not exist\.$/);
  });

  it('exit 2: an unknown flag', () => {
    const run = convbill(workspace(), ['build', '--inptu', 'logs.csv']);
    expect(run.status).toBe(2);
    expectOneSentence(run.stderr, /^convbill: error: unknown option '--inptu' \(Did you mean --input\?\)$/);
  });

  it('exit 2: an unknown or ill-typed config key, naming the key', () => {
    const dir = workspace();
    writeFileSync(join(dir, 'convbill.json'), JSON.stringify({ sources: ['logs.csv'], anchor_dya: 3 }));
    const unknown = convbill(dir, ['build']);
    expect(unknown.status).toBe(2);
    expectOneSentence(unknown.stderr, /^convbill: Config file convbill\.json: Config key "anchor_dya" is unknown \(known keys: .*\)\.$/);
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ orgs: { acme: { anchor_day: 32 } } }));
    const illTyped = convbill(dir, ['build', '--config', 'bad.json']);
    expect(illTyped.status).toBe(2);
    expectOneSentence(illTyped.stderr, /Config key "orgs\.acme\.anchor_day" must be an integer from 1 to 31\.$/);
  });

  it('exit 2: overlapping cycles in the calendar, naming the org and rows', () => {
    const dir = workspace();
    writeCsv(dir, 'cycles.csv', [
      { org_id: 'acme', cycle_start: '2024-01-01', cycle_end: '2024-02-01' },
      { org_id: 'acme', cycle_start: '2024-01-15', cycle_end: '2024-03-01' },
    ]);
    const run = convbill(dir, ['build', '--input', 'logs.csv', '--cycles', 'cycles.csv']);
    expect(run.status).toBe(2);
    expectOneSentence(run.stderr, /^convbill: Cycles file cycles\.csv: cycles of org "acme" overlap at rows 1 and 2\.$/);
  });

  it('exit 2: bad option values', () => {
    const dir = workspace();
    expectOneSentence(convbill(dir, ['build', '--input', 'logs.csv', '--anchor-day', '0']).stderr, /--anchor-day must be an integer from 1 to 31/);
    expectOneSentence(convbill(dir, ['build', '--input', 'logs.csv', '--timezone', 'Mars/Olympus']).stderr, /unknown IANA timezone "Mars\/Olympus"/);
    const asOf = convbill(dir, ['build', '--input', 'logs.csv', '--as-of', 'tomorrow']);
    expect(asOf.status).toBe(2);
    expectOneSentence(asOf.stderr, /--as-of "tomorrow" is not an ISO-8601 instant/);
  });

  it('passes --threads and --memory-limit to DuckDB: a tight limit spills and gives the same facts', async () => {
    const dir = workspace();
    const args = ['build', '--input', 'logs.csv', '--as-of', '2024-02-15T00:00:00Z'];
    expect(convbill(dir, [...args, '--db', 'a.duckdb']).status).toBe(0);
    const limited = convbill(dir, [...args, '--db', 'b.duckdb', '--threads', '1', '--memory-limit', '64MB']);
    expect(limited.stderr).toBe('');
    expect(limited.status).toBe(0);
    const facts = (db: string) => rows(join(dir, db), `select * exclude (first_activity_at, last_activity_at) from fct_billable_conversations order by all`);
    expect(await facts('b.duckdb')).toEqual(await facts('a.duckdb'));
    const badLimit = convbill(dir, [...args, '--memory-limit', 'lots']);
    expect(badLimit.status).toBe(2);
    expectOneSentence(badLimit.stderr, /--memory-limit must be a memory size such as "2GB", not "lots"\.$/);
    const badThreads = convbill(dir, [...args, '--threads', '0']);
    expect(badThreads.status).toBe(2);
    expectOneSentence(badThreads.stderr, /--threads must be a whole number of threads, 1 or more, not "0"\.$/);
  });

  it('reads the config file: sources, mapping, per-org rules; flags override it', () => {
    const dir = tempDir();
    writeCsv(dir, 'export.csv', [{ id: 'a', channel: 'wa-1', from: 'x', created: '2024-02-20T00:00:00Z', org_id: 'acme' }]);
    writeFileSync(
      join(dir, 'convbill.json'),
      JSON.stringify({
        sources: [{ path: 'export.csv', columns: { interaction_id: 'id', integration_id: 'channel', customer_account_id: 'from', started_at: 'created' } }],
        orgs: { acme: { anchor_day: 15, timezone: 'Europe/Paris' } },
        db: 'out/billing.duckdb',
        as_of: '2024-02-21',
      }),
    );
    const run = convbill(dir, ['build']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/acme\s+2024-02-15\s+1/);
    const query = convbill(dir, ['query', 'select cycle_id from dim_billing_cycles', '--format', 'csv']);
    expect(query.stdout).toBe('cycle_id\n2024-02-15\n');
    const overridden = convbill(dir, ['build', '--db', 'other.duckdb', '--as-of', '2024-03-20']);
    expect(overridden.status).toBe(0);
    expect(overridden.stdout).toMatch(/acme\s+2024-03-15\s+1/);
  });
});

describe('cli: query', () => {
  it('prints instants in UTC ISO-8601 whatever the machine timezone, as table, csv and json', () => {
    const dir = workspace();
    expect(convbill(dir, ['build', '--input', 'logs.csv', '--as-of', '2024-02-15T00:00:00Z']).status).toBe(0);
    const sql = `select org_id, cycle_start, conversations from fct_conversation_counts where org_id = 'acme' order by cycle_start`;
    const env = { TZ: 'Asia/Tokyo' };
    expect(convbill(dir, ['query', sql, '--format', 'csv'], env).stdout).toBe(
      'org_id,cycle_start,conversations\nacme,2024-01-01T00:00:00Z,2\nacme,2024-02-01T00:00:00Z,2\n',
    );
    expect(JSON.parse(convbill(dir, ['query', sql, '--format', 'json'], env).stdout)).toEqual([
      { org_id: 'acme', cycle_start: '2024-01-01T00:00:00Z', conversations: 2 },
      { org_id: 'acme', cycle_start: '2024-02-01T00:00:00Z', conversations: 2 },
    ]);
    const table = convbill(dir, ['query', sql], env).stdout;
    expect(table.split('\n')[0]).toMatch(/^org_id \| cycle_start\s+\| conversations$/);
    expect(table).toContain('acme   | 2024-01-01T00:00:00Z | 2');
    expect(table).toContain('(2 rows)');
  });

  it('exit 1: a failing query; exit 2: a missing database or a bad format', () => {
    const dir = workspace();
    expect(convbill(dir, ['build', '--input', 'logs.csv']).status).toBe(0);
    const failing = convbill(dir, ['query', 'select nope from fct_conversation_counts']);
    expect(failing.status).toBe(1);
    expectOneSentence(failing.stderr, /^convbill: Query failed: .*nope.*\.$/);
    const missing = convbill(dir, ['query', 'select 1', '--db', 'missing.duckdb']);
    expect(missing.status).toBe(2);
    expectOneSentence(missing.stderr, /^convbill: Database missing\.duckdb does not exist/);
    const format = convbill(dir, ['query', 'select 1', '--format', 'xml']);
    expect(format.status).toBe(2);
    expectOneSentence(format.stderr, /--format must be one of table, csv, json/);
  });
});

describe('cli: version', () => {
  it("convbill --version prints the package's version and exits 0", () => {
    const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = convbill(tempDir(), [flag]);
      expect(run.status, flag).toBe(0);
      expect(run.stdout, flag).toBe(`${version}\n`);
    }
  });
});

describe('cli: help', () => {
  it('the top-level help and every command help end with examples', () => {
    const top = convbill(tempDir(), ['--help']);
    expect(top.status).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) \[options\]/gm)].map((match) => match[1] as string);
    expect(commands).toEqual(expect.arrayContaining(['build', 'ingest', 'query', 'runs', 'test', 'reconcile', 'explain', 'diff', 'export', 'docs', 'report', 'init']));
    for (const command of [undefined, ...commands]) {
      const help = convbill(tempDir(), command ? [command, '--help'] : ['--help']);
      expect(help.stdout, `convbill ${command ?? ''} --help`).toMatch(/\nExamples?:\n {2}convbill /);
    }
  });
});
