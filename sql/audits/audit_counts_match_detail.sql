-- audit_counts_match_detail
-- returns: the (org, cycle, integration) whose count in
--          fct_conversation_counts differs from its distinct conversations in
--          fct_billable_conversations, among the cycles audited. No rows
--          means it passes. The detail is counted in int_conversations,
--          the table behind the view, and labelled after counting: the
--          view adds labels to each of its rows and no rows
--          (audit_grain_dimensions), and counting through its joins took
--          ten times as long.
with detail_by_key as (
    select integration_sk, cycle_seq, count(*) as conversations
    from int_conversations
    group by integration_sk, cycle_seq
),

detail as (
    select keys.org_id, cycles.cycle_start, keys.integration_id, detail_by_key.conversations
    from detail_by_key
    inner join int_integration_keys as keys
        on detail_by_key.integration_sk = keys.integration_sk
    inner join dim_billing_cycles as cycles
        on keys.org_id = cycles.org_id
        and detail_by_key.cycle_seq = cycles.cycle_seq
    semi join audit_cycles
        on cycles.org_id = audit_cycles.org_id
        and cycles.cycle_start = audit_cycles.cycle_start
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
