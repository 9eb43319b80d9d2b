-- audit_counts_match_detail
-- returns: the (org, cycle, integration) whose count in
--          fct_conversation_counts differs from its distinct conversations in
--          fct_billable_conversations, among the cycles audited. No rows
--          means it passes.
with detail as (
    select org_id, cycle_start, integration_id, count(*) as conversations
    from fct_billable_conversations
    semi join audit_cycles
        on fct_billable_conversations.org_id = audit_cycles.org_id
        and fct_billable_conversations.cycle_start = audit_cycles.cycle_start
    group by org_id, cycle_start, integration_id
),

counted as (
    select org_id, cycle_start, integration_id, conversations
    from fct_conversation_counts
    semi join audit_cycles
        on fct_conversation_counts.org_id = audit_cycles.org_id
        and fct_conversation_counts.cycle_start = audit_cycles.cycle_start
)

select
    coalesce(detail.org_id, counted.org_id) as org_id,
    coalesce(detail.cycle_start, counted.cycle_start) as cycle_start,
    coalesce(detail.integration_id, counted.integration_id) as integration_id,
    detail.conversations as detail_conversations,
    counted.conversations as counted_conversations
from detail
full join counted
    on detail.org_id = counted.org_id
    and detail.cycle_start = counted.cycle_start
    and detail.integration_id = counted.integration_id
where detail.conversations is distinct from counted.conversations
