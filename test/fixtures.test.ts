/**
 * Vendor-shaped fixtures (test/fixtures/<name>/), each built through a
 * config file (convbill.json) and the compiled CLI as a user runs it, then
 * read back from the published copy. Every expected number is derived by
 * hand from the fixture files (the comment beside each assertion says why);
 * rows_read is also checked against a count of the file's physical data
 * rows made here, without DuckDB.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { rows, tempDir } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');
const fixtures = resolve('test/fixtures');
const AS_OF = '2026-04-15T00:00:00Z';

function convbill(cwd: string, args: string[]) {
  const run = spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

interface Built {
  dir: string;
  /** runs SQL on the published copy */
  q: (sql: string) => Promise<Record<string, unknown>[]>;
  /** rpt_source_files, one row per file, source_file relative to the workspace */
  files: () => Promise<Record<string, unknown>[]>;
  /** rejected_interactions with source_file relative to the workspace and raw parsed */
  rejects: () => Promise<{ file: string; source_row: unknown; reason: unknown; raw: Record<string, unknown> }[]>;
}

/** Copies fixture `name` into a fresh workspace, writes convbill.json, runs `convbill build --config convbill.json`. */
function buildFixture(name: string, sources: Record<string, unknown>[], extra: Record<string, unknown> = {}): Built {
  const dir = realpathSync(tempDir());
  cpSync(join(fixtures, name), join(dir, name), { recursive: true });
  writeFileSync(join(dir, 'convbill.json'), JSON.stringify({ db: 'out/convbill.duckdb', sources, as_of: AS_OF, ...extra }, null, 2));
  const run = convbill(dir, ['build', '--config', 'convbill.json']);
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
  const published = join(dir, 'out/convbill_published.duckdb');
  const rel = (file: unknown) => relative(dir, realpathSync(String(file)));
  const q = async (sql: string) => (await rows(published, sql)) as Record<string, unknown>[];
  return {
    dir,
    q,
    files: async () =>
      (
        await q(
          `select source_file, rows_read, rows_accepted, rows_rejected, rows_filtered, identity_holds
           from rpt_source_files where counted order by source_file`,
        )
      ).map((row) => ({ ...row, source_file: rel(row.source_file) })),
    rejects: async () =>
      (await q(`select source_file, source_row, reason, raw from rejected_interactions order by source_file, source_row`)).map((row) => ({
        file: rel(row.source_file),
        source_row: row.source_row,
        reason: row.reason,
        raw: JSON.parse(String(row.raw)) as Record<string, unknown>,
      })),
  };
}

const counts = (b: Built) =>
  b.q(`select org_id, cycle_id, integration_id, platform, conversations from fct_conversation_counts order by all`);
const billable = (b: Built) =>
  b.q(
    `select org_id, cycle_id, integration_id, customer_account_id, interaction_count, first_activity_at, last_activity_at
     from fct_billable_conversations order by all`,
  );

