-- materialized: temp
-- reads_previous: fct_conversation_counts
-- int_dirty_cycles
-- grain: one row per billing cycle whose facts this build rewrites,
--        (org_id, cycle_seq).
-- purpose: the (org, cycle) partitions of the facts that can change: every
--          cycle an interaction touched by this build overlaps now (an
--          interaction only grows, so that covers the cycles it overlapped
--          before), and every cycle billing an integration whose platform
--          changed. The facts of every other cycle stay as they are. In a
--          full refresh every interaction is touched, so every cycle is here.
with touched_runs as (
    -- a few thousand distinct runs, however many interactions
    select distinct org_id, first_cycle_seq, last_cycle_seq
    from int_interactions_delta
    where first_cycle_seq <= last_cycle_seq
),

touched_cycles as (
    select org_id, unnest(range(first_cycle_seq, last_cycle_seq + 1)) as cycle_seq
    from touched_runs
),

repriced_cycles as (
    select distinct int_billing_cycles.org_id, int_billing_cycles.cycle_seq
    from fct_conversation_counts as billed
    inner join dim_integrations
        on billed.org_id = dim_integrations.org_id
        and billed.integration_id = dim_integrations.integration_id
    inner join int_billing_cycles
        on billed.org_id = int_billing_cycles.org_id
        and billed.cycle_start = int_billing_cycles.cycle_start
    where billed.platform <> dim_integrations.platform
),

dirty as (
    select org_id, cycle_seq from touched_cycles
    union
    select org_id, cycle_seq from repriced_cycles
)

select
    int_billing_cycles.org_id,
    int_billing_cycles.cycle_seq,
    int_billing_cycles.cycle_id,
    int_billing_cycles.cycle_start,
    int_billing_cycles.cycle_end
from dirty
inner join int_billing_cycles
    on dirty.org_id = int_billing_cycles.org_id
    and dirty.cycle_seq = int_billing_cycles.cycle_seq
