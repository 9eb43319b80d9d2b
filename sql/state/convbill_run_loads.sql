-- convbill_run_loads
-- grain: one row per incremental build, load and (org, integration) the load
--        brought rows for, (run_id, load_id, org_id, integration_id).
-- purpose: Which loaded files brought rows for which (org, integration), and
--          over which stretch of time, so `convbill diff` can name the files
--          behind a change. A full refresh records nothing here: it re-reads
--          every file, and convbill_runs holds its reason.
-- reads: stg_rows
-- columns:
--   run_id: the incremental build (convbill_runs)
--   load_id: the load it staged (raw_files)
--   org_id: the organisation
--   integration_id: the messaging integration
--   rows_staged: the load's staged rows for the integration
--   earliest_activity: the earliest instant those rows are about
--   latest_activity: the latest instant those rows are about (an end, or a start without one)
--   open_rows: interaction rows without an end, which a later as-of carries forward
create table if not exists convbill_run_loads (
    run_id integer not null,
    load_id integer not null,
    org_id varchar not null,
    integration_id varchar not null,
    rows_staged bigint not null,
    earliest_activity timestamptz,
    latest_activity timestamptz,
    open_rows bigint not null
);
