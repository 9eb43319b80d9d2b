/**
 * Rating (fct_conversation_charges): scopes, allowances and graduated tiers
 * to the cent on hand-built data, unpriced conversations reported, bad price
 * books refused with the line at fault, and random price books against a
 * reference that prices conversation by conversation.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/engine/errors.js';
import { type InputRow, buildFacts, mulberry32, tempDir, writeCsv } from './helpers.js';

/** `n` one-interaction conversations on `integration`, one account each, on 2024-01-10. */
function conversations(org: string, integration: string, n: number, prefix = integration): InputRow[] {
  return Array.from({ length: n }, (_, i) => ({
    org_id: org,
    interaction_id: `${prefix}-${i}`,
    integration_id: integration,
    customer_account_id: `${prefix}-account-${i}`,
    started_at: '2024-01-10T09:00:00Z',
    ended_at: '2024-01-10T09:30:00Z',
  }));
}

const INTEGRATIONS = [
  { integration_id: 'wa-1', platform: 'whatsapp' },
  { integration_id: 'wa-2', platform: 'whatsapp' },
  { integration_id: 'sms-1', platform: 'sms' },
  { integration_id: 'tg-1', platform: 'telegram' },
];

async function chargesBuild(priceBookLines: InputRow[] | undefined, rows: InputRow[], prices?: Parameters<typeof buildFacts>[0]['prices']) {
  const dir = tempDir();
  const input = writeCsv(dir, 'logs.csv', rows);
  const integrations = writeCsv(dir, 'integrations.csv', INTEGRATIONS);
  const priceBook = priceBookLines
    ? writeCsv(dir, 'prices.csv', priceBookLines, ['org_id', 'platform', 'integration_id', 'currency', 'unit_price', 'included_conversations', 'tier_up_to'])
    : undefined;
  return buildFacts({ dir, inputs: [input], integrations, priceBook, prices, asOf: '2024-01-31T00:00:00Z' });
}

async function charges(...args: Parameters<typeof chargesBuild>) {
  const built = await chargesBuild(...args);
  return built.rows(
    `select org_id, integration_id, conversations, billable_conversations, currency, amount::varchar as amount, price_scope, price_status
     from fct_conversation_charges order by org_id, integration_id`,
  );
}

const PLATFORM_TIERS: InputRow[] = [
  { platform: 'whatsapp', currency: 'EUR', unit_price: '0.10', included_conversations: 5, tier_up_to: 10 },
  { platform: 'whatsapp', currency: 'EUR', unit_price: '0.05', included_conversations: 5, tier_up_to: '' },
  { integration_id: 'sms-1', currency: 'eur', unit_price: '0.0125' },
];

