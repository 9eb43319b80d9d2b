/**
 * Rules §5: every input row is accepted or rejected with one reason, and
 * rows read = accepted + rejected per file.
 */
import { ConfigError } from '../src/engine/errors.js';
import { describe, expect, it } from 'vitest';
import { buildFacts, tempDir, writeCsv, writeNdjson, type InputRow } from './helpers.js';

const good: InputRow = {
  interaction_id: 'ok',
  integration_id: 'wa-1',
  customer_account_id: 'cust-1',
  started_at: '2024-01-10T09:00:00Z',
  ended_at: '2024-01-10T10:00:00Z',
};

async function rejectsOf(rows: InputRow[], options: { asOf?: string; calendar?: string } = {}) {
  const dir = tempDir();
  const input = writeCsv(dir, 'in.csv', [good, ...rows]);
  const facts = await buildFacts({
    dir,
    inputs: [input],
    asOf: options.asOf ?? '2024-03-01T00:00:00Z',
    cycles: { calendar: options.calendar },
  });
  const rejected = await facts.rows(`select source_row, reason from rejected_interactions order by source_row`);
  return { facts, rejected };
}

describe('rejects: one reason per rejected row', () => {
  it('missing_integration_id: absent or blank after trimming', async () => {
    const { rejected } = await rejectsOf([{ ...good, interaction_id: 'x', integration_id: ' \t ' }]);
    expect(rejected).toEqual([{ source_row: 2, reason: 'missing_integration_id' }]);
  });

  it('a file without a required column is a configuration error naming the file, the column and its columns, and loads nothing', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'no-integration.csv', [
      { interaction_id: 'a', customer_account_id: 'c', started_at: '2024-01-10T09:00:00Z' },
      { interaction_id: 'b', customer_account_id: 'c', started_at: '2024-01-11T09:00:00Z' },
    ]);
    const ok = writeCsv(dir, 'ok.csv', [good]);
    const failed = buildFacts({ dir, inputs: [input, ok] });
    await expect(failed).rejects.toBeInstanceOf(ConfigError);
    await expect(failed).rejects.toThrow(
      /^File .*no-integration\.csv has no column integration_id \(.*\); its columns are: interaction_id, customer_account_id, started_at\.$/,
    );
    // nothing was loaded: the good file alone builds as if it were the first
    const alone = await buildFacts({ dir, inputs: [ok] });
    expect(await alone.rows(`select count(*)::integer as n from raw_files`)).toEqual([{ n: 1 }]);
  });

  it('a mapped column the file does not have is a configuration error naming the mapping', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'export.csv', [{ id: 'a', channel: 'wa-1', from: 'c', created: '2024-01-10T09:00:00Z' }]);
    const columns = { interaction_id: 'id', integration_id: 'integrationId', customer_account_id: 'from', started_at: 'created' };
    await expect(buildFacts({ dir, inputs: [{ path: input, timezone: 'UTC', columns, key: 'sources[0]' }] })).rejects.toThrow(
      /^File .*export\.csv has no column "integrationId" \(mapped to integration_id\); its columns are: id, channel, from, created\.$/,
    );
  });

  it('missing_customer_account_id: blank account', async () => {
    const { rejected } = await rejectsOf([{ ...good, interaction_id: 'x', customer_account_id: '  ' }]);
    expect(rejected).toEqual([{ source_row: 2, reason: 'missing_customer_account_id' }]);
  });

  it('missing_timestamp: an interaction row without started_at, a message row without occurred_at', async () => {
    const dir = tempDir();
    const interactions = writeCsv(dir, 'interactions.csv', [good, { ...good, interaction_id: 'x', started_at: '' , ended_at: ''}]);
    const messages = writeCsv(dir, 'messages.csv', [
      { interaction_id: 'm', integration_id: 'wa-1', customer_account_id: 'c', occurred_at: ' ' },
    ]);
    const facts = await buildFacts({ dir, inputs: [interactions, messages] });
    const rejected = await facts.rows(
      `select regexp_extract(source_file, '[^/]+$') as file, source_row, reason from rejected_interactions order by file`,
    );
    expect(rejected).toEqual([
      { file: 'interactions.csv', source_row: 2, reason: 'missing_timestamp' },
      { file: 'messages.csv', source_row: 1, reason: 'missing_timestamp' },
    ]);
  });

  it('invalid_timestamp: a start, end or occurrence that does not parse', async () => {
    const { rejected } = await rejectsOf([
      { ...good, interaction_id: 'x', started_at: 'yesterday' },
      { ...good, interaction_id: 'y', ended_at: '2024-02-30T10:00:00Z' },
    ]);
    expect(rejected).toEqual([
      { source_row: 2, reason: 'invalid_timestamp' },
      { source_row: 3, reason: 'invalid_timestamp' },
    ]);
  });

  it('ended_before_started: ended_at < started_at on the row', async () => {
    const { rejected } = await rejectsOf([{ ...good, interaction_id: 'x', ended_at: '2024-01-10T08:59:59Z' }]);
    expect(rejected).toEqual([{ source_row: 2, reason: 'ended_before_started' }]);
  });

  it('conflicting_customer_account: every row of the interaction is rejected', async () => {
    const { facts, rejected } = await rejectsOf([
      { ...good, interaction_id: 'shared', customer_account_id: 'alice' },
      { ...good, interaction_id: 'shared', customer_account_id: 'bob' },
      { ...good, interaction_id: 'shared', customer_account_id: 'alice', started_at: '2024-01-11T09:00:00Z', ended_at: '' },
    ]);
    expect(rejected).toEqual([2, 3, 4].map((row) => ({ source_row: row, reason: 'conflicting_customer_account' })));
    expect(await facts.rows(`select customer_account_id from fct_billable_conversations`)).toEqual([{ customer_account_id: 'cust-1' }]);
  });

  it('after_as_of: an interaction starting after as-of is rejected, one starting exactly at as-of is not', async () => {
    const { facts, rejected } = await rejectsOf(
      [
        { ...good, interaction_id: 'late', started_at: '2024-03-01T00:00:00.001Z', ended_at: '' },
        { ...good, interaction_id: 'at', customer_account_id: 'cust-2', started_at: '2024-03-01T00:00:00Z', ended_at: '' },
      ],
      { asOf: '2024-03-01T00:00:00Z' },
    );
    expect(rejected).toEqual([{ source_row: 2, reason: 'after_as_of' }]);
    expect(await facts.rows(`select cycle_id from fct_billable_conversations where customer_account_id = 'cust-2'`)).toEqual([
      { cycle_id: '2024-03-01' },
    ]);
  });

  it('outside_billing_cycles: an interaction in a gap of an explicit calendar', async () => {
    const dir = tempDir();
    const calendar = writeCsv(dir, 'calendar.csv', [
      { org_id: 'default', cycle_start: '2024-01-01', cycle_end: '2024-01-15' },
      { org_id: 'default', cycle_start: '2024-02-01', cycle_end: '2024-03-01' },
    ]);
    const { facts, rejected } = await rejectsOf(
      [
        { ...good, interaction_id: 'gap', started_at: '2024-01-20T00:00:00Z', ended_at: '2024-01-25T00:00:00Z' },
        { ...good, interaction_id: 'bridge', customer_account_id: 'cust-2', started_at: '2024-01-14T00:00:00Z', ended_at: '2024-02-01T00:00:00Z' },
      ],
      { calendar },
    );
    expect(rejected).toEqual([{ source_row: 2, reason: 'outside_billing_cycles' }]);
    // an interaction bridging the gap counts in the cycles on both sides
    expect(await facts.rows(`select cycle_id from fct_billable_conversations where customer_account_id = 'cust-2' order by cycle_start`)).toEqual([
      { cycle_id: '2024-01-01' },
      { cycle_id: '2024-02-01' },
    ]);
  });

  it('the first failing row check wins, in the order of the rules', async () => {
    const { rejected } = await rejectsOf([
      { interaction_id: 'x', integration_id: '', customer_account_id: '', started_at: 'bad', ended_at: '' },
      { interaction_id: 'y', integration_id: 'wa-1', customer_account_id: '', started_at: 'bad', ended_at: '' },
      { interaction_id: 'z', integration_id: 'wa-1', customer_account_id: 'c', started_at: 'bad', ended_at: '2024-01-01T00:00:00Z' },
    ]);
    expect(rejected.map((row) => row.reason)).toEqual(['missing_integration_id', 'missing_customer_account_id', 'invalid_timestamp']);
  });

  it('rejected rows keep their file, row number and raw values', async () => {
    const dir = tempDir();
    const input = writeNdjson(dir, 'events.ndjson', [
      { interaction_id: 'a', integration_id: 'wa-1', customer_account_id: 'c', occurred_at: '2024-01-10T09:00:00Z' },
      { interaction_id: 'b', integration_id: 'wa-1', customer_account_id: ' ', occurred_at: 'not a time' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input] });
    const [reject] = await facts.rows(`select source_file, source_row, reason, raw from rejected_interactions`);
    expect(reject?.source_file).toBe(input);
    expect(reject?.source_row).toBe(2);
    expect(reject?.reason).toBe('missing_customer_account_id');
    expect(JSON.parse(reject?.raw as string)).toMatchObject({ interaction_id: 'b', customer_account_id: ' ', occurred_at: 'not a time' });
  });
});

