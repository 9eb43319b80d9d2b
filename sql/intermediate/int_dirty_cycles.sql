-- materialized: temp
-- int_dirty_cycles
-- grain: one row per billing cycle whose facts this build changed,
--        (org_id, cycle_seq).
-- purpose: the (org, cycle) partitions of the facts that hold an added,
--          removed or changed conversation: the partitions the counts and
--          the Parquet exports update. settled_changed says whether such a
--          conversation had ended before as-of (its last activity before
--          as-of, before or after this build): the exports keep those
--          settled conversations in a file of their own, which most nights
--          leave alone, since what changes from night to night is mostly
--          the conversations still active at as-of. A full refresh changes
--          every cycle.
with run as (
    select full_refresh
    from cfg_run
),

changed_partitions as (
    select
        org_id,
        cycle_start,
        bool_or(coalesce(was_settled, false) or coalesce(is_settled, false)) as settled_changed
    from int_changed_conversations
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
