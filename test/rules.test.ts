/**
 * The seed's worked examples (docs/billing-rules.md §1, S1-S8), each on a real
 * DuckDB database built from a real CSV file.
 */
import { describe, expect, it } from 'vitest';
import { buildFacts, conversationsByCycle, tempDir, writeCsv, type InputRow } from './helpers.js';

function interaction(id: string, account: string, integration: string, started: string, ended: string | null): InputRow {
  return { interaction_id: id, integration_id: integration, customer_account_id: account, started_at: started, ended_at: ended };
}

async function buildRows(rows: InputRow[], anchorDay = 1) {
  const dir = tempDir();
  const input = writeCsv(dir, 'interactions.csv', rows);
  return buildFacts({ dir, inputs: [input], cycles: { defaultRule: { anchorDay, timezone: 'UTC' } }, asOf: '2024-03-31T00:00:00Z' });
}

async function totalConversations(rows: InputRow[], anchorDay = 1): Promise<number> {
  const facts = await buildRows(rows, anchorDay);
  const [total] = await facts.rows(`select count(*)::integer as n from fct_billable_conversations`);
  return total?.n as number;
}

describe('billing rules: the seed examples', () => {
  it('S1: one interaction, one integration, one day, inside a cycle is 1 conversation', async () => {
    expect(await totalConversations([interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:30:00Z')])).toBe(1);
  });

  it('S2: one interaction over several days inside a cycle is 1 conversation', async () => {
    expect(await totalConversations([interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-14T17:00:00Z')])).toBe(1);
  });

  it('S3: several interactions on several occasions, same customer, integration and cycle, are 1 conversation', async () => {
    const facts = await buildRows([
      interaction('a', 'cust-1', 'wa-1', '2024-01-03T09:00:00Z', '2024-01-03T09:10:00Z'),
      interaction('b', 'cust-1', 'wa-1', '2024-01-12T15:00:00Z', '2024-01-12T15:45:00Z'),
      interaction('c', 'cust-1', 'wa-1', '2024-01-28T08:00:00Z', '2024-01-29T08:00:00Z'),
    ]);
    expect(await facts.rows(`select customer_account_id, interaction_count, first_activity_at, last_activity_at from fct_billable_conversations`)).toEqual([
      { customer_account_id: 'cust-1', interaction_count: 3, first_activity_at: '2024-01-03T09:00:00Z', last_activity_at: '2024-01-29T08:00:00Z' },
    ]);
  });

  it('S4: one interaction across a cycle boundary is 2 conversations, one per cycle', async () => {
    const facts = await buildRows([interaction('a', 'cust-1', 'wa-1', '2024-01-30T22:00:00Z', '2024-02-02T10:00:00Z')]);
    expect(await conversationsByCycle(facts)).toEqual({ '2024-01-01': 1, '2024-02-01': 1, '2024-03-01': 0 });
    // first/last activity are the interaction's own, not clipped to the cycle
    expect(await facts.rows(`select distinct first_activity_at, last_activity_at from fct_billable_conversations`)).toEqual([
      { first_activity_at: '2024-01-30T22:00:00Z', last_activity_at: '2024-02-02T10:00:00Z' },
    ]);
  });

  it('S5: two integrations of different platforms in one cycle are 2 conversations', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { ...interaction('a', 'cust-1', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), platform: 'whatsapp' },
      { ...interaction('b', 'cust-1', 'fb-1', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z'), platform: 'facebook' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select integration_id, platform, conversations::integer as n from fct_conversation_counts order by all`)).toEqual([
      { integration_id: 'fb-1', platform: 'facebook', n: 1 },
      { integration_id: 'wa-1', platform: 'whatsapp', n: 1 },
    ]);
  });

  it('S6: two integrations of the same platform in one cycle are 2 conversations', async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'in.csv', [
      { ...interaction('a', 'cust-1', 'wa-sales', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'), platform: 'whatsapp' },
      { ...interaction('b', 'cust-1', 'wa-support', '2024-01-11T09:00:00Z', '2024-01-11T10:00:00Z'), platform: 'WhatsApp ' },
    ]);
    const facts = await buildFacts({ dir, inputs: [input], asOf: '2024-01-31T00:00:00Z' });
    expect(await facts.rows(`select platform, count(*)::integer as n from fct_billable_conversations group by platform`)).toEqual([
      { platform: 'whatsapp', n: 2 },
    ]);
  });

  it("S7: a manager taking over from their own account, same agent and topic, is 2 conversations (two accounts)", async () => {
    expect(
      await totalConversations([
        interaction('a', 'customer-account', 'wa-1', '2024-01-10T09:00:00Z', '2024-01-10T09:20:00Z'),
        interaction('b', 'manager-account', 'wa-1', '2024-01-10T09:25:00Z', '2024-01-10T10:00:00Z'),
      ]),
    ).toBe(2);
  });

  it('S8: a cycle starting on the 15th: activity on the 10th and the 20th of one month is 2 conversations', async () => {
    const facts = await buildRows(
      [
        interaction('a', 'cust-1', 'wa-1', '2024-02-10T09:00:00Z', '2024-02-10T09:30:00Z'),
        interaction('b', 'cust-1', 'wa-1', '2024-02-20T09:00:00Z', '2024-02-20T09:30:00Z'),
      ],
      15,
    );
    expect(await conversationsByCycle(facts)).toEqual({ '2024-01-15': 1, '2024-02-15': 1, '2024-03-15': 0 });
  });
});
