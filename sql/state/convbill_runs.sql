-- convbill_runs
-- grain: one row per command that changed the working database, (run_id).
-- purpose: The run history (`convbill runs`): written when a build or ingest
--          starts, in a transaction of its own, and closed when it ends, so
--          failed and interrupted runs are recorded too.
-- reads: rpt_source_files
-- columns:
--   run_id: the run, numbered 1, 2, … in order
--   command: 'build' or 'ingest'
--   command_line: the command as typed
--   started_at: when the run started
--   finished_at: when it ended; null while running
--   as_of: the instant the facts were computed as of
--   status: running, success, failed or interrupted (killed; found by the next run)
--   error: the one-sentence error of a failed run
--   full_refresh: true for a full rebuild, false for an incremental one
--   refresh_reason: why the build was full or incremental
--   files_loaded: input files the run loaded
--   rows_staged: input rows the build staged (the new loads in an incremental build)
--   rows_read: rows of every current file version, after the run (rpt_source_files)
--   rows_accepted: of those, the rows accepted
--   rows_rejected: of those, the rows rejected (rejected_interactions)
--   partitions_rebuilt: the (org, cycle) partitions the build rewrote (convbill_run_partitions)
--   duration_seconds: how long the run took
create table if not exists convbill_runs (
    run_id integer primary key,
    command varchar not null,
    command_line varchar not null,
    started_at timestamptz not null,
    finished_at timestamptz,
    as_of timestamptz,
    status varchar not null,
    error varchar,
    full_refresh boolean,
    refresh_reason varchar,
    files_loaded integer,
    rows_staged bigint,
    rows_read bigint,
    rows_accepted bigint,
    rows_rejected bigint,
    partitions_rebuilt integer,
    duration_seconds double
);
