-- audit_facts_in_known_cycles
-- returns: the fact partitions whose (org, cycle_start) is no cycle of
--          dim_billing_cycles, or whose cycle_id or cycle_end differ from
--          it. No rows means it passes.
with fact_cycles as (
    select distinct org_id, cycle_id, cycle_start, cycle_end
    from fct_conversation_counts
)

select fact_cycles.org_id, fact_cycles.cycle_id, fact_cycles.cycle_start, fact_cycles.cycle_end,
    dim_billing_cycles.cycle_id as known_cycle_id, dim_billing_cycles.cycle_end as known_cycle_end
from fact_cycles
left join dim_billing_cycles
    on fact_cycles.org_id = dim_billing_cycles.org_id
    and fact_cycles.cycle_start = dim_billing_cycles.cycle_start
where dim_billing_cycles.cycle_id is distinct from fact_cycles.cycle_id
    or dim_billing_cycles.cycle_end is distinct from fact_cycles.cycle_end
