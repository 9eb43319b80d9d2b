-- convbill_run_partitions
-- grain: one row per build and (org, cycle) partition it rewrote, (run_id, org_id, cycle_start).
-- purpose: What each build changed, and the partition as it stood after it.
-- reads: int_dirty_cycles, fct_conversation_counts
-- columns:
--   run_id: the build (convbill_runs)
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant
--   cycle_end: the instant after the cycle, excluded
--   integrations: integrations with conversations in the partition after the build
--   conversations: conversations in the partition after the build
--   counts_changed: whether a conversation was added or removed, which
--                   rewrites the partition's counts (null: not recorded)
--   settled_files: what the build did with the partition's files of
--                  conversations settled before as-of: rewritten (one that
--                  was settled changed), added (a file of those settled
--                  since the last build), kept; its file of conversations
--                  still active at as-of is written every time
create table if not exists convbill_run_partitions (
    run_id integer not null,
    org_id varchar not null,
    cycle_id varchar not null,
    cycle_start timestamptz not null,
    cycle_end timestamptz,
    integrations integer not null,
    conversations bigint not null,
    counts_changed boolean,
    settled_files varchar
);
