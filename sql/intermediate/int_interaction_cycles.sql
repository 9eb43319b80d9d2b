-- materialized: view
-- int_interaction_cycles
-- grain: one row per billable interaction and dirty cycle it overlaps,
--        (org_id, integration_id, interaction_key, cycle_seq).
-- purpose: rules §4 — an interaction counts once in every cycle it touches;
--          only the cycles this build rewrites (int_dirty_cycles) are
--          listed. Interactions outside each org's span of dirty cycles are
--          skipped before any expansion. Most interactions touch one cycle;
--          only the others go through unnest, which costs more per row than
--          the rest of this model. Cycle labels are joined after
--          aggregation, in the marts.
with dirty_spans as (
    select org_id, min(cycle_seq) as first_dirty_seq, max(cycle_seq) as last_dirty_seq
    from int_dirty_cycles
    group by org_id
),

billable_spans as (
    select
        int_interactions.org_id,
        int_interactions.integration_id,
        int_interactions.customer_account_id,
        int_interactions.started_at,
        int_interactions.effective_end,
        int_interactions.first_cycle_seq,
        int_interactions.last_cycle_seq
    from int_interactions
    inner join dirty_spans
        on int_interactions.org_id = dirty_spans.org_id
        and int_interactions.first_cycle_seq <= dirty_spans.last_dirty_seq
        and int_interactions.last_cycle_seq >= dirty_spans.first_dirty_seq
    where int_interactions.reject_reason is null
),

interaction_cycles as (
    select org_id, integration_id, customer_account_id, started_at, effective_end,
        first_cycle_seq as cycle_seq
    from billable_spans
    where first_cycle_seq = last_cycle_seq
    union all
    select org_id, integration_id, customer_account_id, started_at, effective_end,
        unnest(range(first_cycle_seq, last_cycle_seq + 1)) as cycle_seq
    from billable_spans
    where first_cycle_seq < last_cycle_seq
)

select
    interaction_cycles.org_id,
    interaction_cycles.integration_id,
    interaction_cycles.customer_account_id,
    interaction_cycles.started_at,
    interaction_cycles.effective_end,
    interaction_cycles.cycle_seq
from interaction_cycles
semi join int_dirty_cycles
    on interaction_cycles.org_id = int_dirty_cycles.org_id
    and interaction_cycles.cycle_seq = int_dirty_cycles.cycle_seq
