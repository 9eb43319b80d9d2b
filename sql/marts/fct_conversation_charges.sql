-- fct_conversation_charges
-- grain: one row per org, cycle and integration, (org_id, cycle_start,
--        integration_id), as fct_conversation_counts.
-- purpose: what the conversations cost, from the price book (cfg_prices).
--          Each count takes the most specific price scope that matches it:
--          org and integration, integration, org and platform, platform,
--          org, then the default. Within a scope and cycle, conversations
--          are numbered 1, 2, … integration by integration in id order:
--          the first included_conversations are free, and each tier
--          (tier_from, tier_to] prices the numbers inside it (graduated), so
--          a scope's allowance and tiers apply to its cycle total whatever
--          the number of integrations it spans, and the rows add up to it.
--          Exact DECIMAL arithmetic throughout. A count no scope matches is
--          kept with price_status 'no_price' and no amount: never priced
--          at zero.
-- columns:
--   org_id: the organisation ('default' when the input names none)
--   cycle_id: the billing cycle's name (dim_billing_cycles)
--   cycle_start: the cycle's first instant, included
--   cycle_end: the instant after the cycle, excluded
--   platform: the platform the integration bills under (dim_integrations)
--   integration_id: the messaging integration
--   conversations: billable conversations, as in fct_conversation_counts
--   billable_conversations: the conversations left to pay after the scope's allowance; null when no price matches
--   currency: the price scope's currency code; null when no price matches
--   amount: what the conversations cost, exact DECIMAL(38, 6), graduated tiers; null when no price matches
--   price_scope: the scope that priced the count: org_integration, integration, org_platform, platform, org or default
--   price_status: 'priced', or 'no_price' when no scope of the price book matches
with price_scopes as (
    select distinct
        scope_id,
        org_id,
        platform,
        integration_id,
        currency,
        included_conversations,
        case when integration_id is not null then 4 else 0 end
            + case when platform is not null then 2 else 0 end
            + case when org_id is not null then 1 else 0 end as specificity
    from cfg_prices
),

scoped_counts as (
    select
        counts.org_id,
        counts.cycle_id,
        counts.cycle_start,
        counts.cycle_end,
        counts.platform,
        counts.integration_id,
        counts.conversations,
        price_scopes.scope_id,
        price_scopes.specificity,
        price_scopes.currency,
        price_scopes.included_conversations
    from fct_conversation_counts as counts
    left join price_scopes
        on (price_scopes.org_id is null or price_scopes.org_id = counts.org_id)
        and (price_scopes.platform is null or price_scopes.platform = counts.platform)
        and (price_scopes.integration_id is null or price_scopes.integration_id = counts.integration_id)
    qualify row_number() over (
        partition by counts.org_id, counts.cycle_start, counts.integration_id
        order by price_scopes.specificity desc nulls last
    ) = 1
),

-- this row's conversations are the numbers (numbered_before, numbered_through] of its scope's cycle
numbered_counts as (
    select
        *,
        sum(conversations) over (
            partition by org_id, cycle_start, scope_id
            order by integration_id
            rows between unbounded preceding and current row
        ) as numbered_through,
        numbered_through - conversations as numbered_before,
        greatest(numbered_before, included_conversations) as first_billable_after
    from scoped_counts
),

tier_amounts as (
    select
        numbered_counts.org_id,
        numbered_counts.cycle_start,
        numbered_counts.integration_id,
        sum(
            greatest(0, least(numbered_counts.numbered_through, coalesce(cfg_prices.tier_to, numbered_counts.numbered_through))
                - greatest(numbered_counts.first_billable_after, cfg_prices.tier_from))
            * cfg_prices.unit_price
        ) as amount
    from numbered_counts
    inner join cfg_prices on numbered_counts.scope_id = cfg_prices.scope_id
    group by numbered_counts.org_id, numbered_counts.cycle_start, numbered_counts.integration_id
)

select
    numbered_counts.org_id,
    numbered_counts.cycle_id,
    numbered_counts.cycle_start,
    numbered_counts.cycle_end,
    numbered_counts.platform,
    numbered_counts.integration_id,
    numbered_counts.conversations,
    case when numbered_counts.scope_id is not null
        then greatest(0, numbered_counts.numbered_through - numbered_counts.first_billable_after)
    end::bigint as billable_conversations,
    numbered_counts.currency,
    tier_amounts.amount::decimal(38, 6) as amount,
    case numbered_counts.specificity
        when 5 then 'org_integration'
        when 4 then 'integration'
        when 3 then 'org_platform'
        when 2 then 'platform'
        when 1 then 'org'
        when 0 then 'default'
    end as price_scope,
    case when numbered_counts.scope_id is null then 'no_price' else 'priced' end as price_status
from numbered_counts
left join tier_amounts
    on numbered_counts.org_id = tier_amounts.org_id
    and numbered_counts.cycle_start = tier_amounts.cycle_start
    and numbered_counts.integration_id = tier_amounts.integration_id
