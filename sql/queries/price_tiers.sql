-- price_tiers
-- grain: one row per price tier of a price scope, (scope_id, tier_from).
-- purpose: the checked price lines (price_lines: the price book's rows and the
--          config's entries, as text) into cfg_prices: each scope numbered,
--          each tier running from the previous tier's bound to its own, the
--          tier without a bound last. Prices are cast from their text to
--          exact decimals, never through floating point.
-- columns:
--   scope_id: the price scope: org, platform, integration or a pair of them, or none (the default)
--   org_id: the scope's org, or null
--   platform: the scope's platform, or null
--   integration_id: the scope's integration, or null
--   currency: the scope's currency
--   included_conversations: conversations per cycle included before any tier (0 when not given)
--   tier_from: the conversations past which the tier's price applies
--   tier_to: the tier's bound; null for the open-ended tier
--   unit_price: the price of each conversation in the tier
--   origin: the line it came from, for error messages
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
from cleaned
