/**
 * Ingest (docs/billing-rules.md §4): every supported format, directories and globs, column
 * mappings, merging of rows into interactions, and loading the same data
 * twice.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/engine/errors.js';
import { installMacros } from '../src/project/run-models.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';
import { cleanText } from './reference.js';
import { buildFacts, tempDir, writeCsv, writeNdjson, writeParquet, type InputRow } from './helpers.js';

const base: InputRow = {
  interaction_id: 'i-1',
  integration_id: 'wa-1',
  customer_account_id: 'Cust-1',
  started_at: '2024-01-10T09:00:00Z',
  ended_at: '2024-01-10T10:00:00Z',
};

async function factRows(facts: Awaited<ReturnType<typeof buildFacts>>) {
  return facts.rows(
    `select org_id, cycle_id, integration_id, platform, customer_account_id, interaction_count, first_activity_at, last_activity_at
     from fct_billable_conversations order by all`,
  );
}

describe('ingest: formats', () => {
  it('reads CSV, gzipped CSV, NDJSON, JSONL, JSON arrays, gzipped JSON and Parquet alike', async () => {
    const dir = tempDir();
    const rows = (n: number): InputRow[] => [{ ...base, interaction_id: `i-${n}`, customer_account_id: `cust-${n}` }];
    const csv = writeCsv(dir, 'a.csv', rows(1));
    writeCsv(dir, 'b.csv', rows(2));
    execFileSync('gzip', [join(dir, 'b.csv')]);
    const ndjson = writeNdjson(dir, 'c.ndjson', rows(3));
    const jsonl = writeNdjson(dir, 'd.jsonl', rows(4));
    writeFileSync(join(dir, 'e.json'), JSON.stringify(rows(5)));
    writeFileSync(join(dir, 'f.json'), JSON.stringify(rows(6)));
    execFileSync('gzip', [join(dir, 'f.json')]);
    const parquet = await writeParquet(
      dir,
      'g.parquet',
      `select 'i-7' as interaction_id, 'wa-1' as integration_id, 'cust-7' as customer_account_id,
              timestamptz '2024-01-10 09:00:00+00' as started_at, null::timestamptz as ended_at`,
    );
    const facts = await buildFacts({
      dir,
      inputs: [csv, join(dir, 'b.csv.gz'), ndjson, jsonl, join(dir, 'e.json'), join(dir, 'f.json.gz'), parquet],
      asOf: '2024-01-31T00:00:00Z',
    });
    const accounts = await facts.rows(`select customer_account_id from fct_billable_conversations order by 1`);
    expect(accounts.map((r) => r.customer_account_id)).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `cust-${n}`));
    expect(facts.result.summary.files.every((f) => f.rowsRead === 1 && f.rowsAccepted === 1)).toBe(true);
  });

  it('reads a directory recursively and a glob, skipping files of other kinds', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'logs/2024/01'), { recursive: true });
    writeCsv(join(dir, 'logs'), 'top.csv', [{ ...base, interaction_id: 'a', customer_account_id: 'a' }]);
    writeCsv(join(dir, 'logs/2024/01'), 'deep.csv', [{ ...base, interaction_id: 'b', customer_account_id: 'b' }]);
    writeFileSync(join(dir, 'logs/README.txt'), 'not data');
    const fromDirectory = await buildFacts({ inputs: [join(dir, 'logs')] });
    expect(fromDirectory.result.ingest.files).toHaveLength(2);
    expect(fromDirectory.result.ingest.skipped).toEqual([join(dir, 'logs/README.txt')]);
    const fromGlob = await buildFacts({ inputs: [join(dir, 'logs/**/*.csv')] });
    expect(fromGlob.result.ingest.files.map((f) => f.file)).toEqual([join(dir, 'logs/2024/01/deep.csv'), join(dir, 'logs/top.csv')]);
  });

  it('a missing input file or a glob matching nothing is a configuration error', async () => {
    const dir = tempDir();
    await expect(buildFacts({ inputs: [join(dir, 'nope.csv')] })).rejects.toThrow(/^Input file .*nope\.csv does not exist\.$/);
    await expect(buildFacts({ inputs: [join(dir, '*.csv')] })).rejects.toBeInstanceOf(ConfigError);
  });

  it('maps source column names through the config mapping', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'export.csv', [{ conv: 'x', channel: 'wa-1', from: '+33 6 12', created: '2024-01-10T09:00:00Z', closed: '' }]);
    const facts = await buildFacts({
      dir,
      inputs: [{ path: input, timezone: 'UTC', columns: { interaction_id: 'conv', integration_id: 'channel', customer_account_id: 'from', started_at: 'created', ended_at: 'closed' } }],
      asOf: '2024-01-31T00:00:00Z',
    });
    expect(await facts.rows(`select customer_account_id from fct_billable_conversations`)).toEqual([{ customer_account_id: '+33 6 12' }]);
  });
});

