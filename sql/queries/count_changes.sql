-- count_changes
-- grain: one row per (org_id, cycle_start, integration_id) whose count this
--        build changed.
-- purpose: inside the build's transaction, after the marts, the counts of
--          fct_conversation_counts that differ from the last ones recorded
--          in convbill_count_changes (a count recorded and now gone changes
--          to 0), into convbill_count_changes. An incremental build can only
--          have changed the cycles of int_dirty_cycles; a full refresh may
--          have changed any.
-- parameters:
--   $run_id: the build
--   $full_refresh: whether the build is a full refresh
-- columns:
--   run_id: the build
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant
--   integration_id: the messaging integration
--   platform: the platform it bills under
--   conversations_before: the count last recorded (0 when new)
--   conversations_after: the count now (0 when gone)
insert into convbill_count_changes
with recorded_counts as (
    select org_id, cycle_start, integration_id,
        arg_max(cycle_id, run_id) as cycle_id,
        arg_max(platform, run_id) as platform,
        arg_max(conversations_after, run_id) as conversations
    from convbill_count_changes
    where $full_refresh or (org_id, cycle_start) in (select org_id, cycle_start from int_dirty_cycles)
    group by org_id, cycle_start, integration_id
),

current_counts as (
    select org_id, cycle_id, cycle_start, integration_id, platform, conversations
    from fct_conversation_counts
    where $full_refresh or (org_id, cycle_start) in (select org_id, cycle_start from int_dirty_cycles)
)

select $run_id,
    coalesce(current_counts.org_id, recorded_counts.org_id),
    coalesce(current_counts.cycle_id, recorded_counts.cycle_id),
    coalesce(current_counts.cycle_start, recorded_counts.cycle_start),
    coalesce(current_counts.integration_id, recorded_counts.integration_id),
    coalesce(current_counts.platform, recorded_counts.platform),
    coalesce(recorded_counts.conversations, 0),
    coalesce(current_counts.conversations, 0)
from current_counts
full join recorded_counts
    on current_counts.org_id = recorded_counts.org_id
    and current_counts.cycle_start = recorded_counts.cycle_start
    and current_counts.integration_id = recorded_counts.integration_id
where coalesce(current_counts.conversations, 0) <> coalesce(recorded_counts.conversations, 0)
