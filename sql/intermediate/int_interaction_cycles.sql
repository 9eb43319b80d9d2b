-- materialized: view
-- int_interaction_cycles
-- grain: one row per accepted interaction and cycle it overlaps,
--        (org_id, integration_id, interaction_key, cycle_seq).
-- purpose: rules §4 — an interaction counts once in every cycle it touches.
--          Most interactions touch one cycle; only the others go through
--          unnest, which costs more per row than the rest of this model.
--          Cycle labels are joined after aggregation, in the marts.
with accepted_spans as (
    select
        org_id,
        integration_id,
        interaction_key,
        customer_account_id,
        started_at,
        effective_end,
        first_cycle_seq,
        last_cycle_seq
    from int_interactions
    where is_candidate
        and first_cycle_seq <= last_cycle_seq
)

select org_id, integration_id, interaction_key, customer_account_id, started_at, effective_end,
    first_cycle_seq as cycle_seq
from accepted_spans
where first_cycle_seq = last_cycle_seq
union all
select org_id, integration_id, interaction_key, customer_account_id, started_at, effective_end,
    unnest(range(first_cycle_seq, last_cycle_seq + 1)) as cycle_seq
from accepted_spans
where first_cycle_seq < last_cycle_seq