/** Split bytes on \n; a trailing \r is part of the line ending. */
function physicalLines(bytes: Buffer): string[] {
  const lines = bytes.toString('latin1').split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
/** A CSV's physical data rows, counted without DuckDB: lines after the header that are not empty. */
const csvDataRows = (file: string) => physicalLines(readFileSync(file)).slice(1).filter((line) => line !== '').length;
/** An NDJSON file's rows: its non-empty lines (after gunzip when .gz). */
const ndjsonRows = (file: string) => {
  const bytes = readFileSync(file);
  return physicalLines(file.endsWith('.gz') ? gunzipSync(bytes) : bytes).filter((line) => line.trim() !== '').length;
};

describe('fixture contact-centre: participant rows, a filter keeps the customers', () => {
  const source = {
    path: 'contact-centre/conversations.csv',
    columns: {
      interaction_id: 'conversationId',
      integration_id: 'channelId',
      customer_account_id: 'participantId',
      started_at: 'startTime',
      ended_at: 'endTime',
    },
    filter: "participantRole = 'customer'",
  };

  it('counts customer rows only, splits the month-crossing conversation, merges a customer’s two conversations', async () => {
    const b = buildFixture('contact-centre', [source]);
    // 13 data lines after the header; nothing in DuckDB needed to know it
    expect(csvDataRows(join(b.dir, 'contact-centre/conversations.csv'))).toBe(13);
    expect(await b.files()).toEqual([
      {
        source_file: 'contact-centre/conversations.csv',
        rows_read: 13, // 13 physical data rows
        rows_accepted: 5, // customer rows of conv-1001, 1002, 1003, 1004, 1006
        rows_rejected: 1, // the customer row of conv-1005 has a blank participantId
        rows_filtered: 7, // agent rows: 1001, 1002, 1003, 1004 (two agents), 1005, 1006
        identity_holds: true, // 13 = 5 + 1 + 7
      },
    ]);
    expect(await b.rejects()).toEqual([
      // data row 10 is conv-1005's customer row, participantId blank
      { file: 'contact-centre/conversations.csv', source_row: 10, reason: 'missing_customer_account_id', raw: expect.objectContaining({ interaction_id: 'conv-1005' }) },
    ]);
    expect(await counts(b)).toEqual([
      // March, fb-page-9: psid-5550001 (conv-1004); no platform anywhere, so unknown
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'fb-page-9', platform: 'unknown', conversations: 1 },
      // March, wa-fr-1: +33611111111 (conv-1001 and conv-1002) and +33622222222 (conv-1003 starts 31 Mar)
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-fr-1', platform: 'unknown', conversations: 2 },
      // April, wa-fr-1: +33622222222 (conv-1003 ends 1 Apr) and +33633333333 (conv-1006)
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'wa-fr-1', platform: 'unknown', conversations: 2 },
    ]);
    expect(await billable(b)).toEqual([
      // conv-1004, 08:00 to 08:05 on 10 Mar
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'fb-page-9', customer_account_id: 'psid-5550001', interaction_count: 1, first_activity_at: '2026-03-10T08:00:00Z', last_activity_at: '2026-03-10T08:05:00Z' },
      // conv-1001 (3 Mar 09:00) and conv-1002 (ends 17 Mar 14:30): two interactions, one conversation
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-fr-1', customer_account_id: '+33611111111', interaction_count: 2, first_activity_at: '2026-03-03T09:00:00Z', last_activity_at: '2026-03-17T14:30:00Z' },
      // conv-1003 in March, not clipped to the cycle
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-fr-1', customer_account_id: '+33622222222', interaction_count: 1, first_activity_at: '2026-03-31T22:30:00Z', last_activity_at: '2026-04-01T01:15:00Z' },
      // conv-1003 again in April
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'wa-fr-1', customer_account_id: '+33622222222', interaction_count: 1, first_activity_at: '2026-03-31T22:30:00Z', last_activity_at: '2026-04-01T01:15:00Z' },
      // conv-1006 on 2 Apr
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'wa-fr-1', customer_account_id: '+33633333333', interaction_count: 1, first_activity_at: '2026-04-02T10:00:00Z', last_activity_at: '2026-04-02T10:10:00Z' },
    ]);
    // no agent id ever reaches the facts
    expect(await b.q(`select count(*)::integer as n from fct_billable_conversations where customer_account_id like 'agent-%'`)).toEqual([{ n: 0 }]);
  });
});

