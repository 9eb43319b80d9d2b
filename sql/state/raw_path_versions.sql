-- raw_path_versions
-- grain: one row per path and content it has held, (source_file, load_id).
-- purpose: every content each path has held, so a path put back to an
--          earlier version is told as reverted (docs/billing-rules.md §4,
--          "Files and versions"), and the run history can say so.
-- columns:
--   source_file: the path
--   load_id: a content it has held (raw_files)
--   first_held_at: when the path first held it
create table if not exists raw_path_versions (
    source_file varchar not null,
    load_id integer not null,
    first_held_at timestamptz not null,
    primary key (source_file, load_id)
);
