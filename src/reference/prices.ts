/**
 * The price book, into `cfg_prices`: one row per price tier of a price scope.
 *
 * A scope is an org, a platform or an integration (or a pair of them, or
 * none: the default), with a currency, an allowance of included
 * conversations per cycle and graduated tiers. In a file, each line is one
 * tier and the lines of a scope repeat its currency and allowance; a scope
 * without tiers is one line with a blank `tier_up_to`. The config's
 * `prices` entries say the same as objects. Prices are read as exact
 * decimals (6 places at most), never through floating point: the check is
 * made on the text, before any cast.
 */
import { ConfigError } from '../engine/errors.js';
import { readReferenceFile } from './reference-files.js';
import type { Engine } from '../engine/engine.js';
import { namedQuery } from '../project/named-queries.js';

export interface PriceEntry {
  org_id?: string;
  platform?: string;
  integration_id?: string;
  currency: string;
  /** a decimal string ("0.0125") or a number; the price of every conversation when there are no tiers */
  unit_price?: string | number;
  included_conversations?: number;
  tiers?: { up_to?: number | null; unit_price: string | number }[];
}

const FIELDS = ['org_id', 'platform', 'integration_id', 'currency', 'unit_price', 'included_conversations', 'tier_up_to'] as const;

export async function loadPrices(warehouse: Engine, file: string | undefined, entries: PriceEntry[] = []): Promise<void> {
  await warehouse.run(`
    create or replace table cfg_prices (
        scope_id integer, org_id varchar, platform varchar, integration_id varchar,
        currency varchar, included_conversations bigint,
        tier_from bigint, tier_to bigint, unit_price decimal(18, 6), origin varchar
    )`);
  await warehouse.run(`create or replace temp table price_lines (origin varchar, ${FIELDS.map((f) => `${f} varchar`).join(', ')})`);
  if (file) {
    const columns = await readReferenceFile(warehouse, {
      label: 'Price book',
      file,
      table: 'price_book_rows',
      required: ['currency', 'unit_price'],
      optional: ['org_id', 'platform', 'integration_id', 'included_conversations', 'tier_up_to'],
    });
    const pick = (name: string) => (columns.includes(name) ? `${name}::varchar` : 'null');
    await warehouse.run(
      `insert into price_lines
       select 'Price book ' || $file || ', row ' || source_row, ${FIELDS.map(pick).join(', ')}
       from price_book_rows`,
      { file },
    );
  }
  await insertConfigEntries(warehouse, entries);
  await assertValidLines(warehouse);
  await warehouse.run(namedQuery('price_tiers'));
  await assertConsistentScopes(warehouse);
}

/** Config entries become lines like a file's, one per tier, named by their key. */
async function insertConfigEntries(warehouse: Engine, entries: PriceEntry[]): Promise<void> {
  const text = (value: unknown) => (value === undefined || value === null ? null : String(value));
  for (const [index, entry] of entries.entries()) {
    const tiers = entry.tiers?.length ? entry.tiers : [{ up_to: null, unit_price: entry.unit_price ?? '' }];
    if (entry.tiers?.length && entry.unit_price !== undefined) {
      throw new ConfigError(`Config key "prices[${index}]" gives both unit_price and tiers; give the price in the tiers.`);
    }
    for (const [tier, { up_to, unit_price }] of tiers.entries()) {
      await warehouse.run(`insert into price_lines values ($origin, $org, $platform, $integration, $currency, $price, $included, $up_to)`, {
        origin: `Config key "prices[${index}]${entry.tiers?.length ? `.tiers[${tier}]` : ''}"`,
        org: text(entry.org_id),
        platform: text(entry.platform),
        integration: text(entry.integration_id),
        currency: text(entry.currency),
        price: text(unit_price),
        included: text(entry.included_conversations),
        up_to: text(up_to),
      });
    }
  }
}

async function assertValidLines(warehouse: Engine): Promise<void> {
  const [bad] = await warehouse.rows<{ origin: string; problem: string }>(namedQuery('price_line_problems'));
  if (bad) throw new ConfigError(`${bad.origin}: ${bad.problem}.`);
}

/** The lines of one scope must agree, and its tiers must cover every conversation once. */
async function assertConsistentScopes(warehouse: Engine): Promise<void> {
  const [bad] = await warehouse.rows<{ origin: string; problem: string }>(namedQuery('price_scope_problems'));
  if (bad) throw new ConfigError(`${bad.origin}: ${bad.problem}.`);
}
