-- convbill_count_changes
-- grain: one row per build and count it changed, (run_id, org_id, cycle_start, integration_id).
-- purpose: Every count a build changed, before and after: the counts as
--          published after any build are the latest change at or before it.
--          `convbill diff` and the restatement flags of reconcile read it.
-- reads: fct_conversation_counts, int_dirty_cycles
-- columns:
--   run_id: the build that changed the count
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant
--   integration_id: the messaging integration
--   platform: the platform it bills under
--   conversations_before: the count before the build (0 when new)
--   conversations_after: the count after the build (0 when gone)
create table if not exists convbill_count_changes (
    run_id integer not null,
    org_id varchar not null,
    cycle_id varchar not null,
    cycle_start timestamptz not null,
    integration_id varchar not null,
    platform varchar,
    conversations_before bigint not null,
    conversations_after bigint not null
);
