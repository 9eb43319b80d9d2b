-- report_cycle_amounts
-- grain: one row per org, billing cycle and currency with a priced count, (org_id, cycle_start, currency).
-- purpose: convbill report's amounts: what each cycle costs in each
--          currency its price scopes use, summed exactly (DECIMAL) and
--          handed over as text so no digit is lost on the way to the page.
--          Amounts of different currencies are never added up.
-- parameters:
--   $org: the org to report, or null for every org
-- columns:
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant, ISO-8601 UTC
--   currency: the price scopes' currency code
--   conversations: the priced conversations in that currency
--   billable_conversations: those left to pay after the allowances
--   amount: their amount, exact, as text with 6 decimal places
select
    org_id,
    any_value(cycle_id) as cycle_id,
    strftime(cycle_start, '%Y-%m-%dT%H:%M:%SZ') as cycle_start,
    currency,
    sum(conversations)::bigint as conversations,
    sum(billable_conversations)::bigint as billable_conversations,
    sum(amount)::decimal(38, 6)::varchar as amount
from fct_conversation_charges
where price_status = 'priced'
    and ($org::varchar is null or org_id = $org::varchar)
group by org_id, cycle_start, currency
order by org_id, cycle_start, currency
