-- convbill_run_files
-- grain: one row per run, file and event, (run_id, source_file, event, load_id).
-- purpose: What each build or ingest did with each file (docs/billing-rules.md §4,
--          "Files and versions"): which it loaded, which versions it
--          superseded, reverted or restored, which re-deliveries it counted
--          once, which files it ignored and which paths it dropped.
-- reads: raw_paths, raw_path_versions
-- columns:
--   run_id: the run (convbill_runs)
--   source_file: the path
--   load_id: the content the event is about (raw_files); null for dropped and ignored
--   event: loaded (new content), unchanged (the content the path held),
--          reverted (a content the path held before: it counts again),
--          duplicate (a content another path already counts, or brought in
--          the same run: counted once), restored (a content loaded before
--          that no path counted: it counts again here), superseded (the
--          version the path held before), dropped (a path under no current
--          source, or forgotten) or ignored (a file found under a source,
--          of a type convbill does not read)
create table if not exists convbill_run_files (
    run_id integer not null,
    source_file varchar not null,
    load_id integer,
    event varchar not null
);
