-- fct_conversation_counts
-- grain: one row per org, cycle and integration, (org_id, cycle_start, integration_id).
-- purpose: the number of billable conversations each org owes per cycle and
--          integration — what an invoice line is checked against.
select
    org_id,
    cycle_id,
    cycle_start,
    cycle_end,
    integration_id,
    platform,
    count(*) as conversations
from fct_billable_conversations
group by org_id, cycle_id, cycle_start, cycle_end, integration_id, platform
