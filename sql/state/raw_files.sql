-- raw_files
-- grain: one row per loaded content read one way, (load_id).
-- purpose: the load manifest: one row per loaded content read one way, with
--          its first path, size, SHA-256, format, columns as read, physical
--          rows read and malformed rows. The same bytes read with other
--          settings are another load.
-- columns:
--   load_id: the load, numbered 1, 2, … in order
--   source_file: the first path it was loaded from
--   content_hash: SHA-256 of the file's bytes
--   read_fingerprint: the settings it was read with; a load is reused only for the same bytes read the same way
--   size_bytes: the file's size
--   format: csv, json or parquet
--   source_columns: the file's columns as read
--   rows_read: physical rows read, malformed ones included
--   rows_malformed: rows a reader could not fit (raw_malformed_rows)
--   loaded_at: when it was loaded
--   superseded_by: the load that replaced it at its path, once no path holds it; null while one does
--   stored_file: a Parquet load's copy in the raw store (`<database>.raw/`), relative to the database; null for CSV and JSON
create table if not exists raw_files (
    load_id integer primary key,
    source_file varchar not null,
    content_hash varchar not null,
    read_fingerprint varchar not null,
    size_bytes bigint not null,
    format varchar not null,
    source_columns varchar[] not null,
    rows_read bigint not null,
    rows_malformed bigint not null,
    loaded_at timestamptz not null,
    superseded_by integer,
    stored_file varchar
);
