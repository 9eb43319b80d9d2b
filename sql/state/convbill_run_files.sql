-- convbill_run_files
-- grain: one row per run, file and event, (run_id, source_file, event, load_id).
-- purpose: What each build or ingest did with each file: which it loaded,
--          which versions it superseded or put back, and which paths it
--          dropped because they are under no current source or were forgotten.
-- reads: raw_paths
-- columns:
--   run_id: the run (convbill_runs)
--   source_file: the path
--   load_id: the content the event is about (raw_files); null for dropped
--   event: loaded (new content), unchanged, repointed (the path now holds
--          content already loaded: an earlier version put back, or the same
--          bytes at another path), superseded (the version the path held
--          before) or dropped
create table if not exists convbill_run_files (
    run_id integer not null,
    source_file varchar not null,
    load_id integer,
    event varchar not null
);