describe('fixture message-events: gzipped NDJSON mapped by dotted paths', () => {
  const source = {
    path: 'message-events/events.ndjson.gz',
    columns: {
      interaction_id: 'conversation.id',
      integration_id: 'channel.id',
      platform: 'channel.type',
      customer_account_id: 'from.phone',
      occurred_at: 'timestamp',
      message_id: 'id',
    },
  };

  it('message rows are points of activity; the bad JSON line is malformed, the blank line is nothing', async () => {
    const b = buildFixture('message-events', [source]);
    const file = 'message-events/events.ndjson.gz';
    // 10 physical lines, line 6 blank: 9 rows
    expect(ndjsonRows(join(b.dir, file))).toBe(9);
    expect(await b.files()).toEqual([
      {
        source_file: file,
        rows_read: 9, // the 9 non-blank lines; the blank line is no row
        rows_accepted: 7, // m1, m2, m3, m4, m5, m6, m8
        rows_rejected: 2, // line 8 (not JSON) and m9 (no from.phone)
        rows_filtered: 0, // no filter
        identity_holds: true, // 9 = 7 + 2 + 0
      },
    ]);
    const rejects = await b.rejects();
    // NDJSON has no header: a row's number is its line's; the blank line 6 holds a number but is no row
    expect(rejects.map(({ source_row, reason }) => ({ source_row, reason }))).toEqual([
      { source_row: 8, reason: 'malformed_row' }, // line 8 is cut off mid-object
      { source_row: 10, reason: 'missing_customer_account_id' }, // m9's from has a name, no phone
    ]);
    expect(rejects[0]?.raw).toEqual({
      line: 8, // physical line 8 of the decompressed file
      text: '{"id":"m7","conversation":{"id":"c4"},"channel":{"id":"wa-1"', // the line as written
      error: expect.any(String),
    });
    expect(String(rejects[0]?.raw.error)).not.toBe('');
    expect(await counts(b)).toEqual([
      // March, wa-1: +33612345678 (c1, c5) and +33698765432 (c2 from 31 Mar 23:50)
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', platform: 'whatsapp', conversations: 2 },
      // March, wa-2: +33612345678 again, a second integration of the same platform bills apart (S6); "WhatsApp" lower-cased
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-2', platform: 'whatsapp', conversations: 1 },
      // April, wa-1: c2's message at 1 Apr 00:10
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'wa-1', platform: 'whatsapp', conversations: 1 },
    ]);
    expect(await billable(b)).toEqual([
      // c1 (1 Mar 10:00 to 2 Mar 09:00) and c5 (20 Mar 08:00)
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', customer_account_id: '+33612345678', interaction_count: 2, first_activity_at: '2026-03-01T10:00:00Z', last_activity_at: '2026-03-20T08:00:00Z' },
      // c2: m4 31 Mar 23:50, m5 1 Apr 00:10
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-1', customer_account_id: '+33698765432', interaction_count: 1, first_activity_at: '2026-03-31T23:50:00Z', last_activity_at: '2026-04-01T00:10:00Z' },
      // c3: one message, a point
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'wa-2', customer_account_id: '+33612345678', interaction_count: 1, first_activity_at: '2026-03-15T12:00:00Z', last_activity_at: '2026-03-15T12:00:00Z' },
      // c2 in April: message rows never leave it open, so it ends at m5
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'wa-1', customer_account_id: '+33698765432', interaction_count: 1, first_activity_at: '2026-03-31T23:50:00Z', last_activity_at: '2026-04-01T00:10:00Z' },
    ]);
  });
});

