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
  await warehouse.run(`
    insert into cfg_prices
    with cleaned as (
        select origin, clean_text(org_id) as org_id, lower(clean_text(platform)) as platform,
            clean_text(integration_id) as integration_id, upper(clean_text(currency)) as currency,
            clean_text(unit_price)::decimal(18, 6) as unit_price,
            coalesce(clean_text(included_conversations)::bigint, 0) as included_conversations,
            clean_text(tier_up_to)::bigint as tier_to
        from price_lines
    )
    select dense_rank() over (order by org_id nulls first, platform nulls first, integration_id nulls first)::integer,
        org_id, platform, integration_id, currency, included_conversations,
        coalesce(lag(tier_to) over (partition by org_id, platform, integration_id order by tier_to nulls last), 0),
        tier_to, unit_price, origin
    from cleaned`);
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
  const [bad] = await warehouse.rows<{ origin: string; problem: string }>(`
    with checked as (
        select rowid as line, origin, case
            when clean_text(currency) is null then 'currency is missing'
            when clean_text(unit_price) is null then 'unit_price is missing'
            when not regexp_full_match(clean_text(unit_price), '\\d{1,12}(\\.\\d{1,6})?')
                then 'unit_price "' || unit_price || '" is not a price (a decimal number, 0 or more, at most 6 decimals)'
            when clean_text(included_conversations) is not null and not regexp_full_match(clean_text(included_conversations), '\\d{1,15}')
                then 'included_conversations "' || included_conversations || '" is not a whole number, 0 or more'
            when clean_text(tier_up_to) is not null and not regexp_full_match(clean_text(tier_up_to), '0*[1-9]\\d{0,14}')
                then 'tier_up_to "' || tier_up_to || '" is not a whole number of conversations, 1 or more'
            when clean_text(platform) is not null and clean_text(integration_id) is not null
                then 'give a platform or an integration_id, not both'
        end as problem
        from price_lines
    )
    select origin, problem from checked where problem is not null order by line limit 1`);
  if (bad) throw new ConfigError(`${bad.origin}: ${bad.problem}.`);
}

/** The lines of one scope must agree, and its tiers must cover every conversation once. */
async function assertConsistentScopes(warehouse: Engine): Promise<void> {
  const [bad] = await warehouse.rows<{ origin: string; problem: string }>(`
    with scopes as (
        select scope_id, min(origin) as origin,
            concat_ws(', ', 'org ' || any_value(org_id), 'platform ' || any_value(platform),
                'integration ' || any_value(integration_id)) as scope,
            count(distinct currency) as currencies,
            count(distinct included_conversations) as allowances,
            count(*) - count(tier_to) as open_tiers,
            count(tier_to) - count(distinct tier_to) as repeated_bounds
        from cfg_prices
        group by scope_id
    )
    select origin, 'the price scope (' || coalesce(nullif(scope, ''), 'default') || ') ' || case
            when currencies > 1 then 'has lines in more than one currency'
            when allowances > 1 then 'has lines with different included_conversations'
            when repeated_bounds > 0 then 'repeats a tier_up_to'
            when open_tiers = 0 then 'has no open-ended tier (a line with a blank tier_up_to) for the conversations past its last bound'
            else 'has more than one open-ended tier (blank tier_up_to)'
        end as problem
    from scopes
    where currencies > 1 or allowances > 1 or repeated_bounds > 0 or open_tiers <> 1
    order by scope_id limit 1`);
  if (bad) throw new ConfigError(`${bad.origin}: ${bad.problem}.`);
}
