-- materialized: temp
-- int_dirty_cycles
-- grain: one row per billing cycle whose facts this build changed,
--        (org_id, cycle_seq).
-- purpose: the (org, cycle) partitions of the facts that hold a replaced or
--          rewritten conversation: the partitions the counts, the Parquet
--          exports and the published copy update. settled_changed says
--          whether a changed conversation there had ended before as-of
--          (its last activity before as-of, now or before this build):
--          the exports keep those settled conversations in a file of their
--          own, which most nights leave alone, since what changes from night
--          to night is mostly the conversations still active at as-of. A
--          full refresh changes every cycle.
with run as (
    select as_of, full_refresh
    from cfg_run
),

replaced_partitions as (
    select org_id, cycle_start, was_settled as settled_changed
    from int_replaced_conversations
),

rewritten_partitions as (
    select org_id, cycle_start, last_activity_at < (select as_of from run) as settled_changed
    from fct_billable_conversations_delta
    where not (select full_refresh from run)
),

changed_partitions as (
    select org_id, cycle_start, bool_or(settled_changed) as settled_changed
    from (
        select org_id, cycle_start, settled_changed from replaced_partitions
        union all
        select org_id, cycle_start, settled_changed from rewritten_partitions
    )
    group by org_id, cycle_start
)

select
    int_billing_cycles.org_id,
    int_billing_cycles.cycle_seq,
    int_billing_cycles.cycle_id,
    int_billing_cycles.cycle_start,
    int_billing_cycles.cycle_end,
    coalesce(changed_partitions.settled_changed, true) as settled_changed
from int_billing_cycles
left join changed_partitions
    on int_billing_cycles.org_id = changed_partitions.org_id
    and int_billing_cycles.cycle_start = changed_partitions.cycle_start
where (select full_refresh from run)
    or changed_partitions.org_id is not null