describe('fixture daily: Hive-partitioned folders give org_id', () => {
  it('reads the folder recursively and takes org_id from the path', async () => {
    const b = buildFixture('daily', [{ path: 'daily/' }]);
    const acme1 = 'daily/org_id=acme/day=2026-03-01/part-0.csv';
    const acme2 = 'daily/org_id=acme/day=2026-03-02/part-0.csv';
    const globex1 = 'daily/org_id=globex/day=2026-03-01/part-0.csv';
    expect([acme1, acme2, globex1].map((file) => csvDataRows(join(b.dir, file)))).toEqual([3, 3, 2]);
    expect(await b.files()).toEqual([
      // a-1, a-2, a-3: all good
      { source_file: acme1, rows_read: 3, rows_accepted: 3, rows_rejected: 0, rows_filtered: 0, identity_holds: true },
      // a-2 (its later end), a-4 good; a-5 has no account
      { source_file: acme2, rows_read: 3, rows_accepted: 2, rows_rejected: 1, rows_filtered: 0, identity_holds: true },
      // g-1, g-2: all good
      { source_file: globex1, rows_read: 2, rows_accepted: 2, rows_rejected: 0, rows_filtered: 0, identity_holds: true },
    ]);
    // a-5 is data row 3 of acme's 2 March file; its org comes from the path
    expect(await b.q(`select source_row, reason, org_id from rejected_interactions`)).toEqual([
      { source_row: 3, reason: 'missing_customer_account_id', org_id: 'acme' },
    ]);
    expect(await counts(b)).toEqual([
      // acme March, fb-acme: psid-100 (a-3, open)
      { org_id: 'acme', cycle_id: '2026-03-01', integration_id: 'fb-acme', platform: 'unknown', conversations: 1 },
      // acme March, wa-acme: +...01 (a-1, a-4) and +...02 (a-2)
      { org_id: 'acme', cycle_id: '2026-03-01', integration_id: 'wa-acme', platform: 'unknown', conversations: 2 },
      // acme April, fb-acme: a-3 is still open at as-of 15 Apr
      { org_id: 'acme', cycle_id: '2026-04-01', integration_id: 'fb-acme', platform: 'unknown', conversations: 1 },
      // globex March: +...01 (a different org from acme's +...01) and +...03
      { org_id: 'globex', cycle_id: '2026-03-01', integration_id: 'wa-globex', platform: 'unknown', conversations: 2 },
    ]);
    expect(await billable(b)).toEqual([
      // a-3 open: effective end is as-of
      { org_id: 'acme', cycle_id: '2026-03-01', integration_id: 'fb-acme', customer_account_id: 'psid-100', interaction_count: 1, first_activity_at: '2026-03-01T10:00:00Z', last_activity_at: AS_OF },
      // a-1 (1 Mar 08:00) and a-4 (ends 2 Mar 12:05)
      { org_id: 'acme', cycle_id: '2026-03-01', integration_id: 'wa-acme', customer_account_id: '+4915100000001', interaction_count: 2, first_activity_at: '2026-03-01T08:00:00Z', last_activity_at: '2026-03-02T12:05:00Z' },
      // a-2's two rows in two files merge into one interaction ending 2 Mar 09:00
      { org_id: 'acme', cycle_id: '2026-03-01', integration_id: 'wa-acme', customer_account_id: '+4915100000002', interaction_count: 1, first_activity_at: '2026-03-01T09:00:00Z', last_activity_at: '2026-03-02T09:00:00Z' },
      { org_id: 'acme', cycle_id: '2026-04-01', integration_id: 'fb-acme', customer_account_id: 'psid-100', interaction_count: 1, first_activity_at: '2026-03-01T10:00:00Z', last_activity_at: AS_OF },
      // g-1
      { org_id: 'globex', cycle_id: '2026-03-01', integration_id: 'wa-globex', customer_account_id: '+4915100000001', interaction_count: 1, first_activity_at: '2026-03-01T07:00:00Z', last_activity_at: '2026-03-01T07:15:00Z' },
      // g-2 crosses midnight, not a cycle boundary
      { org_id: 'globex', cycle_id: '2026-03-01', integration_id: 'wa-globex', customer_account_id: '+4915100000003', interaction_count: 1, first_activity_at: '2026-03-01T23:30:00Z', last_activity_at: '2026-03-02T00:30:00Z' },
    ]);
    // each org has its own calendar: March (first activity) to April (as-of)
    expect(await b.q(`select org_id, cycle_id from dim_billing_cycles order by all`)).toEqual([
      { org_id: 'acme', cycle_id: '2026-03-01' },
      { org_id: 'acme', cycle_id: '2026-04-01' },
      { org_id: 'globex', cycle_id: '2026-03-01' },
      { org_id: 'globex', cycle_id: '2026-04-01' },
    ]);
  });
});

