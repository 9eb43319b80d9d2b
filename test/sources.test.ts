/**
 * Rules §4 "Sources" through the compiled binary: the config is checked
 * before anything loads, a source's settings apply at staging on every
 * build, the config's sources are what is loaded (plus --input files until
 * `convbill forget`), a quiet night is a warning, and a build stopped by
 * --max-reject-rate leaves its rejects to inspect.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { rows, tempDir, writeCsv, type InputRow } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');

function convbill(cwd: string, args: string[]) {
  const run = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function config(dir: string, body: Record<string, unknown>): void {
  writeFileSync(join(dir, 'convbill.json'), JSON.stringify({ db: 'out/convbill.duckdb', as_of: '2026-03-20T00:00:00Z', ...body }));
}

const published = (dir: string) => join(dir, 'out', 'convbill_published.duckdb');
const counts = (dir: string) =>
  rows(published(dir), `select org_id, cycle_id, integration_id, conversations::integer as n from fct_conversation_counts order by all`);

const talk = (id: string, account: string, start: string, extra: InputRow = {}): InputRow => ({
  interaction_id: id, integration_id: 'wa-1', customer_account_id: account, started_at: start, ended_at: '', ...extra,
});

describe('sources: the config is checked before anything loads', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['an unknown timezone', { sources: [{ path: 'a.csv', timezone: 'Mars/Olympus' }] }, /"sources\[0\]\.timezone": unknown IANA timezone "Mars\/Olympus"/],
    ['a malformed mapping', { sources: [{ path: 'a.csv', columns: { account: 'from' } }] }, /"sources\[0\]\.columns\.account" is unknown/],
    ['a filter that does not parse', { sources: [{ path: 'a.csv', filter: "purpose = 'x' and" }] }, /"sources\[0\]\.filter" is not one SQL condition/],
    ['a filter with two statements', { sources: [{ path: 'a.csv', filter: "true; drop table raw_files" }] }, /"sources\[0\]\.filter" is not one SQL condition/],
    ['an epoch unit other than s, ms or us', { sources: [{ path: 'a.csv', epoch_unit: 'sec' }] }, /"sources\[0\]\.epoch_unit" must be one of "s", "ms", "us"/],
    ['an encoding DuckDB does not read', { sources: [{ path: 'a.csv', encoding: 'ebcdic' }] }, /"sources\[0\]\.encoding" must be one of/],
    ['an implausible valid_from', { valid_from: 'yesterday', sources: ['a.csv'] }, /"valid_from" must be an ISO-8601 instant/],
  ];
  for (const [what, body, message] of cases) {
    it(`exit 2 for ${what}, naming the key, and nothing written`, () => {
      const dir = tempDir();
      writeCsv(dir, 'a.csv', [talk('i1', 'c1', '2026-03-01T10:00:00Z')]);
      config(dir, body);
      const run = convbill(dir, ['build']);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(dir, 'out'))).toBe(false);
    });
  }
});

describe('sources: settings apply at staging, on every build', () => {
  it('a corrected timezone, mapping or epoch unit takes effect on the next build, --full-refresh or not, and equals a fresh build', async () => {
    const dir = tempDir();
    // offset-less times near a month boundary: the timezone decides the cycle
    writeCsv(dir, 'export.csv', [
      { id: 'a', chan: 'wa-1', who: 'c1', alt: 'x1', at: '2026-03-01 00:30:00', end: '2026-03-01 00:40:00', epoch: '1772325000' },
      { id: 'b', chan: 'wa-1', who: 'c2', alt: 'x2', at: '2026-03-15 12:00:00', end: '2026-03-15 12:10:00', epoch: '1773576000' },
    ]);
    const source = { path: 'export.csv', columns: { interaction_id: 'id', integration_id: 'chan', customer_account_id: 'who', started_at: 'at', ended_at: 'end' } };
    config(dir, { sources: [{ ...source, timezone: 'Europe/Paris' }] });
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    // 00:30 in Paris is still February in UTC
    expect(await counts(dir)).toEqual([
      { org_id: 'default', cycle_id: '2026-02-01', integration_id: 'wa-1', n: 1 },
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 1 },
    ]);
    const steps: Record<string, unknown>[] = [
      { ...source, timezone: 'UTC' },
      { ...source, timezone: 'UTC', columns: { ...source.columns, customer_account_id: 'alt' } },
      { ...source, timezone: 'UTC', columns: { ...source.columns, started_at: 'epoch' }, epoch_unit: 's' },
    ];
    for (const [index, step] of steps.entries()) {
      config(dir, { sources: [step] });
      const run = convbill(dir, ['build', '--log-format', 'json', '--quiet', ...(index === 1 ? ['--full-refresh'] : [])]);
      expect(run.status).toBe(0);
      const plan = run.stderr.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((event) => event.event === 'plan');
      if (index !== 1) expect(plan.reason).toMatch(/^the staging settings of sources\[0\] changed/);
      const fresh = tempDir();
      copyFileSync(join(dir, 'export.csv'), join(fresh, 'export.csv'));
      config(fresh, { sources: [step] });
      expect(convbill(fresh, ['build', '--quiet']).status).toBe(0);
      const detail = `select cycle_id, customer_account_id, first_activity_at from fct_billable_conversations order by all`;
      expect(await rows(published(dir), detail), `step ${index}`).toEqual(await rows(published(fresh), detail));
    }
    // the last step: epoch seconds, UTC, the alternative account column is gone again
    expect(await rows(published(dir), `select customer_account_id, first_activity_at from fct_billable_conversations order by all`)).toEqual([
      { customer_account_id: 'c1', first_activity_at: '2026-03-01T00:30:00Z' },
      { customer_account_id: 'c2', first_activity_at: '2026-03-15T12:00:00Z' },
    ]);
  });

  it('constants and a filter over the source\'s own columns: the rows left out are counted as filtered', async () => {
    const dir = tempDir();
    writeCsv(dir, 'cc.csv', [
      { conv: 'c1', chan: 'wa-1', role: 'customer', who: 'p1', start: '2026-03-02T10:00:00Z' },
      { conv: 'c1', chan: 'wa-1', role: 'agent', who: 'agent-7', start: '2026-03-02T10:01:00Z' },
      { conv: 'c2', chan: 'wa-1', role: 'customer', who: 'p2', start: '2026-03-03T10:00:00Z' },
      { conv: 'c2', chan: 'wa-1', role: 'agent', who: 'agent-7', start: '2026-03-03T10:01:00Z' },
    ]);
    config(dir, {
      sources: [{
        path: 'cc.csv',
        columns: { interaction_id: 'conv', integration_id: 'chan', customer_account_id: 'who', started_at: 'start' },
        constants: { org_id: 'acme' },
        filter: "role = 'customer'",
      }],
    });
    const run = convbill(dir, ['build']);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Rows: 4 read = 2 accepted + 0 rejected + 2 filtered');
    // without the filter, the agent's account would make both conversations conflicts
    expect(await counts(dir)).toEqual([{ org_id: 'acme', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 2 }]);
    expect(await rows(published(dir), `select rows_read, rows_accepted, rows_rejected, rows_filtered, identity_holds from rpt_source_files`)).toEqual([
      { rows_read: 4, rows_accepted: 2, rows_rejected: 0, rows_filtered: 2, identity_holds: true },
    ]);
  });

  it('a filter naming a column the file does not have is a configuration error naming the key and the file', () => {
    const dir = tempDir();
    writeCsv(dir, 'a.csv', [talk('i1', 'c1', '2026-03-01T10:00:00Z')]);
    config(dir, { sources: [{ path: 'a.csv', filter: "purpose = 'customer'" }] });
    const run = convbill(dir, ['build']);
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^convbill: Config key "sources\[0\]\.filter" does not apply to file .*a\.csv: .*purpose.*; its columns are: interaction_id, integration_id, customer_account_id, started_at, ended_at\.\n$/);
  });
});

describe('sources: the config says what is loaded', () => {
  it('a source removed from the config stops counting, and the run history says which files were dropped', async () => {
    const dir = tempDir();
    writeCsv(dir, 'a.csv', [talk('i1', 'c1', '2026-03-01T10:00:00Z')]);
    writeCsv(dir, 'b.csv', [talk('i2', 'c2', '2026-03-02T10:00:00Z')]);
    config(dir, { sources: ['a.csv', 'b.csv'] });
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await counts(dir)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 2 }]);
    config(dir, { sources: ['a.csv'] });
    const run = convbill(dir, ['build']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/No longer counted \(under no configured source, or forgotten\): b\.csv\./);
    expect(await counts(dir)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 1 }]);
    expect(await rows(join(dir, 'out', 'convbill.duckdb'), `select run_id, event, source_file from convbill_run_files where event = 'dropped'`)).toEqual([
      { run_id: 2, event: 'dropped', source_file: join(dir, 'b.csv') },
    ]);
  });

  it('files given with --input stay loaded until convbill forget drops them; --input under a configured path takes its settings', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'incoming'));
    writeCsv(dir, 'incoming/day-1.csv', [{ id: 'i1', chan: 'wa-1', who: 'c1', at: '2026-03-01 00:30:00', end: '2026-03-01 00:40:00' }]);
    writeCsv(dir, 'extra.csv', [talk('i2', 'c2', '2026-03-05T10:00:00Z')]);
    // the configured folder maps columns and reads Paris time; day-1.csv is named before the folder is configured
    const paris = { path: 'incoming/', timezone: 'Europe/Paris', columns: { interaction_id: 'id', integration_id: 'chan', customer_account_id: 'who', started_at: 'at', ended_at: 'end' } };
    config(dir, { sources: [paris] });
    expect(convbill(dir, ['build', '--input', 'extra.csv', '--input', 'incoming/day-1.csv', '--quiet']).status).toBe(0);
    expect(await counts(dir)).toEqual([
      { org_id: 'default', cycle_id: '2026-02-01', integration_id: 'wa-1', n: 1 },
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 1 },
    ]);
    // a later build without --input keeps extra.csv
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await counts(dir)).toHaveLength(2);
    const forgot = convbill(dir, ['forget', 'extra.csv']);
    expect(forgot).toMatchObject({ status: 0, stderr: '' });
    expect(forgot.stdout).toContain('1 file(s) no longer pinned');
    expect(convbill(dir, ['forget', 'nothing-*.csv']).status).toBe(2);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await counts(dir)).toEqual([{ org_id: 'default', cycle_id: '2026-02-01', integration_id: 'wa-1', n: 1 }]);
  });

  it('a configured glob that matches nothing is a warning and exit 0; a file named with --input that does not exist is exit 2', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'incoming'));
    writeCsv(dir, 'incoming/day-1.csv', [talk('i1', 'c1', '2026-03-01T10:00:00Z')]);
    config(dir, { sources: ['incoming/*.csv'] });
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    // the night's file was archived: the glob matches nothing, the history still counts
    mkdirSync(join(dir, 'archive'));
    renameSync(join(dir, 'incoming/day-1.csv'), join(dir, 'archive/day-1.csv'));
    const quiet = convbill(dir, ['build']);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toMatch(/^convbill: warning: Source sources\[0\] \(.*incoming\/\*\.csv\) matches no file: 0 new files\.\n$/);
    expect(quiet.stdout).toContain('Warning: Source sources[0]');
    expect(await counts(dir)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 1 }]);
    const missing = convbill(dir, ['build', '--input', 'incoming/day-2.csv']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/Input file incoming\/day-2\.csv does not exist\./);
  });
});

describe('sources: a failed gate leaves evidence', () => {
  it('a build stopped by --max-reject-rate publishes nothing and writes its rejects to <db name>_runs/run-N-rejects.parquet', async () => {
    const dir = tempDir();
    writeCsv(dir, 'a.csv', [talk('i1', 'c1', '2026-03-01T10:00:00Z'), talk('i2', '', '2026-03-01T10:00:00Z'), talk('i3', 'c3', 'soon')]);
    config(dir, { sources: ['a.csv'] });
    const run = convbill(dir, ['build', '--max-reject-rate', '0.5']);
    expect(run.status).toBe(1);
    const file = join(dir, 'out', 'convbill_runs', 'run-000001-rejects.parquet');
    expect(run.stderr).toBe(`convbill: 2 of the 3 rows this build read were rejected (66.67%), more than --max-reject-rate 0.5; nothing was published, and its rejects are in ${file}.\n`);
    expect(existsSync(published(dir))).toBe(false);
    const scratch = await Warehouse.open(':memory:');
    const evidence = await scratch.rows(`select source_row::integer as source_row, reason from read_parquet('${file}') order by source_row`);
    scratch.close();
    expect(evidence).toEqual([
      { source_row: 2, reason: 'missing_customer_account_id' },
      { source_row: 3, reason: 'invalid_timestamp' },
    ]);
  });
});

describe('sources: a file named on the command line is the file that is billed', () => {
  it('reads paths holding [, ], *, ?, spaces and quotes literally, never their neighbours; a pattern only when no such file exists', async () => {
    const dir = tempDir();
    const names = ['data[1].csv', 'star*.csv', 'q?.csv', "it's a file.csv", 'say "hi".csv'];
    for (const [index, name] of names.entries()) writeCsv(dir, name, [talk(`i${index}`, `c${index}`, '2026-03-02T10:00:00Z')]);
    // the neighbours a pattern would match
    for (const name of ['data1.csv', 'starry.csv', 'qx.csv']) writeCsv(dir, name, [talk('neighbour', `n-${name}`, '2026-03-02T10:00:00Z')]);
    config(dir, {});
    const run = convbill(dir, ['build', ...names.flatMap((name) => ['--input', name]), '--quiet']);
    expect(run).toMatchObject({ status: 0, stderr: '' });
    expect(await rows(published(dir), `select customer_account_id from fct_billable_conversations order by all`)).toEqual(
      names.map((_, index) => ({ customer_account_id: `c${index}` })),
    );
    // a path that exists nowhere is a pattern
    const other = tempDir();
    for (const name of ['day-1.csv', 'day-2.csv']) writeCsv(other, name, [talk(name, name, '2026-03-02T10:00:00Z')]);
    config(other, {});
    expect(convbill(other, ['build', '--input', 'day-?.csv', '--quiet']).status).toBe(0);
    expect(await rows(published(other), `select count(*)::integer as n from fct_billable_conversations`)).toEqual([{ n: 2 }]);
  });
});

describe('sources: files and versions', () => {
  it('a path put back to an earlier content counts that content again; a superseded content counts at another path; the same bytes twice count once', async () => {
    const dir = tempDir();
    const a = [talk('i1', 'c1', '2026-03-01T10:00:00Z'), talk('i2', 'c2', '2026-03-02T10:00:00Z')];
    const b = [talk('i1', 'c1', '2026-03-01T10:00:00Z')];
    const accounts = async () => (await rows(published(dir), `select customer_account_id from fct_billable_conversations order by all`)).map((row) => row.customer_account_id);
    config(dir, { sources: ['logs/'] });
    mkdirSync(join(dir, 'logs'));
    writeCsv(dir, 'logs/day.csv', a);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await accounts()).toEqual(['c1', 'c2']);
    writeCsv(dir, 'logs/day.csv', b);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await accounts()).toEqual(['c1']);
    // A -> B -> A
    writeCsv(dir, 'logs/day.csv', a);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await accounts()).toEqual(['c1', 'c2']);
    const events = async () => rows(join(dir, 'out', 'convbill.duckdb'), `select run_id, event, load_id from convbill_run_files where run_id = (select max(run_id) from convbill_run_files) order by all`);
    expect(await events()).toEqual([
      { run_id: 3, event: 'reverted', load_id: 1 },
      { run_id: 3, event: 'superseded', load_id: 2 },
    ]);
    // B again, and A's bytes under another path: A counts there, once
    writeCsv(dir, 'logs/day.csv', b);
    writeCsv(dir, 'logs/copy-of-day.csv', a);
    writeCsv(dir, 'logs/copy-of-copy.csv', a);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await accounts()).toEqual(['c1', 'c2']);
    expect(await rows(published(dir), `select sum(interaction_count)::integer as n from fct_billable_conversations`)).toEqual([{ n: 2 }]);
    // A counted before this build, so its two new paths are duplicates: counted once
    expect((await events()).map((row) => row.event)).toEqual(['duplicate', 'duplicate', 'reverted', 'superseded']);
    // A again at a third path, once no path counts it: restored
    writeCsv(dir, 'logs/copy-of-day.csv', b);
    writeCsv(dir, 'logs/copy-of-copy.csv', b);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    writeCsv(dir, 'logs/late-copy.csv', a);
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    expect(await events()).toEqual([
      { run_id: 6, event: 'restored', load_id: 1 },
      { run_id: 6, event: 'unchanged', load_id: 2 },
      { run_id: 6, event: 'unchanged', load_id: 2 },
      { run_id: 6, event: 'unchanged', load_id: 2 },
    ]);
    expect(await accounts()).toEqual(['c1', 'c2']);
  });
});

describe('sources: encodings', () => {
  it('reads UTF-16 (with or without a byte-order mark) with "encoding": "utf-16"', async () => {
    const dir = tempDir();
    const text = 'interaction_id,integration_id,customer_account_id,started_at,ended_at\r\n' +
      'i1,wa-1,Jérôme,2026-03-01T10:00:00Z,2026-03-01T11:00:00Z\r\ni2,wa-1,Zoë,2026-03-02T10:00:00Z,2026-03-02T11:00:00Z\r\n';
    writeFileSync(join(dir, 'plain.csv'), Buffer.from(text, 'utf16le'));
    writeFileSync(join(dir, 'bom.csv'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replaceAll('i1', 'j1').replaceAll('i2', 'j2'), 'utf16le')]));
    config(dir, { sources: [{ path: 'plain.csv', encoding: 'utf-16' }, { path: 'bom.csv', encoding: 'utf-16' }] });
    expect(convbill(dir, ['build', '--quiet'])).toMatchObject({ status: 0, stderr: '' });
    expect(await rows(published(dir), `select customer_account_id, interaction_count from fct_billable_conversations order by all`)).toEqual([
      { customer_account_id: 'Jérôme', interaction_count: 2 },
      { customer_account_id: 'Zoë', interaction_count: 2 },
    ]);
    expect(await rows(published(dir), `select rows_read, rows_accepted, identity_holds from rpt_source_files order by source_file`)).toEqual([
      { rows_read: 2, rows_accepted: 2, identity_holds: true },
      { rows_read: 2, rows_accepted: 2, identity_holds: true },
    ]);
  });
});

describe('sources: a folder archived whole', () => {
  it('a configured folder gone from disk still covers the files loaded from it', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'incoming'));
    writeCsv(dir, 'incoming/day-1.csv', [talk('i1', 'c1', '2026-03-01T10:00:00Z')]);
    config(dir, { sources: ['incoming/'] });
    expect(convbill(dir, ['build', '--quiet']).status).toBe(0);
    renameSync(join(dir, 'incoming'), join(dir, 'archived'));
    const run = convbill(dir, ['build']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/matches no file: 0 new files/);
    expect(await counts(dir)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', n: 1 }]);
  });
});
