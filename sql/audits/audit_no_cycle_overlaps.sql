-- audit_no_cycle_overlaps
-- returns: the cycles of an org that start before the previous one ends
--          (docs/billing-rules.md §3: cycles are disjoint). No rows means it passes.
with ordered_cycles as (
    select
        org_id,
        cycle_id,
        cycle_start,
        cycle_end,
        lag(cycle_end) over (partition by org_id order by cycle_start) as previous_cycle_end
    from dim_billing_cycles
)

select org_id, cycle_id, cycle_start, cycle_end, previous_cycle_end
from ordered_cycles
where cycle_start < previous_cycle_end
    or cycle_end <= cycle_start