describe('fixture latin1: a Latin-1 CSV', () => {
  const file = 'latin1/accounts.csv';

  it('the fixture really is Latin-1: é is the single byte 0xE9', () => {
    const bytes = readFileSync(join(fixtures, file));
    expect(bytes.includes(Buffer.from([0x4a, 0xe9, 0x72, 0xf4, 0x6d, 0x65]))).toBe(true); // "Jérôme" in Latin-1
    expect(bytes.includes(Buffer.from('é', 'utf8'))).toBe(false); // no UTF-8 é (0xC3 0xA9)
  });

  it('with "encoding": "latin-1" the accounts come out as UTF-8 text', async () => {
    const b = buildFixture('latin1', [{ path: file, encoding: 'latin-1' }]);
    expect(csvDataRows(join(b.dir, file))).toBe(4);
    // four rows, all good
    expect(await b.files()).toEqual([{ source_file: file, rows_read: 4, rows_accepted: 4, rows_rejected: 0, rows_filtered: 0, identity_holds: true }]);
    expect(await b.rejects()).toEqual([]);
    expect(await billable(b)).toEqual([
      // l-2
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'line-1', customer_account_id: 'Françoise Müller', interaction_count: 1, first_activity_at: '2026-03-06T11:00:00Z', last_activity_at: '2026-03-06T11:20:00Z' },
      // l-1 and l-4: the same account, decoded the same way both times
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'line-1', customer_account_id: 'Jérôme Dupré', interaction_count: 2, first_activity_at: '2026-03-05T10:00:00Z', last_activity_at: '2026-03-20T09:45:00Z' },
      // l-3
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'line-1', customer_account_id: 'plain-ascii', interaction_count: 1, first_activity_at: '2026-03-07T12:00:00Z', last_activity_at: '2026-03-07T12:05:00Z' },
    ]);
    // Jérôme Dupré, Françoise Müller, plain-ascii on line-1 in March
    expect(await counts(b)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'line-1', platform: 'line', conversations: 3 }]);
    // proper UTF-8 text: é is U+00E9, one character
    const [jerome] = await b.q(`select customer_account_id as id, length(customer_account_id)::integer as n from fct_billable_conversations where customer_account_id like 'J%'`);
    expect(jerome).toEqual({ id: 'J\u00e9r\u00f4me Dupr\u00e9', n: 12 });
  });

  it('the same bytes read as UTF-8 (no encoding setting): the lines with invalid bytes are malformed_row', async () => {
    const b = buildFixture('latin1', [{ path: file }]);
    expect(await b.files()).toEqual([
      {
        source_file: file,
        rows_read: 4, // still 4 physical data rows
        rows_accepted: 1, // l-3, plain ASCII
        rows_rejected: 3, // l-1, l-2, l-4 hold bytes 0xE9/0xF4/0xE7/0xFC, invalid in UTF-8
        rows_filtered: 0,
        identity_holds: true, // 4 = 1 + 3 + 0
      },
    ]);
    const rejects = await b.rejects();
    // data rows 1, 2 and 4 (lines 2, 3 and 5 counting the header as line 1)
    expect(rejects.map(({ source_row, reason, raw }) => ({ source_row, reason, line: raw.line }))).toEqual([
      { source_row: 1, reason: 'malformed_row', line: 2 },
      { source_row: 2, reason: 'malformed_row', line: 3 },
      { source_row: 4, reason: 'malformed_row', line: 5 },
    ]);
    for (const reject of rejects) expect(String(reject.raw.error)).toMatch(/invalid unicode/i);
    // only l-3 is billed
    expect(await counts(b)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'line-1', platform: 'line', conversations: 1 }]);
  });
});

describe('fixture ragged: lines that do not fit the header', () => {
  const file = 'ragged/logs.csv';

  it('a short line, a long line and an unterminated quote are malformed_row with line, text and the reader’s words', async () => {
    const b = buildFixture('ragged', [{ path: file }]);
    const lines = physicalLines(readFileSync(join(b.dir, file)));
    expect(csvDataRows(join(b.dir, file))).toBe(6);
    expect(await b.files()).toEqual([
      {
        source_file: file,
        rows_read: 6, // 6 physical lines after the header
        rows_accepted: 3, // r-1, r-3, r-5
        rows_rejected: 3, // r-2 (4 fields), r-4 (6 fields), r-6 (unterminated quote)
        rows_filtered: 0,
        identity_holds: true, // 6 = 3 + 3 + 0
      },
    ]);
    const rejects = await b.rejects();
    expect(rejects.map(({ source_row, reason, raw }) => ({ source_row, reason, line: raw.line }))).toEqual([
      { source_row: 2, reason: 'malformed_row', line: 3 }, // r-2
      { source_row: 4, reason: 'malformed_row', line: 5 }, // r-4
      { source_row: 6, reason: 'malformed_row', line: 7 }, // r-6, the last line
    ]);
    // the text is the physical line (lines[] is 0-based: line n is lines[n - 1]); the reader may keep the line break
    expect(rejects.map(({ raw }) => String(raw.text).replace(/\r?\n$/, ''))).toEqual([lines[2], lines[4], lines[6]]);
    expect(lines[2]).toBe('r-2,sms-1,+447700900002,2026-03-03T10:00:00Z');
    // the reader's own words, one error per line
    for (const { raw } of rejects) expect(typeof raw.error === 'string' && raw.error.length > 0).toBe(true);
    expect(String(rejects[2]?.raw.error)).toMatch(/quote/i);
    expect(Object.keys(rejects[0]?.raw ?? {}).sort()).toEqual(['error', 'line', 'text']);
    // sms-1 in March: +447700900001 (r-1, r-5) and +447700900003 (r-3)
    expect(await counts(b)).toEqual([{ org_id: 'default', cycle_id: '2026-03-01', integration_id: 'sms-1', platform: 'unknown', conversations: 2 }]);
    expect(await b.q(`select customer_account_id, interaction_count from fct_billable_conversations order by 1`)).toEqual([
      { customer_account_id: '+447700900001', interaction_count: 2 }, // r-1, r-5
      { customer_account_id: '+447700900003', interaction_count: 1 }, // r-3
    ]);
  });
});

