/**
 * Code a strict user writes against the typed API, compiled (never run) by
 * test/typed-strict.test.ts with ./tsconfig.json (`strict`). It compiles only
 * while the grain keys and always-filled columns are typed non-null, and the
 * columns that can be null still demand a check (the @ts-expect-error line).
 */
import type { Kysely } from 'kysely';
import { type Database, decimalString, openWarehouse } from '../../src/index.js';

/** Invoice lines: no null check on the keys and counts, one on the amount. */
export async function invoiceLines(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('fct_conversation_charges')
    .select(['org_id', 'cycle_id', 'cycle_start', 'integration_id', 'platform', 'conversations', 'price_status', 'amount', 'currency'])
    .execute();
  return rows.map((row) => {
    const org: string = row.org_id;
    const cycle: string = row.cycle_id;
    const start: string = row.cycle_start;
    const integration: string = row.integration_id;
    const platform: string = row.platform;
    const conversations: number = row.conversations;
    const status: string = row.price_status;
    // @ts-expect-error amount is null when no price matches, so it needs a check
    const unchecked: string = row.amount;
    const amount: string = row.amount ?? 'no price';
    return [org, cycle, start, integration, platform, conversations, status, amount, row.currency ?? '', unchecked].join(' ');
  });
}

/** Interactions per account, keyed by the account: a Map<string, number> takes no null. */
export async function interactionsByAccount(org: string): Promise<Map<string, number>> {
  const db = openWarehouse();
  try {
    const rows = await db
      .selectFrom('fct_billable_conversations')
      .select(['customer_account_id', 'interaction_count'])
      .where('org_id', '=', org)
      .execute();
    return new Map<string, number>(rows.map((row) => [row.customer_account_id, row.interaction_count]));
  } finally {
    await db.destroy();
  }
}

/** An Arrow Decimal128 cell as exact text: a string for a value, null only for null. */
export function amountText(cell: Uint32Array, scale: number): string {
  return decimalString(cell, scale);
}