describe('rating: fct_conversation_charges', () => {
  it('a platform price: the allowance and graduated tiers apply to the platform total, integration by integration, to the cent', async () => {
    const rows = [...conversations('default', 'wa-1', 8), ...conversations('default', 'wa-2', 7), ...conversations('default', 'sms-1', 4)];
    const result = await charges(PLATFORM_TIERS, rows);
    expect(result).toEqual([
      // sms-1: its own integration price, 4 x 0.0125
      { org_id: 'default', integration_id: 'sms-1', conversations: 4, billable_conversations: 4, currency: 'EUR', amount: '0.050000', price_scope: 'integration', price_status: 'priced' },
      // wa-1 holds numbers 1-8: 1-5 included, 6-8 in the first tier at 0.10
      { org_id: 'default', integration_id: 'wa-1', conversations: 8, billable_conversations: 3, currency: 'EUR', amount: '0.300000', price_scope: 'platform', price_status: 'priced' },
      // wa-2 holds numbers 9-15: 9-10 at 0.10, 11-15 at 0.05
      { org_id: 'default', integration_id: 'wa-2', conversations: 7, billable_conversations: 7, currency: 'EUR', amount: '0.450000', price_scope: 'platform', price_status: 'priced' },
    ]);
  });

  it('a conversation with no price is reported as no_price, never priced at zero', async () => {
    const rows = [...conversations('default', 'wa-1', 2), ...conversations('acme', 'tg-1', 3)];
    const built = await chargesBuild(PLATFORM_TIERS, rows);
    const result = await built.rows(
      `select org_id, integration_id, conversations, billable_conversations, currency, amount::varchar as amount, price_scope, price_status
       from fct_conversation_charges order by org_id, integration_id`,
    );
    expect(await built.rows(`select affected_count from rpt_data_quality where check_name = 'conversations_without_price'`)).toEqual([{ affected_count: 3 }]);
    expect(built.result.summary.dataQuality).toContainEqual({ check: 'conversations_without_price', count: 3 });
    expect(result.find((row) => row.integration_id === 'tg-1')).toEqual({
      org_id: 'acme', integration_id: 'tg-1', conversations: 3, billable_conversations: null, currency: null, amount: null, price_scope: null, price_status: 'no_price',
    });
    expect(result.find((row) => row.integration_id === 'wa-1')).toMatchObject({ billable_conversations: 0, amount: '0.000000' });
  });

  it('the most specific scope wins: org and integration over integration over org and platform over platform over org over default', async () => {
    const rows = [...conversations('acme', 'wa-1', 2), ...conversations('acme', 'wa-2', 2), ...conversations('acme', 'sms-1', 2), ...conversations('beta', 'wa-1', 2, 'b')];
    const result = await charges(
      [
        { currency: 'USD', unit_price: '9' },
        { org_id: 'acme', currency: 'USD', unit_price: '1' },
        { org_id: 'acme', platform: 'whatsapp', currency: 'USD', unit_price: '2' },
        { integration_id: 'wa-1', currency: 'USD', unit_price: '3' },
        { org_id: 'acme', integration_id: 'wa-1', currency: 'USD', unit_price: '4' },
      ],
      rows,
    );
    expect(result.map((row) => [row.org_id, row.integration_id, row.price_scope, row.amount])).toEqual([
      ['acme', 'sms-1', 'org', '2.000000'],
      ['acme', 'wa-1', 'org_integration', '8.000000'],
      ['acme', 'wa-2', 'org_platform', '4.000000'],
      ['beta', 'wa-1', 'integration', '6.000000'],
    ]);
  });

  it('prices can live in the config, tiers as a list', async () => {
    const rows = conversations('default', 'wa-1', 12);
    const result = await charges(undefined, rows, [
      { platform: 'whatsapp', currency: 'EUR', included_conversations: 2, tiers: [{ up_to: 10, unit_price: '0.333333' }, { unit_price: 0.1 }] },
    ]);
    // numbers 3-10 at 0.333333 (8 of them) and 11-12 at 0.1
    expect(result).toEqual([
      { org_id: 'default', integration_id: 'wa-1', conversations: 12, billable_conversations: 10, currency: 'EUR', amount: '2.866664', price_scope: 'platform', price_status: 'priced' },
    ]);
  });

  it.each([
    [{ currency: 'EUR', unit_price: '0.1.2' }, /Price book .*prices\.csv, row 1: unit_price "0\.1\.2" is not a price/],
    [{ currency: 'EUR', unit_price: '-1' }, /row 1: unit_price "-1" is not a price/],
    [{ currency: 'EUR', unit_price: '0.0000001' }, /at most 6 decimals/],
    [{ currency: '', unit_price: '1' }, /row 1: currency is missing/],
    [{ platform: 'sms', integration_id: 'sms-1', currency: 'EUR', unit_price: '1' }, /row 1: give a platform or an integration_id, not both/],
    [{ currency: 'EUR', unit_price: '1', tier_up_to: 10 }, /row 1: the price scope \(default\) has no open-ended tier/],
  ])('a bad price book line is a configuration error naming the row: %j', async (line, message) => {
    const attempt = charges([line], conversations('default', 'wa-1', 1));
    await expect(attempt).rejects.toThrow(ConfigError);
    await expect(charges([line], conversations('default', 'wa-1', 1))).rejects.toThrow(message);
  });

  it('random price books agree with pricing each conversation one by one', async () => {
    for (const seed of [1, 2, 3]) {
      const random = mulberry32(seed);
      const sizes = { 'wa-1': 1 + Math.floor(random() * 30), 'wa-2': Math.floor(random() * 30) + 1 };
      const included = Math.floor(random() * 20);
      const bounds = [...new Set([1 + Math.floor(random() * 20), 10 + Math.floor(random() * 40)])].sort((a, b) => a - b);
      const cents = [...bounds, null].map(() => Math.floor(random() * 100000));
      const lines = [...bounds, null].map((bound, i) => ({
        platform: 'whatsapp', currency: 'EUR', unit_price: ((cents[i] as number) / 1e6).toFixed(6), included_conversations: included, tier_up_to: bound ?? '',
      }));
      const rows = Object.entries(sizes).flatMap(([integration, n]) => conversations('default', integration, n));
      const result = await charges(lines, rows);
      // the reference: number the conversations wa-1 then wa-2, price each one in micro-units
      let number = 0;
      for (const [integration, n] of Object.entries(sizes)) {
        let micros = 0;
        let billable = 0;
        for (let i = 0; i < n; i += 1) {
          number += 1;
          if (number <= included) continue;
          billable += 1;
          const tier = bounds.findIndex((bound) => number <= bound);
          micros += cents[tier === -1 ? bounds.length : tier] as number;
        }
        const row = result.find((candidate) => candidate.integration_id === integration);
        expect(row, `seed ${seed} ${integration}`).toMatchObject({ billable_conversations: billable, amount: (micros / 1e6).toFixed(6) });
      }
    }
  });
});
