-- price_scope_problems
-- grain: at most one row: the first price scope of cfg_prices that does not hold together.
-- purpose: the lines of one scope must agree on currency and allowance, and
--          its tiers must cover every conversation once: distinct bounds and
--          exactly one open-ended tier.
-- columns:
--   origin: the scope's first line
--   problem: what is wrong with the scope
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
order by scope_id limit 1
