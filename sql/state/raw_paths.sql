-- raw_paths
-- grain: one row per loaded path, (source_file).
-- purpose: each loaded path's current content (load), and whether --input
--          named it: such a path stays loaded until `convbill forget`.
-- columns:
--   source_file: the path
--   load_id: the content it holds now (raw_files)
--   pinned: named with --input
--   changed_at: when it last changed content or pinning
create table if not exists raw_paths (
    source_file varchar primary key,
    load_id integer not null,
    pinned boolean not null,
    changed_at timestamptz not null
);
