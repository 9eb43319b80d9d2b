-- report_invoice_lines
-- grain: one row per org and integration counted in the org's latest complete cycle, (org_id, integration_id).
-- purpose: convbill report's invoice table: what the latest cycle that has
--          ended at the as-of costs, integration by integration, from
--          fct_conversation_charges. A cycle still in progress is never
--          invoiced here: its counts can still grow.
-- parameters:
--   $org: the org to report, or null for every org
--   $as_of: the as-of of the build whose facts are read
-- columns:
--   org_id: the organisation
--   cycle_id: the cycle's name
--   integration_id: the messaging integration
--   integration_name: its name in the integrations reference, when it has one
--   platform: the platform it bills under
--   conversations: billable conversations
--   billable_conversations: those left to pay after the scope's allowance; null when no price matches
--   amount: their amount, exact, as text with 6 decimal places; null when no price matches
--   currency: the amount's currency; null when no price matches
--   price_scope: the price scope that priced the count
--   price_status: priced or no_price
with latest_complete as (
    select org_id, max(cycle_start) as cycle_start
    from dim_billing_cycles
    where cycle_end <= $as_of::timestamptz
        and ($org::varchar is null or org_id = $org::varchar)
    group by org_id
)

select
    charges.org_id,
    charges.cycle_id,
    charges.integration_id,
    integrations.integration_name,
    charges.platform,
    charges.conversations::bigint as conversations,
    charges.billable_conversations::bigint as billable_conversations,
    charges.amount::varchar as amount,
    charges.currency,
    charges.price_scope,
    charges.price_status
from fct_conversation_charges as charges
inner join latest_complete
    on charges.org_id = latest_complete.org_id
    and charges.cycle_start = latest_complete.cycle_start
left join dim_integrations as integrations
    on charges.org_id = integrations.org_id
    and charges.integration_id = integrations.integration_id
order by charges.org_id, charges.platform, charges.integration_id