describe('ingest: the raw store', () => {
  it('keeps a copy of each Parquet file beside the database: facts rebuild after the source is gone', async () => {
    const dir = tempDir();
    const parquet = await writeParquet(
      dir,
      'events.parquet',
      `select 'i-' || range as interaction_id, 'wa-1' as integration_id, 'cust-' || (range % 7) as customer_account_id,
              timestamptz '2024-01-10 09:00:00+00' + to_hours(range) as started_at, null::timestamptz as ended_at
       from range(100)`,
    );
    const first = await buildFacts({ dir, inputs: [parquet], asOf: '2024-02-10T00:00:00Z' });
    const facts = await first.rows(`select cycle_id, customer_account_id, interaction_count from fct_billable_conversations order by all`);
    expect(facts).toHaveLength(14);
    rmSync(parquet);
    const rebuilt = await buildFacts({ dir, asOf: '2024-02-10T00:00:00Z' });
    expect(await rebuilt.rows(`select cycle_id, customer_account_id, interaction_count from fct_billable_conversations order by all`)).toEqual(facts);
    expect(await rebuilt.rows(`select stored_file, rows_read from raw_files`)).toEqual([{ stored_file: 'convbill.duckdb.raw/load-000001.parquet', rows_read: 100 }]);
  });

  it('a missing stored copy fails the build with one sentence naming it', async () => {
    const dir = tempDir();
    const parquet = await writeParquet(
      dir,
      'events.parquet',
      `select 'i' as interaction_id, 'wa' as integration_id, 'c' as customer_account_id, '2024-01-10T00:00:00Z' as started_at`,
    );
    await buildFacts({ dir, inputs: [parquet] });
    rmSync(join(dir, 'convbill.duckdb.raw'), { recursive: true });
    await expect(buildFacts({ dir })).rejects.toThrow(/^The stored copy of load 1 \(.*load-000001\.parquet\) is missing; restore it beside the database or rebuild from the sources\.$/);
  });
});

