-- materialized: temp
-- full_refresh: empty
-- int_changed_conversations
-- grain: one row per conversation an incremental build added, removed or
--        changed, (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: most conversations of a recounted account come out as they were;
--          the published copy and the Parquet exports only need the ones
--          that differ. was_settled / is_settled say whether the old / new
--          row had ended before the as-of of its build (null where there is
--          no such row); added_or_removed, whether it is new or gone, which
--          is all that changes a count. Both sides take their cycle labels from this
--          build's cycles, so only the stored values are compared. Empty in
--          a full refresh (full_refresh: empty), which publishes everything.
with run as (
    select as_of, previous_as_of
    from cfg_run
),

rewritten as (
    select org_id, cycle_start, integration_id, customer_account_id,
        interaction_count, first_activity_at, last_activity_at
    from int_written_conversations
)

select
    coalesce(rewritten.org_id, replaced.org_id) as org_id,
    coalesce(rewritten.cycle_start, replaced.cycle_start) as cycle_start,
    coalesce(rewritten.integration_id, replaced.integration_id) as integration_id,
    coalesce(rewritten.customer_account_id, replaced.customer_account_id) as customer_account_id,
    replaced.last_activity_at < (select previous_as_of from run) as was_settled,
    rewritten.last_activity_at < (select as_of from run) as is_settled,
    rewritten.org_id is null or replaced.org_id is null as added_or_removed
from rewritten
full join int_replaced_conversations as replaced
    on rewritten.org_id = replaced.org_id
    and rewritten.cycle_start = replaced.cycle_start
    and rewritten.integration_id = replaced.integration_id
    and rewritten.customer_account_id = replaced.customer_account_id
where rewritten.org_id is null
    or replaced.org_id is null
    or rewritten.interaction_count is distinct from replaced.interaction_count
    or rewritten.first_activity_at is distinct from replaced.first_activity_at
    or rewritten.last_activity_at is distinct from replaced.last_activity_at
