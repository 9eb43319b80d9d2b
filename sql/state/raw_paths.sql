-- raw_paths
-- grain: one row per loaded path, (source_file).
-- purpose: each loaded path's current content (load), and whether --input
--          named it: such a path stays loaded until `convbill forget`.
-- columns:
--   source_file: the path
--   load_id: the content it holds now (raw_files)
--   pinned: named with --input
--   changed_at: when it last changed content or pinning
--   file_stat: size, modification and change times, inode and device of the
--              file when its content was last hashed (null: not recorded). A
--              path whose stat is the same, read the same way, is not read
--              again: an edit changes the change time even when a tool
--              restores the size and the modification time.
--   read_fingerprint: how it was read then (raw_files.read_fingerprint)
create table if not exists raw_paths (
    source_file varchar primary key,
    load_id integer not null,
    pinned boolean not null,
    changed_at timestamptz not null,
    file_stat varchar,
    read_fingerprint varchar
);