describe('ingest: values', () => {
  it('trims keys of spaces, tabs and line breaks, never lower-cases accounts, defaults a blank org', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { ...base, org_id: '  ', integration_id: '\twa-1 ', customer_account_id: ' Cust-1\n' },
      { ...base, interaction_id: ' i-2 ', org_id: '', customer_account_id: 'cust-1' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select org_id, integration_id, customer_account_id from fct_billable_conversations order by 3`)).toEqual([
      { org_id: 'default', integration_id: 'wa-1', customer_account_id: 'Cust-1' },
      { org_id: 'default', integration_id: 'wa-1', customer_account_id: 'cust-1' },
    ]);
  });

  it('clean_text agrees with the reference on edge characters: whitespace, other control characters, empty, multi-byte', async () => {
    const alphabet = [' ', '\t', '\n', '\v', '\f', '\r', '\u0001', '\u001f', '\u0085', '\u00a0', 'a', 'Z', '9', '-', 'é', '日', '\u0301', '😀'];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const values = ['', ...alphabet, ...Array.from({ length: 3000 }, () => Array.from({ length: Math.floor(next() * 6) }, () => alphabet[Math.floor(next() * alphabet.length)]).join(''))];
    const warehouse = await Warehouse.open(':memory:');
    try {
      await installMacros(warehouse);
      const cleaned = await warehouse.rows<{ value: string; cleaned: string | null }>(
        `select value, clean_text(value) as cleaned
         from (values ${values.map((value, index) => `(${index}, ${sqlString(value)})`).join(', ')}) as t(position, value)
         order by position`,
      );
      expect(cleaned.map((row) => [row.value, row.cleaned])).toEqual(values.map((value) => [value, cleanText(value)]));
    } finally {
      warehouse.close();
    }
  });

  it('reads offsets as written, offset-less times in the source timezone, integers as epoch milliseconds', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { ...base, interaction_id: 'a', started_at: '2024-01-10T09:00:00+02:00', ended_at: '' },
      { ...base, interaction_id: 'b', customer_account_id: 'c2', started_at: '2024-01-10 09:00:00', ended_at: '' },
      { ...base, interaction_id: 'c', customer_account_id: 'c3', started_at: '1704877200000', ended_at: '' },
    ]);
    const facts = await buildFacts({ dir, inputs: [{ path: input, timezone: 'Asia/Kolkata', columns: {} }], asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select customer_account_id, first_activity_at from fct_billable_conversations order by 1`)).toEqual([
      { customer_account_id: 'Cust-1', first_activity_at: '2024-01-10T07:00:00Z' },
      { customer_account_id: 'c2', first_activity_at: '2024-01-10T03:30:00Z' },
      { customer_account_id: 'c3', first_activity_at: '2024-01-10T09:00:00Z' },
    ]);
  });

  it('an epoch integer beyond year 9999 and unreadable text are invalid_timestamp, not a failed run', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      base,
      { ...base, interaction_id: 'huge', started_at: '9999999999999999' },
      { ...base, interaction_id: 'text', started_at: '12/31/2024 25:00' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input] });
    expect(await facts.rows(`select source_row, reason from rejected_interactions order by 1`)).toEqual([
      { source_row: 2, reason: 'invalid_timestamp' },
      { source_row: 3, reason: 'invalid_timestamp' },
    ]);
  });

  it('ISO times without seconds are invalid_timestamp: the grammar wants two-digit seconds (issue 19)', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { ...base, interaction_id: 'a', started_at: '2024-01-10T10:20Z', ended_at: '' },
      { ...base, interaction_id: 'b', customer_account_id: 'c2', started_at: '2024-01-10T10:20+01:00', ended_at: '' },
      { ...base, interaction_id: 'c', customer_account_id: 'c3', started_at: '2024-01-10 10:20', ended_at: '' },
      { ...base, interaction_id: 'd', customer_account_id: 'c4', started_at: '2024-01-10 10:20:00', ended_at: '' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select customer_account_id, first_activity_at from fct_billable_conversations order by 1`)).toEqual([
      { customer_account_id: 'c4', first_activity_at: '2024-01-10T10:20:00Z' },
    ]);
    expect(await facts.rows(`select source_row, reason from rejected_interactions order by 1`)).toEqual([
      { source_row: 1, reason: 'invalid_timestamp' },
      { source_row: 2, reason: 'invalid_timestamp' },
      { source_row: 3, reason: 'invalid_timestamp' },
    ]);
  });

  it('an interaction row is checked on its own fields only: a stray occurred_at is ignored', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [{ ...base, occurred_at: 'not read' }]);
    const facts = await buildFacts({ dir, inputs: [input] });
    expect(facts.result.summary.files).toMatchObject([{ rowsRead: 1, rowsAccepted: 1, rowsRejected: 0 }]);
  });

  it('rows without an interaction id are interactions of their own, whatever their text holds', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { integration_id: 'wa-1', customer_account_id: 'a', started_at: '2024-01-01T00:00:00Z', ended_at: '2024-01-02T00:00:00Z', message_id: '' },
      { integration_id: 'wa-1', customer_account_id: 'a|2024-01-01T00:00:00Z', started_at: '2024-01-02T00:00:00Z', ended_at: '', message_id: '' },
      { integration_id: 'wa-1', customer_account_id: 'm', occurred_at: '2024-01-05T00:00:00Z', message_id: 'm1' },
      { integration_id: 'wa-1', customer_account_id: 'm', occurred_at: '2024-01-05T00:00:00Z', message_id: 'm2' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select customer_account_id, interaction_count from fct_billable_conversations order by 1`)).toEqual([
      { customer_account_id: 'a', interaction_count: 1 },
      { customer_account_id: 'a|2024-01-01T00:00:00Z', interaction_count: 1 },
      { customer_account_id: 'm', interaction_count: 2 },
    ]);
  });

  it('the integrations reference wins over the rows; conflicts are counted, not rejected; unknown otherwise', async () => {
    const dir = tempDir();
    const integrations = writeCsv(dir, 'integrations.csv', [
      { integration_id: 'wa-1', platform: 'WhatsApp', org_id: '', name: 'Sales' },
      { integration_id: 'fb-1', platform: 'facebook', org_id: 'acme', name: 'Page' },
    ]);
    const input = writeCsv(dir, 'in.csv', [
      { ...base, platform: 'sms' },
      { ...base, interaction_id: 'b', integration_id: 'fb-1', org_id: 'acme', platform: 'facebook' },
      { ...base, interaction_id: 'c', integration_id: 'fb-1', platform: 'instagram' },
      { ...base, interaction_id: 'd', integration_id: 'x-9' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], integrations, asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select org_id, integration_id, platform from fct_conversation_counts order by all`)).toEqual([
      { org_id: 'acme', integration_id: 'fb-1', platform: 'facebook' },
      { org_id: 'default', integration_id: 'fb-1', platform: 'instagram' },
      { org_id: 'default', integration_id: 'wa-1', platform: 'whatsapp' },
      { org_id: 'default', integration_id: 'x-9', platform: 'unknown' },
    ]);
    expect(await facts.rows(`select check_name, affected_count from rpt_data_quality order by 1`)).toEqual([
      // no price book: nothing is said to lack a price
      { check_name: 'conversations_without_price', affected_count: 0 },
      { check_name: 'platform_conflict_rows', affected_count: 1 },
      { check_name: 'superseded_rows', affected_count: 0 },
      { check_name: 'unknown_platform_integrations', affected_count: 1 },
    ]);
    expect(await facts.rows(`select count(*)::integer as n from rejected_interactions`)).toEqual([{ n: 0 }]);
  });
});

describe('ingest: merging and loading twice', () => {
  it('message rows merge with the interaction rows of the same interaction', async () => {
    const dir = tempDir();
    const interactions = writeCsv(dir, 'interactions.csv', [{ ...base, ended_at: '2024-01-31T23:00:00Z' }]);
    const messages = writeNdjson(dir, 'messages.ndjson', [
      { interaction_id: 'i-1', integration_id: 'wa-1', customer_account_id: 'Cust-1', occurred_at: '2024-01-09T08:00:00Z' },
      { interaction_id: 'i-1', integration_id: 'wa-1', customer_account_id: 'Cust-1', occurred_at: '2024-02-02T08:00:00Z' },
    ]);
    const facts = await buildFacts({ dir, inputs: [interactions, messages], asOf: '2024-03-01T00:00:00Z' });
    // one interaction, from the first message to the last: two cycles
    expect((await factRows(facts)).map((r) => [r.cycle_id, r.interaction_count, r.first_activity_at, r.last_activity_at])).toEqual([
      ['2024-01-01', 1, '2024-01-09T08:00:00Z', '2024-02-02T08:00:00Z'],
      ['2024-02-01', 1, '2024-01-09T08:00:00Z', '2024-02-02T08:00:00Z'],
    ]);
  });

  it('message rows never close an open interaction', async () => {
    const dir = tempDir();
    const interactions = writeCsv(dir, 'interactions.csv', [{ ...base, ended_at: '' }]);
    const messages = writeNdjson(dir, 'messages.ndjson', [
      { interaction_id: 'i-1', integration_id: 'wa-1', customer_account_id: 'Cust-1', occurred_at: '2024-01-11T08:00:00Z' },
    ]);
    const facts = await buildFacts({ dir, inputs: [interactions, messages], asOf: '2024-03-05T00:00:00Z' });
    expect((await factRows(facts)).map((r) => r.cycle_id)).toEqual(['2024-01-01', '2024-02-01', '2024-03-01']);
  });

  it('exact duplicate rows, with or without an interaction id, change nothing in the facts', async () => {
    const dir = tempDir();
    const once = await buildFacts({
      dir,
      inputs: [writeCsv(dir, 'once.csv', [base, { ...base, interaction_id: '', customer_account_id: 'anon' }])],
    });
    const dir2 = tempDir();
    const duplicated = writeCsv(dir2, 'twice.csv', [
      base, base, { ...base, interaction_id: '', customer_account_id: 'anon' }, { ...base, interaction_id: '', customer_account_id: 'anon' },
    ]);
    const twice = await buildFacts({ dir: dir2, inputs: [duplicated] });
    expect(await factRows(twice)).toEqual(await factRows(once));
    // every physical row is still read and accepted
    expect(twice.result.summary.files).toMatchObject([{ rowsRead: 4, rowsAccepted: 4, rowsRejected: 0 }]);
  });

  it('the same file loaded twice, or the same content under another name, adds nothing', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'a.csv', [base]);
    const first = await buildFacts({ dir, inputs: [input] });
    const before = await factRows(first);
    writeFileSync(join(dir, 'copy.csv'), `${'interaction_id,integration_id,customer_account_id,started_at,ended_at'}\n${'i-1,wa-1,Cust-1,2024-01-10T09:00:00Z,2024-01-10T10:00:00Z'}\n`);
    const second = await buildFacts({ dir, inputs: [input, join(dir, 'copy.csv')] });
    expect(second.result.ingest.files.map((f) => f.status)).toEqual(['already_loaded', 'already_loaded']);
    expect(await factRows(second)).toEqual(before);
    expect(await second.rows(`select count(*)::integer as n from raw_files`)).toEqual([{ n: 1 }]);
  });

  it('the database accumulates: a later build with only a new file keeps the earlier files', async () => {
    const dir = tempDir();
    await buildFacts({ dir, inputs: [writeCsv(dir, 'day1.csv', [base])] });
    const second = await buildFacts({ dir, inputs: [writeCsv(dir, 'day2.csv', [{ ...base, interaction_id: 'i-2', customer_account_id: 'cust-2' }])] });
    expect((await factRows(second)).map((r) => r.customer_account_id)).toEqual(['Cust-1', 'cust-2']);
  });

  it('a changed file at the same path replaces its earlier version', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'a.csv', [{ ...base, ended_at: '' }]);
    await buildFacts({ dir, inputs: [input], asOf: '2024-03-05T00:00:00Z' });
    writeCsv(dir, 'a.csv', [base]);
    const second = await buildFacts({ dir, inputs: [input], asOf: '2024-03-05T00:00:00Z' });
    expect((await factRows(second)).map((r) => r.cycle_id)).toEqual(['2024-01-01']);
    expect(second.result.summary.files).toMatchObject([{ rowsRead: 1, rowsAccepted: 1 }]);
    expect(await second.rows(`select affected_count from rpt_data_quality where check_name = 'superseded_rows'`)).toEqual([{ affected_count: 1 }]);
  });
});
