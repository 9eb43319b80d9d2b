/**
 * One table of cases, run on every engine (docs/billing-rules.md §8: the
 * contract holds on every engine alike): the seed's worked examples S1-S8
 * (§1, named as in rules.test.ts), one case per reject reason a row can
 * trigger (§5), and the edges of cycles and overlap (§3, §4). Each case's
 * expected conversations per (org, cycle_id) and rejects by reason are
 * worked out by hand from the rules, never taken from an engine; on
 * ClickHouse each case's facts must also equal DuckDB's row for row.
 *
 * The ClickHouse side needs CONVBILL_TEST_CLICKHOUSE_URL (test/clickhouse-target.ts)
 * and builds on cluster convbill_2shards.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CycleConfig } from '../src/reference/cycles.js';
import { type ClickHouseTarget, describeClickHouse } from './clickhouse-target.js';
import { type DetailRow, type EngineFacts, type EngineName, ENGINES, type RejectedRow, engineFacts } from './engine-builds.js';
import { tempDir, writeCsv, writeNdjson, type InputRow } from './helpers.js';

type FileSpec = { name: string; rows: InputRow[]; columns?: string[] } | { name: string; text: string };

interface Case {
  name: string;
  files: FileSpec[];
  asOf: string;
  cycles?: Omit<Partial<CycleConfig>, 'calendar'>;
  /** the explicit calendar file's rows (org_id, cycle_id, cycle_start, cycle_end) */
  calendar?: InputRow[];
  /** the integrations reference file's rows (integration_id, platform, org_id, name) */
  integrations?: InputRow[];
  /** conversations per `org/cycle_id`, every cycle of dim_billing_cycles listed */
  counts: Record<string, number>;
  /** rejected rows per reason */
  rejects: Record<string, number>;
  /** every row of the detail, in its order, on the columns these rows name */
  detail?: Partial<DetailRow>[];
  /** every row of dim_billing_cycles, in order, on the columns these rows name */
  billingCycles?: Partial<EngineFacts['cycles'][number]>[];
  /** every rejected row, in order, on the columns these rows name */
  rejected?: Partial<RejectedRow>[];
}

const ms = (text: string) => Date.parse(text);

