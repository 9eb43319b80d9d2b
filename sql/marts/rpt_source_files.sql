-- rpt_source_files
-- grain: one row per loaded file version, (load_id).
-- purpose: the identity of docs/billing-rules.md §5 per file: rows read = accepted + rejected
--          + filtered. rows_read is what the file physically holds (CSV lines
--          after the header, NDJSON lines, JSON array elements, Parquet
--          rows), counted when it was read, malformed rows included; every
--          row staging saw is either rejected (rejected_interactions) or
--          accepted, or its source's filter left it out. (That no
--          interaction is lost between staging and the facts is the audit
--          audit_interactions_conserved.) A version that does not count
--          (superseded, or under no current source) counts nothing.
-- columns:
--   load_id: the load of this file version; a changed file at a known path loads again under a new id
--   source_file: for a version that counts, the first in order of the paths that hold it now; otherwise the path it was first loaded from
--   format: how it was read: csv, json or parquet
--   content_hash: SHA-256 of the file's bytes: content already loaded the same way adds nothing
--   loaded_at: when the file was loaded
--   superseded_by: the load_id of a newer version at its path, whose rows count instead; null while a path holds this version
--   counted: whether this version counts in the facts: its path holds it now and is under a configured source or was given with --input
--   rows_read: the file's physical data rows, malformed ones included
--   rows_accepted: the rows staged and not rejected
--   rows_rejected: the rows in rejected_interactions, malformed ones included
--   rows_filtered: the rows the source's filter left out on purpose
--   identity_holds: rows read = accepted + rejected + filtered (true for a version that does not count)
with load_counts as (
    select load_id, rows_staged, rows_filtered, rows_malformed
    from int_load_stats
),

rejected_rows as (
    select load_id, count(*) as rows_rejected
    from rejected_interactions
    group by load_id
),

counted_loads as (
    select load_id, source_file from cfg_loads
)

select
    raw_files.load_id,
    coalesce(counted_loads.source_file, raw_files.source_file) as source_file,
    raw_files.format,
    raw_files.content_hash,
    raw_files.loaded_at,
    raw_files.superseded_by,
    counted_loads.load_id is not null as counted,
    raw_files.rows_read,
    coalesce(load_counts.rows_staged + load_counts.rows_malformed, 0)
        - coalesce(rejected_rows.rows_rejected, 0) as rows_accepted,
    coalesce(rejected_rows.rows_rejected, 0) as rows_rejected,
    coalesce(load_counts.rows_filtered, 0) as rows_filtered,
    counted_loads.load_id is null
        or raw_files.rows_read = coalesce(load_counts.rows_staged + load_counts.rows_malformed + load_counts.rows_filtered, 0)
        as identity_holds
from raw_files
left join counted_loads on raw_files.load_id = counted_loads.load_id
left join load_counts on raw_files.load_id = load_counts.load_id
left join rejected_rows on raw_files.load_id = rejected_rows.load_id
