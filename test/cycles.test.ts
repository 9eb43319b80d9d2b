/**
 * Billing cycles (docs/billing-rules.md §3) and the overlap rule (docs/billing-rules.md §4): anchor days with
 * month-end clamping, local midnight across daylight-saving changes, explicit
 * calendars, and the edges of a cycle and of as-of.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/engine/errors.js';
import { buildFacts, tempDir, writeCsv, type InputRow } from './helpers.js';

function at(id: string, started: string, ended: string | null = started, account = 'cust-1'): InputRow {
  return { interaction_id: id, integration_id: 'wa-1', customer_account_id: account, started_at: started, ended_at: ended };
}

async function cyclesFor(anchorDay: number, timezone: string, first: string, asOf: string) {
  const dir = tempDir();
  const input = writeCsv(dir, 'in.csv', [at('a', first)]);
  const facts = await buildFacts({ dir, inputs: [input], cycles: { defaultRule: { anchorDay, timezone } }, asOf });
  return facts.rows(`select cycle_id, cycle_start, cycle_end, timezone from dim_billing_cycles order by cycle_start`);
}

describe('cycles: anchor days and month-end clamping', () => {
  it('anchor day 1 is the calendar month', async () => {
    const cycles = await cyclesFor(1, 'UTC', '2024-01-15T00:00:00Z', '2024-03-02T00:00:00Z');
    expect(cycles.map((c) => [c.cycle_start, c.cycle_end])).toEqual([
      ['2024-01-01T00:00:00Z', '2024-02-01T00:00:00Z'],
      ['2024-02-01T00:00:00Z', '2024-03-01T00:00:00Z'],
      ['2024-03-01T00:00:00Z', '2024-04-01T00:00:00Z'],
    ]);
  });

  it('anchor day 15 starts every cycle on the 15th', async () => {
    const cycles = await cyclesFor(15, 'UTC', '2024-01-14T23:59:59Z', '2024-02-15T00:00:00Z');
    expect(cycles.map((c) => c.cycle_id)).toEqual(['2023-12-15', '2024-01-15', '2024-02-15']);
  });

  it('anchor day 29 clamps to Feb 28 in a non-leap year and keeps Feb 29 in a leap year', async () => {
    const nonLeap = await cyclesFor(29, 'UTC', '2023-01-30T00:00:00Z', '2023-03-30T00:00:00Z');
    expect(nonLeap.map((c) => c.cycle_id)).toEqual(['2023-01-29', '2023-02-28', '2023-03-29']);
    const leap = await cyclesFor(29, 'UTC', '2024-01-30T00:00:00Z', '2024-03-30T00:00:00Z');
    expect(leap.map((c) => c.cycle_id)).toEqual(['2024-01-29', '2024-02-29', '2024-03-29']);
  });

  it('anchor day 30 clamps February and returns to the 30th in March', async () => {
    const cycles = await cyclesFor(30, 'UTC', '2023-01-30T00:00:00Z', '2024-03-30T00:00:00Z');
    const ids = cycles.map((c) => c.cycle_id);
    expect(ids.slice(0, 3)).toEqual(['2023-01-30', '2023-02-28', '2023-03-30']);
    expect(ids.slice(-3)).toEqual(['2024-01-30', '2024-02-29', '2024-03-30']);
  });

  it('anchor day 31 follows Jan 31, Feb 28/29, Mar 31, Apr 30 without drifting', async () => {
    const nonLeap = await cyclesFor(31, 'UTC', '2023-01-31T00:00:00Z', '2023-05-31T00:00:00Z');
    expect(nonLeap.map((c) => c.cycle_id)).toEqual(['2023-01-31', '2023-02-28', '2023-03-31', '2023-04-30', '2023-05-31']);
    const leap = await cyclesFor(31, 'UTC', '2024-01-31T00:00:00Z', '2024-03-31T00:00:00Z');
    expect(leap.map((c) => c.cycle_id)).toEqual(['2024-01-31', '2024-02-29', '2024-03-31']);
    // each cycle ends where the next one starts
    expect(leap.slice(0, -1).map((c) => c.cycle_end)).toEqual(leap.slice(1).map((c) => c.cycle_start));
  });
});

describe('cycles: local midnight in a timezone, across daylight saving', () => {
  it('Europe/Paris anchored on the 15th, across the March and October changes', async () => {
    const cycles = await cyclesFor(15, 'Europe/Paris', '2024-02-20T00:00:00Z', '2024-11-20T00:00:00Z');
    const byId = Object.fromEntries(cycles.map((c) => [c.cycle_id, c.cycle_start]));
    expect(byId['2024-02-15']).toBe('2024-02-14T23:00:00Z'); // CET, UTC+1
    expect(byId['2024-03-15']).toBe('2024-03-14T23:00:00Z'); // before the March 31 change
    expect(byId['2024-04-15']).toBe('2024-04-14T22:00:00Z'); // CEST, UTC+2
    expect(byId['2024-10-15']).toBe('2024-10-14T22:00:00Z'); // before the October 27 change
    expect(byId['2024-11-15']).toBe('2024-11-14T23:00:00Z'); // back to CET
    expect(new Set(cycles.map((c) => c.timezone))).toEqual(new Set(['Europe/Paris']));
  });

  it('America/New_York anchored on the 15th, across the March and November changes', async () => {
    const cycles = await cyclesFor(15, 'America/New_York', '2024-02-20T00:00:00Z', '2024-11-20T00:00:00Z');
    const byId = Object.fromEntries(cycles.map((c) => [c.cycle_id, c.cycle_start]));
    expect(byId['2024-03-15']).toBe('2024-03-15T04:00:00Z'); // EDT since March 10
    expect(byId['2024-10-15']).toBe('2024-10-15T04:00:00Z');
    expect(byId['2024-11-15']).toBe('2024-11-15T05:00:00Z'); // EST since November 3
  });

  it('an interaction late on the 14th in New York but on the 15th in UTC falls in the earlier cycle', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [at('a', '2024-03-15T03:30:00Z', '2024-03-15T03:45:00Z')]);
    const facts = await buildFacts({ dir, inputs: [input], cycles: { defaultRule: { anchorDay: 15, timezone: 'America/New_York' } }, asOf: '2024-03-15T03:50:00Z' });
    expect(await facts.rows(`select cycle_id from fct_billable_conversations`)).toEqual([{ cycle_id: '2024-02-15' }]);
  });

  it('midnight that does not exist starts the cycle after the gap; midnight that happens twice, at its first occurrence', async () => {
    // Havana: clocks jump 00:00 -> 01:00 on 2023-03-12 and go back 01:00 -> 00:00 on 2023-11-05.
    const spring = await cyclesFor(12, 'America/Havana', '2023-03-20T00:00:00Z', '2023-03-20T00:00:00Z');
    expect(spring.map((c) => [c.cycle_id, c.cycle_start])).toEqual([['2023-03-12', '2023-03-12T05:00:00Z']]);
    const autumn = await cyclesFor(5, 'America/Havana', '2023-11-10T00:00:00Z', '2023-11-10T00:00:00Z');
    expect(autumn.map((c) => [c.cycle_id, c.cycle_start])).toEqual([['2023-11-05', '2023-11-05T04:00:00Z']]);
  });
});

describe('overlap: the edges of a cycle and of as-of', () => {
  async function cyclesOf(rows: InputRow[], asOf: string) {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', rows);
    const facts = await buildFacts({ dir, inputs: [input], asOf });
    return facts.rows(
      `select customer_account_id as account, cycle_id, last_activity_at from fct_billable_conversations order by account, cycle_start`,
    );
  }

  it('an interaction ending exactly at a cycle start counts in that cycle too', async () => {
    const rows = await cyclesOf([at('a', '2024-01-31T23:00:00Z', '2024-02-01T00:00:00Z')], '2024-03-01T00:00:00Z');
    expect(rows.map((r) => r.cycle_id)).toEqual(['2024-01-01', '2024-02-01']);
  });

  it('an interaction starting exactly at a cycle end counts only in the next cycle', async () => {
    const rows = await cyclesOf([at('a', '2024-02-01T00:00:00Z', '2024-02-01T01:00:00Z')], '2024-03-01T00:00:00Z');
    expect(rows.map((r) => r.cycle_id)).toEqual(['2024-02-01']);
  });

  it('an open interaction counts in every cycle from its start to the as-of cycle (three or more)', async () => {
    const rows = await cyclesOf([at('a', '2024-01-20T00:00:00Z', null)], '2024-04-10T00:00:00Z');
    expect(rows.map((r) => r.cycle_id)).toEqual(['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01']);
    expect(new Set(rows.map((r) => r.last_activity_at))).toEqual(new Set(['2024-04-10T00:00:00Z']));
  });

  it('an end after as-of is cut at as-of', async () => {
    const rows = await cyclesOf([at('a', '2024-01-20T00:00:00Z', '2024-06-01T00:00:00Z')], '2024-02-10T00:00:00Z');
    expect(rows).toEqual([
      { account: 'cust-1', cycle_id: '2024-01-01', last_activity_at: '2024-02-10T00:00:00Z' },
      { account: 'cust-1', cycle_id: '2024-02-01', last_activity_at: '2024-02-10T00:00:00Z' },
    ]);
  });

  it('rows after as-of are rejected and produce no cycle', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [at('a', '2024-01-20T00:00:00Z'), at('b', '2024-05-01T00:00:00Z', null, 'cust-2')]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-02-10T00:00:00Z' });
    expect(await facts.rows(`select cycle_id from dim_billing_cycles order by cycle_start`)).toEqual([
      { cycle_id: '2024-01-01' },
      { cycle_id: '2024-02-01' },
    ]);
    expect(await facts.rows(`select reason from rejected_interactions`)).toEqual([{ reason: 'after_as_of' }]);
  });

  it('cycles run from the earliest interaction of each org to the as-of cycle', async () => {
    const rows = await cyclesOf([at('a', '2023-11-05T00:00:00Z')], '2024-02-10T00:00:00Z');
    expect(rows.map((r) => r.cycle_id)).toEqual(['2023-11-01']);
  });

  it('per-org rules: each org has its own anchor and timezone, others use the default rule', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { ...at('a', '2024-02-10T12:00:00Z'), org_id: 'acme' },
      { ...at('b', '2024-02-20T12:00:00Z'), org_id: 'acme' },
      { ...at('c', '2024-02-10T12:00:00Z'), org_id: 'globex' },
    ]);
    const facts = await buildFacts({
      dir,
      inputs: [input],
      asOf: '2024-02-28T00:00:00Z',
      cycles: { orgRules: { acme: { anchorDay: 15, timezone: 'Europe/Paris' } } },
    });
    expect(await facts.rows(`select org_id, cycle_id, timezone from dim_billing_cycles order by org_id, cycle_start`)).toEqual([
      { org_id: 'acme', cycle_id: '2024-01-15', timezone: 'Europe/Paris' },
      { org_id: 'acme', cycle_id: '2024-02-15', timezone: 'Europe/Paris' },
      { org_id: 'globex', cycle_id: '2024-02-01', timezone: 'UTC' },
    ]);
  });
});

describe('cycles: explicit calendar file', () => {
  it('dates are local midnight in the org timezone, cycle_id defaults to the local start date, blank cycle_id too', async () => {
    const dir = tempDir();
    const calendar = writeCsv(dir, 'calendar.csv', [
      { org_id: 'acme', cycle_start: '2024-01-10', cycle_end: '2024-02-10', cycle_id: 'Q1-a' },
      { org_id: 'acme', cycle_start: '2024-02-10', cycle_end: '2024-03-10T00:00:00+01:00', cycle_id: ' ' },
    ]);
    const input = writeCsv(dir, 'in.csv', [{ ...at('a', '2024-01-20T00:00:00Z'), org_id: 'acme' }]);
    const facts = await buildFacts({
      dir,
      inputs: [input],
      asOf: '2024-02-20T00:00:00Z',
      cycles: { calendar, orgRules: { acme: { timezone: 'Europe/Paris' } } },
    });
    expect(await facts.rows(`select cycle_id, cycle_start, cycle_end from dim_billing_cycles order by cycle_start`)).toEqual([
      { cycle_id: 'Q1-a', cycle_start: '2024-01-09T23:00:00Z', cycle_end: '2024-02-09T23:00:00Z' },
      { cycle_id: '2024-02-10', cycle_start: '2024-02-09T23:00:00Z', cycle_end: '2024-03-09T23:00:00Z' },
    ]);
  });

  it('an org in the file gets exactly its cycles: time after the last one is outside the calendar', async () => {
    const dir = tempDir();
    const calendar = writeCsv(dir, 'calendar.csv', [{ org_id: 'acme', cycle_start: '2024-01-01', cycle_end: '2024-02-01' }]);
    const input = writeCsv(dir, 'in.csv', [
      { ...at('a', '2024-01-20T00:00:00Z'), org_id: 'acme' },
      { ...at('b', '2024-02-20T00:00:00Z'), org_id: 'acme' },
      { ...at('c', '2024-02-20T00:00:00Z'), org_id: 'other' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-03-01T00:00:00Z', cycles: { calendar } });
    expect(await facts.rows(`select org_id, cycle_id from fct_billable_conversations order by org_id`)).toEqual([
      { org_id: 'acme', cycle_id: '2024-01-01' },
      { org_id: 'other', cycle_id: '2024-02-01' },
    ]);
    expect(await facts.rows(`select source_row, reason from rejected_interactions`)).toEqual([
      { source_row: 2, reason: 'outside_billing_cycles' },
    ]);
  });

  async function calendarError(rows: InputRow[]): Promise<ConfigError> {
    const dir = tempDir();
    const calendar = writeCsv(dir, 'calendar.csv', rows);
    const input = writeCsv(dir, 'in.csv', [at('a', '2024-01-20T00:00:00Z')]);
    const error = await buildFacts({ dir, inputs: [input], cycles: { calendar } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }

  it('overlapping cycles are a configuration error naming the org and rows', async () => {
    const error = await calendarError([
      { org_id: 'acme', cycle_start: '2024-01-01', cycle_end: '2024-02-01' },
      { org_id: 'globex', cycle_start: '2024-01-01', cycle_end: '2024-03-01' },
      { org_id: 'acme', cycle_start: '2024-01-31', cycle_end: '2024-03-01' },
    ]);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/calendar\.csv: cycles of org "acme" overlap at rows 1 and 3\.$/);
  });

  it('cycle_end <= cycle_start is a configuration error naming the org and row', async () => {
    const error = await calendarError([{ org_id: 'acme', cycle_start: '2024-02-01', cycle_end: '2024-02-01' }]);
    expect(error.exitCode).toBe(2);
    expect(error.message).toMatch(/calendar\.csv, row 1: cycle_end is not after cycle_start for org "acme"\.$/);
  });

  it('an unparseable date is a configuration error naming the row', async () => {
    const error = await calendarError([{ org_id: 'acme', cycle_start: '2024-02-31', cycle_end: '2024-03-01' }]);
    expect(error.message).toMatch(/calendar\.csv, row 1 \(org "acme"\): cycle_start "2024-02-31" is not an ISO-8601 instant or date\.$/);
  });
});