describe('rejects: rows read = rows accepted + rows rejected', () => {
  it('holds per file and is reported by the build', async () => {
    const dir = tempDir();
    const a = writeCsv(dir, 'a.csv', [
      good,
      { ...good, interaction_id: 'bad-1', integration_id: '' },
      { ...good, interaction_id: 'bad-2', started_at: 'nope' },
      { ...good, interaction_id: 'late', started_at: '2031-01-01T00:00:00Z', ended_at: '' },
    ]);
    const b = writeNdjson(dir, 'b.ndjson', [
      { interaction_id: 'ok', integration_id: 'wa-1', customer_account_id: 'cust-1', occurred_at: '2024-01-10T09:30:00Z' },
      { interaction_id: 'm', integration_id: 'wa-1', customer_account_id: '', occurred_at: '2024-01-10T09:30:00Z' },
    ]);
    const facts = await buildFacts({ dir, inputs: [a, b] });
    const files = await facts.rows(
      `select regexp_extract(source_file, '[^/]+$') as file, rows_read, rows_accepted, rows_rejected, identity_holds
       from rpt_source_files order by file`,
    );
    expect(files).toEqual([
      { file: 'a.csv', rows_read: 4, rows_accepted: 1, rows_rejected: 3, identity_holds: true },
      { file: 'b.ndjson', rows_read: 2, rows_accepted: 1, rows_rejected: 1, identity_holds: true },
    ]);
    expect(facts.result.summary.files.map((f) => f.rowsRead - f.rowsAccepted - f.rowsRejected)).toEqual([0, 0]);
  });
});
