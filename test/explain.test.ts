/**
 * `explain` on the seed's worked examples (docs/billing-rules.md §1, S1-S8): each
 * conversation, the interactions behind it with their file and row numbers,
 * and the rule that made it a conversation of its own. One org per example,
 * one file each, one build for all of them.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, RunError } from '../src/engine/errors.js';
import { type ExplainedConversation, explain, formatExplain } from '../src/read/explain.js';
import { buildFacts, tempDir, writeCsv, writeParquet, type InputRow } from './helpers.js';

function interaction(org: string, id: string | null, account: string, integration: string, started: string, ended: string | null): InputRow {
  return { org_id: org, interaction_id: id, integration_id: integration, customer_account_id: account, started_at: started, ended_at: ended };
}

/** The conversations as `cycle integration rule` and their interactions as `id file:row ...`. */
function outline(conversations: ExplainedConversation[]) {
  return conversations.map((conversation) => ({
    conversation: `${conversation.cycle_id} ${conversation.integration_id} ${conversation.rule}`,
    interactions: conversation.interactions.map((interaction) =>
      [interaction.interaction_id ?? '(no id)', ...interaction.rows.map((row) => `${basename(row.source_file)}:${row.source_row}`)].join(' '),
    ),
  }));
}

describe('explain: the seed examples', () => {
  let db: string;
  let publishedDb: string;
  const explainOrg = (org: string, account = 'cust-1', more: { integration?: string; cycle?: string } = {}) =>
    explain({ db, org, account, ...more });

  beforeAll(async () => {
    const dir = tempDir();
    const inputs = [
      writeCsv(dir, 's1.csv', [interaction('s1', 'a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:30:00Z')]),
      // message rows: three points of one interaction over several days
      writeCsv(dir, 's2.csv', ['2024-01-10T09:00:00Z', '2024-01-12T12:00:00Z', '2024-01-14T17:00:00Z'].map((occurred) => ({
        org_id: 's2', interaction_id: 'a', integration_id: 'wa-1', customer_account_id: 'cust-1', occurred_at: occurred,
      }))),
      writeCsv(dir, 's3.csv', [
        interaction('s3', 'a', 'cust-1', 'wa-1', '2024-01-03T09:00:00Z', '2024-01-03T09:10:00Z'),
        interaction('s3', 'b', 'cust-1', 'wa-1', '2024-01-12T15:00:00Z', '2024-01-12T15:45:00Z'),
        interaction('s3', 'c', 'cust-1', 'wa-1', '2024-01-28T08:00:00Z', '2024-01-29T08:00:00Z'),
      ]),
      writeCsv(dir, 's4.csv', [interaction('s4', 'a', 'cust-1', 'wa-1', '2024-01-30T22:00:00Z', '2024-02-02T10:00:00Z')]),
      writeCsv(dir, 's5.csv', [
        { ...interaction('s5', 'a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), platform: 'whatsapp' },
        { ...interaction('s5', 'b', 'cust-1', 'fb-1', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z'), platform: 'facebook' },
      ]),
      writeCsv(dir, 's6.csv', [
        { ...interaction('s6', 'a', 'cust-1', 'wa-sales', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), platform: 'whatsapp' },
        { ...interaction('s6', 'b', 'cust-1', 'wa-support', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z'), platform: 'WhatsApp ' },
      ]),
      writeCsv(dir, 's7.csv', [
        interaction('s7', 'a', 'customer-account', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:20:00Z'),
        interaction('s7', 'b', 'manager-account', 'wa-1', '2024-01-10T09:25:00Z', '2024-01-10T10:00:00Z'),
      ]),
      writeCsv(dir, 's8.csv', [
        interaction('s8', 'a', 'cust-1', 'wa-1', '2024-02-10T09:00:00Z', '2024-02-10T09:30:00Z'),
        interaction('s8', 'b', 'cust-1', 'wa-1', '2024-02-20T09:00:00Z', '2024-02-20T09:30:00Z'),
      ]),
    ];
    const facts = await buildFacts({ dir, inputs, cycles: { orgRules: { s8: { anchorDay: 15 } } }, asOf: '2024-03-31T00:00:00Z' });
    db = facts.db;
    publishedDb = facts.result.publishedDb;
  });

  it('S1: one interaction inside a cycle is a first conversation, from row 1 of its file', async () => {
    const [conversation] = await explainOrg('s1');
    expect(conversation).toMatchObject({
      org_id: 's1', customer_account_id: 'cust-1', cycle_id: '2024-01-01', cycle_start: '2024-01-01T00:00:00Z', cycle_end: '2024-02-01T00:00:00Z',
      integration_id: 'wa-1', platform: 'unknown', interaction_count: 1, rule: 'first_conversation', rules: ['first_conversation'],
    });
    expect(conversation?.interactions).toEqual([
      {
        interaction_key: 'a', interaction_id: 'a', started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-10T09:30:00Z',
        effective_end: '2024-01-10T09:30:00Z', rows: [{ source_file: expect.stringMatching(/s1\.csv$/), source_row: 1 }],
      },
    ]);
  });

  it('S2: one interaction over several days lists every row merged into it', async () => {
    const conversations = await explainOrg('s2');
    expect(outline(conversations)).toEqual([
      { conversation: '2024-01-01 wa-1 first_conversation', interactions: ['a s2.csv:1 s2.csv:2 s2.csv:3'] },
    ]);
    expect(conversations[0]?.interactions[0]).toMatchObject({ started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-14T17:00:00Z' });
  });

  it('S3: several interactions in one cycle are one conversation with all of them', async () => {
    const conversations = await explainOrg('s3');
    expect(outline(conversations)).toEqual([
      { conversation: '2024-01-01 wa-1 first_conversation', interactions: ['a s3.csv:1', 'b s3.csv:2', 'c s3.csv:3'] },
    ]);
    expect(conversations[0]?.interaction_count).toBe(3);
  });

  it('S4: an interaction across a boundary is billed again in the next cycle, as interaction_spans_boundary', async () => {
    const conversations = await explainOrg('s4');
    expect(outline(conversations)).toEqual([
      { conversation: '2024-01-01 wa-1 first_conversation', interactions: ['a s4.csv:1'] },
      { conversation: '2024-02-01 wa-1 interaction_spans_boundary', interactions: ['a s4.csv:1'] },
    ]);
    expect(conversations[1]?.rules).toEqual(['interaction_spans_boundary', 'new_cycle']);
  });

  it('S5: two integrations of different platforms in one cycle are other_platform', async () => {
    const conversations = await explainOrg('s5');
    expect(outline(conversations)).toEqual([
      { conversation: '2024-01-01 fb-1 other_platform', interactions: ['b s5.csv:2'] },
      { conversation: '2024-01-01 wa-1 other_platform', interactions: ['a s5.csv:1'] },
    ]);
    expect(conversations.map((conversation) => conversation.platform)).toEqual(['facebook', 'whatsapp']);
  });

  it('S6: two integrations of the same platform in one cycle are other_integration', async () => {
    expect(outline(await explainOrg('s6'))).toEqual([
      { conversation: '2024-01-01 wa-sales other_integration', interactions: ['a s6.csv:1'] },
      { conversation: '2024-01-01 wa-support other_integration', interactions: ['b s6.csv:2'] },
    ]);
  });

  it("S7: a manager's account has its own conversation, from its own row", async () => {
    expect(outline(await explainOrg('s7', 'customer-account'))).toEqual([
      { conversation: '2024-01-01 wa-1 first_conversation', interactions: ['a s7.csv:1'] },
    ]);
    expect(outline(await explainOrg('s7', 'manager-account'))).toEqual([
      { conversation: '2024-01-01 wa-1 first_conversation', interactions: ['b s7.csv:2'] },
    ]);
  });

  it('S8: with cycles from the 15th, the 20th is a new_cycle after the 10th', async () => {
    expect(outline(await explainOrg('s8'))).toEqual([
      { conversation: '2024-01-15 wa-1 first_conversation', interactions: ['a s8.csv:1'] },
      { conversation: '2024-02-15 wa-1 new_cycle', interactions: ['b s8.csv:2'] },
    ]);
  });

  it('--cycle and --integration narrow the list but not the rule', async () => {
    expect(outline(await explainOrg('s4', 'cust-1', { cycle: '2024-02-01' }))).toEqual([
      { conversation: '2024-02-01 wa-1 interaction_spans_boundary', interactions: ['a s4.csv:1'] },
    ]);
    expect(outline(await explainOrg('s5', 'cust-1', { integration: 'fb-1' }))).toEqual([
      { conversation: '2024-01-01 fb-1 other_platform', interactions: ['b s5.csv:2'] },
    ]);
    expect(await explainOrg('s5', 'cust-1', { integration: 'fb-1', cycle: '2024-02-01' })).toEqual([]);
  });

  it('an org or account billed nowhere fails with the closest billed ids; a filter that matches nothing is no conversations', async () => {
    await expect(explainOrg('s9')).rejects.toThrow(new RunError(`Org "s9" has no billed conversation in ${db}; the closest billed orgs: "s1", "s2", "s3".`));
    await expect(explainOrg('s7', 'customer-acount')).rejects.toThrow(
      new RunError('Account "customer-acount" has no billed conversation in org "s7"; the closest billed accounts: "customer-account", "manager-account".'),
    );
    expect(await explainOrg('s1', 'cust-1', { cycle: '2023-01-01' })).toEqual([]);
    expect(formatExplain([], 'table')).toBe('no conversations');
  });

  it('formats as a table and as JSON that parses back', async () => {
    const conversations = await explainOrg('s4');
    const table = formatExplain(conversations, 'table').split('\n');
    expect(table).toHaveLength(4);
    expect(table[2]).toMatch(/^cycle 2024-02-01 {2}wa-1 \(unknown\) {2}interaction_spans_boundary: an interaction that started in an earlier cycle/);
    expect(table[3]).toMatch(/^ {4}a {2}2024-01-30T22:00:00Z \.\. 2024-02-02T10:00:00Z {2}rows \S*s4\.csv:1$/);
    expect(JSON.parse(formatExplain(conversations, 'json'))).toEqual(conversations);
  });

  it('a database file that does not exist, or the published copy, is a configuration error naming it', async () => {
    const missing = join(tempDir(), 'nowhere.duckdb');
    await expect(explain({ db: missing, org: 's1', account: 'cust-1' })).rejects.toThrow(ConfigError);
    await expect(explain({ db: missing, org: 's1', account: 'cust-1' })).rejects.toThrow(missing);
    await expect(explain({ db: publishedDb, org: 's1', account: 'cust-1' })).rejects.toThrow(/published copy/);
  });

  it('the command prints the same as the API, and a missing --account is a usage error', async () => {
    const cli = (args: string[]) => spawnSync(process.execPath, [resolve('dist/src/cli/main.js'), 'explain', '--db', db, ...args], { encoding: 'utf8' });
    const run = cli(['--org', 's4', '--account', 'cust-1', '--format', 'json']);
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(await explainOrg('s4'));
    const missing = cli(['--org', 's4']);
    expect([missing.status, missing.stderr]).toEqual([2, "convbill: error: required option '--account <account>' not specified\n"]);
    const typo = cli(['--org', 's4', '--account', 'cust-11']);
    expect([typo.status, typo.stdout, typo.stderr]).toEqual([1, '', 'convbill: Account "cust-11" has no billed conversation in org "s4"; the closest billed accounts: "cust-1".\n']);
  });
});

describe('explain: source rows', () => {
  it('lists accepted rows of current file versions only, rows without an interaction_id and stored Parquet rows', async () => {
    const dir = tempDir();
    const columns = ['interaction_id', 'integration_id', 'customer_account_id', 'started_at', 'ended_at'];
    const input = writeCsv(dir, 'logs.csv', [
      { interaction_id: 'a', integration_id: 'wa-1', customer_account_id: 'cust-1', started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-10T09:30:00Z' },
      { interaction_id: 'b', integration_id: 'wa-1', customer_account_id: 'cust-1', started_at: '2024-01-12T09:00:00Z', ended_at: '2024-01-12T09:30:00Z' },
    ], columns);
    await buildFacts({ dir, inputs: [input], asOf: '2024-01-31T00:00:00Z' });
    // a new version of the file: b moves to row 3, row 2 is rejected, row 4 has no id
    writeFileSync(input, [
      columns.join(','),
      'b,wa-1,cust-1,2024-01-12T09:00:00Z,2024-01-12T09:30:00Z',
      'b,wa-1,cust-1,not a time,',
      'b,wa-1,cust-1,2024-01-12T09:20:00Z,2024-01-12T09:40:00Z',
      ',wa-1,cust-1,2024-01-20T09:00:00Z,2024-01-20T09:10:00Z',
    ].join('\n') + '\n');
    // kept whole in the raw store and read from there
    const parquet = await writeParquet(dir, 'more.parquet', `
      select * from (values ('x', 'wa-1', 'someone-else'), ('c', 'wa-1', 'cust-1')) as t(interaction_id, integration_id, customer_account_id)
      cross join (select timestamptz '2024-01-25 09:00:00+00' as started_at, timestamptz '2024-01-25 09:05:00+00' as ended_at)`);
    const { db } = await buildFacts({ dir, inputs: [input, parquet], asOf: '2024-01-31T00:00:00Z' });
    const conversations = await explain({ db, org: 'default', account: 'cust-1' });
    expect(outline(conversations)).toEqual([
      { conversation: '2024-01-01 wa-1 first_conversation', interactions: ['b logs.csv:1 logs.csv:3', '(no id) logs.csv:4', 'c more.parquet:2'] },
    ]);
    expect(conversations[0]?.interactions[1]?.interaction_key).toMatch(/^~row:/);
    expect(conversations[0]?.interaction_count).toBe(3);
  });
});