describe('fixture epoch-seconds: digit strings in epoch seconds', () => {
  const file = 'epoch-seconds/interactions.csv';

  it('with "epoch_unit": "s" the instants are right', async () => {
    const b = buildFixture('epoch-seconds', [{ path: file, epoch_unit: 's' }]);
    expect(csvDataRows(join(b.dir, file))).toBe(4);
    expect(await b.files()).toEqual([{ source_file: file, rows_read: 4, rows_accepted: 4, rows_rejected: 0, rows_filtered: 0, identity_holds: true }]);
    expect(await counts(b)).toEqual([
      // March: user-1 (e-1, e-3), user-2 (e-2 from 31 Mar 23:00)
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'tg-1', platform: 'unknown', conversations: 2 },
      // April: user-2 (e-2 to 1 Apr 01:00), user-3 (e-4 on 10 Apr)
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'tg-1', platform: 'unknown', conversations: 2 },
    ]);
    expect(await billable(b)).toEqual([
      // 1772359200 = 2026-03-01T10:00Z (20513 days × 86400 + 10 h); 1773561900 = 2026-03-15T08:05Z
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'tg-1', customer_account_id: 'user-1', interaction_count: 2, first_activity_at: '2026-03-01T10:00:00Z', last_activity_at: '2026-03-15T08:05:00Z' },
      // 1774998000 = 2026-03-31T23:00Z; 1775005200 = 2026-04-01T01:00Z
      { org_id: 'default', cycle_id: '2026-03-01', integration_id: 'tg-1', customer_account_id: 'user-2', interaction_count: 1, first_activity_at: '2026-03-31T23:00:00Z', last_activity_at: '2026-04-01T01:00:00Z' },
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'tg-1', customer_account_id: 'user-2', interaction_count: 1, first_activity_at: '2026-03-31T23:00:00Z', last_activity_at: '2026-04-01T01:00:00Z' },
      // 1775822400 = 2026-04-10T12:00Z, open: effective end is as-of
      { org_id: 'default', cycle_id: '2026-04-01', integration_id: 'tg-1', customer_account_id: 'user-3', interaction_count: 1, first_activity_at: '2026-04-10T12:00:00Z', last_activity_at: AS_OF },
    ]);
    // first cycle is March (first activity), last is April (as-of): not 1970
    expect(await b.q(`select cycle_id from dim_billing_cycles order by 1`)).toEqual([{ cycle_id: '2026-03-01' }, { cycle_id: '2026-04-01' }]);
  });

  it('without epoch_unit (default ms) every row is implausible_timestamp, nothing is billed since 1970', async () => {
    const b = buildFixture('epoch-seconds', [{ path: file }]);
    // 1772359200 ms is 21 Jan 1970, before valid_from 2000-01-01: all 4 rows
    expect(await b.files()).toEqual([{ source_file: file, rows_read: 4, rows_accepted: 0, rows_rejected: 4, rows_filtered: 0, identity_holds: true }]);
    expect((await b.rejects()).map(({ source_row, reason }) => ({ source_row, reason }))).toEqual(
      [1, 2, 3, 4].map((source_row) => ({ source_row, reason: 'implausible_timestamp' })),
    );
    expect(await counts(b)).toEqual([]);
    expect(await b.q(`select count(*)::integer as n from dim_billing_cycles where cycle_start < '2000-01-01'::timestamptz`)).toEqual([{ n: 0 }]);
  });
});