function interaction(id: string, account: string, integration: string, started: string, ended: string | null, extra: InputRow = {}): InputRow {
  return { interaction_id: id, integration_id: integration, customer_account_id: account, started_at: started, ended_at: ended, ...extra };
}
function message(id: string, account: string, integration: string, occurred: string, extra: InputRow = {}): InputRow {
  return { interaction_id: id, integration_id: integration, customer_account_id: account, occurred_at: occurred, ...extra };
}
const INTERACTION_COLUMNS = ['org_id', 'interaction_id', 'integration_id', 'customer_account_id', 'platform', 'started_at', 'ended_at'];
const csv = (rows: InputRow[], name = 'interactions.csv'): FileSpec => ({ name, rows, columns: INTERACTION_COLUMNS });
const jan = { 'default/2024-01-01': 1, 'default/2024-02-01': 0, 'default/2024-03-01': 0 };
const AS_OF = '2024-03-31T00:00:00Z';
/** one billable interaction in January beside each bad row, so the default org has its cycles */
const good = interaction('good', 'cust-ok', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:30:00Z');

/**
 * Accounts that are text a CSV, JSON or SQL literal could mistake for something else. (A
 * carriage return inside a quoted CSV field is not among them: the loader reads a file
 * holding a CR from an LF copy, src/ingest/line-endings.ts, so it arrives as LF on every engine.)
 */
const ODD_ACCOUNTS = ["o'brien", 'say "hi"', 'back\\slash', '\\N', '\\\\N', 'NULL', 'ünïcødé 📱', 'a,b', 'line1\nline2', 'tab\there', `long-${'x'.repeat(5000)}`, 'Bob', 'bob'];

const CASES: Case[] = [
  // ---------------------------------------------------------------- §1, the seed's examples
  {
    name: 'S1: one interaction, one integration, one day, inside a cycle is 1 conversation',
    files: [csv([interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:30:00Z')])],
    asOf: AS_OF,
    counts: jan,
    rejects: {},
  },
  {
    name: 'S2: one interaction over several days inside a cycle is 1 conversation',
    files: [csv([interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-14T17:00:00Z')])],
    asOf: AS_OF,
    counts: jan,
    rejects: {},
    detail: [{ customer_account_id: 'cust-1', interaction_count: 1, first_activity_at: ms('2024-01-10T09:00:00Z'), last_activity_at: ms('2024-01-14T17:00:00Z') }],
  },
  {
    name: 'S3: several interactions on several occasions, same customer, integration and cycle, are 1 conversation',
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-1', '2024-01-03T09:00:00Z', '2024-01-03T09:10:00Z'),
        interaction('b', 'cust-1', 'wa-1', '2024-01-12T15:00:00Z', '2024-01-12T15:45:00Z'),
        interaction('c', 'cust-1', 'wa-1', '2024-01-28T08:00:00Z', '2024-01-29T08:00:00Z'),
      ]),
    ],
    asOf: AS_OF,
    counts: jan,
    rejects: {},
    detail: [{ customer_account_id: 'cust-1', interaction_count: 3, first_activity_at: ms('2024-01-03T09:00:00Z'), last_activity_at: ms('2024-01-29T08:00:00Z') }],
  },
  {
    name: 'S4: one interaction across a cycle boundary is 2 conversations, one per cycle',
    files: [csv([interaction('a', 'cust-1', 'wa-1', '2024-01-30T22:00:00Z', '2024-02-02T10:00:00Z')])],
    asOf: AS_OF,
    counts: { 'default/2024-01-01': 1, 'default/2024-02-01': 1, 'default/2024-03-01': 0 },
    rejects: {},
    // first/last activity are the interaction's own, not clipped to the cycle
    detail: [
      { cycle_id: '2024-01-01', first_activity_at: ms('2024-01-30T22:00:00Z'), last_activity_at: ms('2024-02-02T10:00:00Z') },
      { cycle_id: '2024-02-01', first_activity_at: ms('2024-01-30T22:00:00Z'), last_activity_at: ms('2024-02-02T10:00:00Z') },
    ],
  },
  {
    name: 'S5: two integrations of different platforms in one cycle are 2 conversations',
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z', { platform: 'whatsapp' }),
        interaction('b', 'cust-1', 'fb-1', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z', { platform: 'facebook' }),
      ]),
    ],
    asOf: '2024-01-31T00:00:00Z',
    counts: { 'default/2024-01-01': 2 },
    rejects: {},
    detail: [
      { integration_id: 'fb-1', platform: 'facebook' },
      { integration_id: 'wa-1', platform: 'whatsapp' },
    ],
  },
  {
    name: 'S6: two integrations of the same platform in one cycle are 2 conversations',
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-sales', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z', { platform: 'whatsapp' }),
        interaction('b', 'cust-1', 'wa-support', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z', { platform: 'WhatsApp ' }),
      ]),
    ],
    asOf: '2024-01-31T00:00:00Z',
    counts: { 'default/2024-01-01': 2 },
    rejects: {},
    detail: [
      { integration_id: 'wa-sales', platform: 'whatsapp' },
      { integration_id: 'wa-support', platform: 'whatsapp' },
    ],
  },
  {
    name: 'S7: a manager taking over from their own account, same agent and topic, is 2 conversations (two accounts)',
    files: [
      csv([
        interaction('a', 'customer-account', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:20:00Z'),
        interaction('b', 'manager-account', 'wa-1', '2024-01-10T09:25:00Z', '2024-01-10T10:00:00Z'),
      ]),
    ],
    asOf: AS_OF,
    counts: { 'default/2024-01-01': 2, 'default/2024-02-01': 0, 'default/2024-03-01': 0 },
    rejects: {},
  },
  {
    name: 'S8: a cycle starting on the 15th: activity on the 10th and the 20th of one month is 2 conversations',
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-1', '2024-02-10T09:00:00Z', '2024-02-10T09:30:00Z'),
        interaction('b', 'cust-1', 'wa-1', '2024-02-20T09:00:00Z', '2024-02-20T09:30:00Z'),
      ]),
    ],
    asOf: AS_OF,
    cycles: { defaultRule: { anchorDay: 15, timezone: 'UTC' } },
    counts: { 'default/2024-01-15': 1, 'default/2024-02-15': 1, 'default/2024-03-15': 0 },
    rejects: {},
  },

  // ---------------------------------------------------------------- §5, one case per reject reason
  {
    name: 'reject missing_integration_id: a blank integration_id',
    files: [csv([good, interaction('b', 'cust-1', ' ', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z')])],
    asOf: AS_OF,
    counts: jan,
    rejects: { missing_integration_id: 1 },
  },
  {
    name: 'reject missing_customer_account_id: a blank account',
    files: [csv([good, interaction('b', '\t', 'wa-1', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z')])],
    asOf: AS_OF,
    counts: jan,
    rejects: { missing_customer_account_id: 1 },
  },
  {
    name: 'reject missing_timestamp: an interaction row with an end and no start',
    files: [csv([good, interaction('b', 'cust-1', 'wa-1', '', '2024-01-11T10:00:00Z')])],
    asOf: AS_OF,
    counts: jan,
    rejects: { missing_timestamp: 1 },
  },
  {
    name: 'reject invalid_timestamp: a start that does not parse, and an end on 30 February',
    files: [
      csv([
        good,
        interaction('b', 'cust-1', 'wa-1', 'not-a-date', '2024-01-11T10:00:00Z'),
        interaction('c', 'cust-1', 'wa-1', '2024-01-11T10:00:00Z', '2024-02-30T10:00:00Z'),
      ]),
    ],
    asOf: AS_OF,
    counts: jan,
    rejects: { invalid_timestamp: 2 },
  },
  {
    name: 'reject implausible_timestamp: epoch seconds read as milliseconds land in January 1970',
    files: [csv([good, interaction('b', 'cust-1', 'wa-1', '1704880800', '1704882600')])],
    asOf: AS_OF,
    counts: jan,
    rejects: { implausible_timestamp: 1 },
  },
  {
    name: 'reject ended_before_started: an end one millisecond before the start',
    files: [csv([good, interaction('b', 'cust-1', 'wa-1', '2024-01-11T10:00:00.000Z', '2024-01-11T09:59:59.999Z')])],
    asOf: AS_OF,
    counts: jan,
    rejects: { ended_before_started: 1 },
  },
  {
    name: 'reject conflicting_customer_account: one interaction carrying two accounts loses all its rows',
    files: [
      csv([good, interaction('x', 'cust-1', 'wa-1', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z')]),
      { name: 'messages.ndjson', rows: [message('x', 'cust-2', 'wa-1', '2024-01-11T09:30:00Z')] },
    ],
    asOf: AS_OF,
    counts: jan,
    rejects: { conflicting_customer_account: 2 },
  },
  {
    name: 'reject after_as_of: an interaction starting 1 ms after as-of (one starting at as-of, open, still counts)',
    files: [
      csv([
        good,
        interaction('late', 'cust-2', 'wa-1', '2024-03-31T00:00:00.001Z', '2024-03-31T01:00:00Z'),
        interaction('at', 'cust-3', 'wa-1', '2024-03-31T00:00:00Z', null),
      ]),
    ],
    asOf: AS_OF,
    counts: { 'default/2024-01-01': 1, 'default/2024-02-01': 0, 'default/2024-03-01': 1 },
    rejects: { after_as_of: 1 },
    detail: [
      { customer_account_id: 'cust-ok', first_activity_at: ms('2024-01-10T09:00:00Z'), last_activity_at: ms('2024-01-10T09:30:00Z') },
      { customer_account_id: 'cust-3', first_activity_at: ms(AS_OF), last_activity_at: ms(AS_OF) },
    ],
  },
  {
    name: 'reject outside_billing_cycles: an interaction in the gap of an explicit calendar (one spanning the gap counts on both sides)',
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z', { org_id: 'acme' }),
        interaction('b', 'cust-2', 'wa-1', '2024-02-10T09:00:00Z', '2024-02-11T10:00:00Z', { org_id: 'acme' }),
        interaction('c', 'cust-3', 'wa-1', '2024-01-25T09:00:00Z', '2024-03-05T10:00:00Z', { org_id: 'acme' }),
      ]),
    ],
    calendar: [
      { org_id: 'acme', cycle_id: '2024-M01', cycle_start: '2024-01-01', cycle_end: '2024-02-01' },
      // a blank cycle_id gets the default label, the local start date
      { org_id: 'acme', cycle_id: '', cycle_start: '2024-03-01T00:00:00Z', cycle_end: '2024-04-01T00:00:00Z' },
    ],
    asOf: '2024-03-15T00:00:00Z',
    counts: { 'acme/2024-M01': 2, 'acme/2024-03-01': 1 },
    rejects: { outside_billing_cycles: 1 },
    billingCycles: [
      { cycle_id: '2024-M01', cycle_start: ms('2024-01-01T00:00:00Z'), cycle_end: ms('2024-02-01T00:00:00Z') },
      { cycle_id: '2024-03-01', cycle_start: ms('2024-03-01T00:00:00Z'), cycle_end: ms('2024-04-01T00:00:00Z') },
    ],
  },
  {
    name: 'reject malformed_row: a CSV row with one field too many',
    files: [
      {
        name: 'interactions.csv',
        text: [
          'interaction_id,integration_id,customer_account_id,started_at,ended_at',
          'good,wa-1,cust-ok,2024-01-10T09:00:00Z,2024-01-10T09:30:00Z',
          'b,wa-1,cust-1,2024-01-11T09:00:00Z,2024-01-11T10:00:00Z,surplus',
          'c,wa-1,cust-ok,2024-01-12T09:00:00Z,2024-01-12T10:00:00Z',
          '',
        ].join('\n'),
      },
    ],
    asOf: AS_OF,
    counts: jan,
    rejects: { malformed_row: 1 },
    rejected: [{ source_file: 'interactions.csv', source_row: 2, reason: 'malformed_row', org_id: null }],
    detail: [{ customer_account_id: 'cust-ok', interaction_count: 2 }],
  },

  // ---------------------------------------------------------------- §3 and §4, the edges
  {
    name: 'millisecond boundary: ending exactly at cycle_start counts in that cycle, ending 1 ms before does not',
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-1', '2024-01-31T20:00:00Z', '2024-02-01T00:00:00.000Z'),
        interaction('b', 'cust-2', 'wa-1', '2024-01-31T20:00:00Z', '2024-01-31T23:59:59.999Z'),
        // a start at a cycle's end is not in that cycle (half-open cycles)
        interaction('c', 'cust-3', 'wa-1', '2024-03-01T00:00:00.000Z', '2024-03-01T01:00:00Z'),
        interaction('d', 'cust-4', 'wa-1', '2024-02-29T23:59:59.999Z', '2024-02-29T23:59:59.999Z'),
      ]),
    ],
    asOf: AS_OF,
    counts: { 'default/2024-01-01': 2, 'default/2024-02-01': 2, 'default/2024-03-01': 1 },
    rejects: {},
    detail: [
      { cycle_id: '2024-01-01', customer_account_id: 'cust-1', last_activity_at: ms('2024-02-01T00:00:00.000Z') },
      { cycle_id: '2024-01-01', customer_account_id: 'cust-2', last_activity_at: ms('2024-01-31T23:59:59.999Z') },
      { cycle_id: '2024-02-01', customer_account_id: 'cust-1', last_activity_at: ms('2024-02-01T00:00:00.000Z') },
      { cycle_id: '2024-02-01', customer_account_id: 'cust-4', last_activity_at: ms('2024-02-29T23:59:59.999Z') },
      { cycle_id: '2024-03-01', customer_account_id: 'cust-3', last_activity_at: ms('2024-03-01T01:00:00Z') },
    ],
  },
  {
    name: 'open interaction: no ended_at (a message row does not close it) runs to as-of, one conversation in every cycle',
    files: [
      csv([
        interaction('o', 'cust-1', 'wa-1', '2024-01-20T10:00:00Z', null),
        interaction('c', 'cust-2', 'wa-1', '2024-01-05T10:00:00Z', '2024-01-06T10:00:00Z'),
      ]),
      { name: 'messages.ndjson', rows: [message('o', 'cust-1', 'wa-1', '2024-02-05T08:00:00Z')] },
    ],
    asOf: '2024-04-15T12:00:00Z',
    counts: { 'default/2024-01-01': 2, 'default/2024-02-01': 1, 'default/2024-03-01': 1, 'default/2024-04-01': 1 },
    rejects: {},
    detail: [
      { cycle_id: '2024-01-01', customer_account_id: 'cust-1', first_activity_at: ms('2024-01-20T10:00:00Z'), last_activity_at: ms('2024-04-15T12:00:00Z') },
      { cycle_id: '2024-01-01', customer_account_id: 'cust-2', first_activity_at: ms('2024-01-05T10:00:00Z'), last_activity_at: ms('2024-01-06T10:00:00Z') },
      { cycle_id: '2024-02-01', customer_account_id: 'cust-1', first_activity_at: ms('2024-01-20T10:00:00Z'), last_activity_at: ms('2024-04-15T12:00:00Z') },
      { cycle_id: '2024-03-01', customer_account_id: 'cust-1', first_activity_at: ms('2024-01-20T10:00:00Z'), last_activity_at: ms('2024-04-15T12:00:00Z') },
      { cycle_id: '2024-04-01', customer_account_id: 'cust-1', first_activity_at: ms('2024-01-20T10:00:00Z'), last_activity_at: ms('2024-04-15T12:00:00Z') },
    ],
  },
  {
    // Brazil moved its clocks from 00:00 -03 to 01:00 -02 on 2018-11-04: that midnight does not
    // exist, and the cycle starts at the first local instant after the gap, 01:00 -02 (03:00Z)
    name: 'DST gap at midnight: America/Sao_Paulo anchor day 4 starts the 2018-11-04 cycle at the end of the gap',
    files: [
      csv([
        // 23:30 -03 on 3 November: the October cycle
        interaction('a', 'cust-1', 'wa-1', '2018-11-04T02:30:00Z', '2018-11-04T02:45:00Z', { org_id: 'brasil' }),
        // ends at 01:00 -02, the November cycle's first instant: both cycles
        interaction('b', 'cust-2', 'wa-1', '2018-11-04T02:59:59.999Z', '2018-11-04T03:00:00.000Z', { org_id: 'brasil' }),
        // 00:30 -02 on 4 December: the December cycle, which starts at 02:00Z under summer time
        interaction('c', 'cust-3', 'wa-1', '2018-12-04T02:30:00Z', '2018-12-04T03:30:00Z', { org_id: 'brasil' }),
      ]),
    ],
    asOf: '2018-12-10T00:00:00Z',
    cycles: { orgRules: { brasil: { anchorDay: 4, timezone: 'America/Sao_Paulo' } } },
    counts: { 'brasil/2018-10-04': 2, 'brasil/2018-11-04': 1, 'brasil/2018-12-04': 1 },
    rejects: {},
    billingCycles: [
      { cycle_id: '2018-10-04', cycle_start: ms('2018-10-04T03:00:00Z'), cycle_end: ms('2018-11-04T03:00:00Z') },
      { cycle_id: '2018-11-04', cycle_start: ms('2018-11-04T03:00:00Z'), cycle_end: ms('2018-12-04T02:00:00Z') },
      { cycle_id: '2018-12-04', cycle_start: ms('2018-12-04T02:00:00Z'), cycle_end: ms('2019-01-04T02:00:00Z') },
    ],
  },
  {
    name: 'anchor day 31: short months start on their last day (29 February in 2024) and the next month returns to the 31st',
    files: [
      csv([
        interaction('b', 'cust-2', 'wa-1', '2024-02-28T23:00:00Z', '2024-02-28T23:30:00Z'),
        interaction('a', 'cust-1', 'wa-1', '2024-02-29T12:00:00Z', '2024-02-29T13:00:00Z'),
        interaction('d', 'cust-1', 'wa-1', '2024-03-30T10:00:00Z', '2024-03-30T11:00:00Z'),
        interaction('c', 'cust-3', 'wa-1', '2024-04-30T00:00:00Z', '2024-04-30T01:00:00Z'),
      ]),
    ],
    asOf: '2024-05-15T00:00:00Z',
    cycles: { defaultRule: { anchorDay: 31, timezone: 'UTC' } },
    counts: { 'default/2024-01-31': 1, 'default/2024-02-29': 1, 'default/2024-03-31': 0, 'default/2024-04-30': 1 },
    rejects: {},
    detail: [
      { cycle_id: '2024-01-31', customer_account_id: 'cust-2', interaction_count: 1 },
      { cycle_id: '2024-02-29', customer_account_id: 'cust-1', interaction_count: 2 },
      { cycle_id: '2024-04-30', customer_account_id: 'cust-3', interaction_count: 1 },
    ],
    billingCycles: [
      { cycle_id: '2024-01-31', cycle_start: ms('2024-01-31T00:00:00Z'), cycle_end: ms('2024-02-29T00:00:00Z') },
      { cycle_id: '2024-02-29', cycle_start: ms('2024-02-29T00:00:00Z'), cycle_end: ms('2024-03-31T00:00:00Z') },
      { cycle_id: '2024-03-31', cycle_start: ms('2024-03-31T00:00:00Z'), cycle_end: ms('2024-04-30T00:00:00Z') },
      { cycle_id: '2024-04-30', cycle_start: ms('2024-04-30T00:00:00Z'), cycle_end: ms('2024-05-31T00:00:00Z') },
    ],
  },
  {
    name: 'padded keys: spaces, tabs and line breaks around org, integration, interaction and account ids merge with the unpadded ids',
    files: [
      csv([
        interaction('x', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z', { org_id: 'acme' }),
        interaction('y', ' cust-1 ', ' wa-1', '2024-01-20T09:00:00Z', '2024-01-20T09:30:00Z', { org_id: '  acme' }),
      ]),
      // the same interaction x: its end moves to 2 February, into the next cycle
      { name: 'messages.ndjson', rows: [message(' x ', 'cust-1\n', '\twa-1 ', '2024-02-02T08:00:00Z', { org_id: ' acme\t' })] },
    ],
    asOf: '2024-02-15T00:00:00Z',
    counts: { 'acme/2024-01-01': 1, 'acme/2024-02-01': 1 },
    rejects: {},
    detail: [
      { org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-1', customer_account_id: 'cust-1', interaction_count: 2, first_activity_at: ms('2024-01-10T09:00:00Z'), last_activity_at: ms('2024-02-02T08:00:00Z') },
      { org_id: 'acme', cycle_id: '2024-02-01', integration_id: 'wa-1', customer_account_id: 'cust-1', interaction_count: 1, first_activity_at: ms('2024-01-10T09:00:00Z'), last_activity_at: ms('2024-02-02T08:00:00Z') },
    ],
  },
  {
    name: "integrations reference: its platform wins over the rows' (§5), an integration no one names a platform for is unknown",
    files: [
      csv([
        interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z', { platform: 'facebook' }),
        interaction('b', 'cust-1', 'fb-1', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z', { platform: 'Facebook' }),
        interaction('c', 'cust-1', 'api-1', '2024-01-12T09:00:00Z', '2024-01-12T10:00:00Z'),
        interaction('d', 'cust-1', 'wa-2', '2024-01-13T09:00:00Z', '2024-01-13T10:00:00Z', { org_id: 'acme', platform: 'sms' }),
      ]),
    ],
    integrations: [
      { org_id: '', integration_id: 'wa-1', platform: 'WhatsApp', name: 'Sales line' },
      { org_id: 'acme', integration_id: 'wa-2', platform: 'whatsapp', name: '' },
    ],
    asOf: '2024-01-31T00:00:00Z',
    counts: { 'default/2024-01-01': 3, 'acme/2024-01-01': 1 },
    rejects: {},
    detail: [
      { org_id: 'acme', integration_id: 'wa-2', platform: 'whatsapp' },
      { org_id: 'default', integration_id: 'api-1', platform: 'unknown' },
      { org_id: 'default', integration_id: 'fb-1', platform: 'facebook' },
      { org_id: 'default', integration_id: 'wa-1', platform: 'whatsapp' },
    ],
  },
  {
    // keys are opaque text (§2): quotes, backslashes, commas, a literal \N or NULL, line breaks
    // and tabs inside, non-ASCII; each account is its own conversation, on every engine
    name: 'odd characters in keys: quotes, backslashes, commas, \\N, NULL, inner line breaks and non-ASCII stay opaque',
    files: [
      csv(
        ODD_ACCOUNTS.map((account, i) =>
          interaction(`id-${i}'\\`, account, 'wa,"1"\\', `2024-01-${String(10 + i).padStart(2, '0')}T09:00:00Z`, `2024-01-${String(10 + i).padStart(2, '0')}T10:00:00Z`, {
            org_id: "it's\\here",
          }),
        ),
      ),
    ],
    asOf: '2024-02-15T00:00:00Z',
    counts: { "it's\\here/2024-01-01": ODD_ACCOUNTS.length, "it's\\here/2024-02-01": 0 },
    rejects: {},
    detail: [...ODD_ACCOUNTS]
      .sort()
      .map((account) => ({ integration_id: 'wa,"1"\\', customer_account_id: account })),
  },
  {
    name: 'odd characters in rejected rows: the keys and the raw row come back as read',
    files: [
      csv([
        good,
        interaction('\\N', '', '\\N', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z', { org_id: '\\N' }),
        interaction("it's", 'say "hi"\\', 'back\\slash', 'not-a-date\n2', '', { org_id: 'ünï', platform: 'what\\sapp' }),
        interaction('x,y', "o'brien", 'wa-1', '2024-01-12T09:00:00Z', '2024-01-12T10:00:00Z', { org_id: 'NULL' }),
        interaction('x,y', 'line1\nline2', 'wa-1', '2024-01-12T09:30:00Z', null, { org_id: 'NULL' }),
      ]),
    ],
    asOf: AS_OF,
    counts: jan,
    rejects: { missing_customer_account_id: 1, invalid_timestamp: 1, conflicting_customer_account: 2 },
    rejected: [
      { source_row: 2, reason: 'missing_customer_account_id', org_id: '\\N', integration_id: '\\N', interaction_key: '\\N' },
      { source_row: 3, reason: 'invalid_timestamp', org_id: 'ünï', integration_id: 'back\\slash', interaction_key: "it's" },
      { source_row: 4, reason: 'conflicting_customer_account', org_id: 'NULL', integration_id: 'wa-1', interaction_key: 'x,y' },
      { source_row: 5, reason: 'conflicting_customer_account', org_id: 'NULL', integration_id: 'wa-1', interaction_key: 'x,y' },
    ],
  },
];

// ---------------------------------------------------------------- running a case

/** Each case's files, written once and read by every engine's build. */
const written = new Map<string, { inputs: string[]; calendar?: string; integrations?: string }>();
function caseFiles(c: Case): { inputs: string[]; calendar?: string; integrations?: string } {
  let files = written.get(c.name);
  if (!files) {
    const dir = tempDir('convbill-engines-');
    const inputs = c.files.map((file) => {
      if ('text' in file) {
        const path = join(dir, file.name);
        writeFileSync(path, file.text);
        return path;
      }
      return file.name.endsWith('.ndjson') ? writeNdjson(dir, file.name, file.rows) : writeCsv(dir, file.name, file.rows, file.columns);
    });
    const calendar = c.calendar && writeCsv(dir, 'cycles.csv', c.calendar, ['org_id', 'cycle_id', 'cycle_start', 'cycle_end']);
    const integrations = c.integrations && writeCsv(dir, 'integrations.csv', c.integrations, ['org_id', 'integration_id', 'platform', 'name']);
    files = { inputs, calendar, integrations };
    written.set(c.name, files);
  }
  return files;
}

const facts = new Map<string, Promise<EngineFacts>>();
/** One build of a case on one engine, shared by the tests that read it. */
function factsOf(c: Case, engine: EngineName, clickhouse: ClickHouseTarget | null): Promise<EngineFacts> {
  const key = `${engine}\u0000${c.name}`;
  let found = facts.get(key);
  if (!found) {
    const { inputs, calendar, integrations } = caseFiles(c);
    found = engineFacts(engine, { inputs, asOf: c.asOf, cycles: { ...c.cycles, calendar }, integrations }, clickhouse);
    facts.set(key, found);
  }
  return found;
}

/** rows on the columns any expected row names */
const project = <T extends object>(rows: T[], expected: Partial<T>[]) => {
  const columns = [...new Set(expected.flatMap((row) => Object.keys(row)))] as (keyof T)[];
  return rows.map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])));
};

function caseTests(engine: EngineName, clickhouse: ClickHouseTarget | null): void {
  for (const c of CASES) {
    it(`${engine}: ${c.name}`, async () => {
      const got = await factsOf(c, engine, clickhouse);
      expect(got.counts, 'conversations per org/cycle_id').toEqual(c.counts);
      expect(got.rejects, 'rejects by reason').toEqual(c.rejects);
      if (c.detail) expect(project(got.detail, c.detail), 'detail').toEqual(c.detail);
      if (c.billingCycles) expect(project(got.cycles, c.billingCycles), 'dim_billing_cycles').toEqual(c.billingCycles);
      if (c.rejected) expect(project(got.rejected, c.rejected), 'rejected rows').toEqual(c.rejected);
      // every detail row is a conversation of the counts
      expect(got.detail.length).toBe(Object.values(got.counts).reduce((a, b) => a + b, 0));
      if (engine !== 'duckdb') {
        const duck = await factsOf(c, 'duckdb', null);
        expect(got.detail, 'detail equals DuckDB').toEqual(duck.detail);
        expect(got.countRows, 'fct_conversation_counts equals DuckDB').toEqual(duck.countRows);
        expect(got.cycles, 'dim_billing_cycles equals DuckDB').toEqual(duck.cycles);
        expect(got.rejected, 'rejected_interactions equals DuckDB').toEqual(duck.rejected);
      }
    });
  }
}

for (const engine of ENGINES) {
  if (engine === 'duckdb') describe(`engines: ${engine}`, () => caseTests(engine, null));
  else describeClickHouse(`engines: ${engine}`, (target) => caseTests(engine, target));
}
