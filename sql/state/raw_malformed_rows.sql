-- raw_malformed_rows
-- grain: one row per physical row a reader could not fit, (load_id, source_row).
-- purpose: the physical rows a reader could not fit, with their line number,
--          text and the reader's words; the readers (src/ingest/readers.ts)
--          write them.
-- columns:
--   load_id: the load (raw_files)
--   source_row: the row's number in the load
--   line: its line in the file
--   line_text: the line as read
--   error: what the reader could not fit
create table if not exists raw_malformed_rows (
    load_id integer not null,
    source_row bigint not null,
    line bigint not null,
    line_text varchar,
    error varchar not null
);
