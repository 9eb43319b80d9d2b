-- audit_interactions_conserved
-- returns: the offending count, when merged interactions are not all either
--          assigned to cycles or rejected as a whole (rules §5: no row is
--          silently dropped). No rows means the audit passes.
with merged as (
    select count(*) as interactions
    from int_interactions
),

assigned as (
    select count(*) as interactions
    from int_interactions
    where is_candidate
        and first_cycle_seq <= last_cycle_seq
),

rejected as (
    select count(*) as interactions
    from int_interaction_rejects
)

select
    merged.interactions as merged_interactions,
    assigned.interactions as assigned_interactions,
    rejected.interactions as rejected_interactions
from merged, assigned, rejected
where merged.interactions <> assigned.interactions + rejected.interactions
