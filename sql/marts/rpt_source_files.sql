-- rpt_source_files
-- grain: one row per loaded file version, (load_id).
-- purpose: the identity of rules §5 per file: rows read = accepted + rejected.
--          rows_read is what the load inserted; every staged row is either
--          rejected (rejected_interactions) or accepted, so identity_holds
--          checks that staging saw every row read. (That no interaction is
--          lost between staging and the facts is the audit
--          audit_interactions_conserved.) Superseded versions count nothing.
-- columns:
--   load_id: the load of this file version; a changed file at a known path loads again under a new id
--   source_file: the file's path as given to the load
--   format: how it was read: csv, json or parquet
--   content_hash: SHA-256 of the file's bytes: content already loaded adds nothing
--   loaded_at: when the file was loaded
--   superseded_by: the load_id of a newer version at the same path, whose rows count instead; null for the current version
--   rows_read: the rows the load read from the file
--   rows_accepted: the rows staged and not rejected
--   rows_rejected: the rows in rejected_interactions
--   identity_holds: rows read = accepted + rejected (true for a superseded version)
with staged_rows as (
    select load_id, rows_staged
    from int_load_stats
),

rejected_rows as (
    select load_id, count(*) as rows_rejected
    from rejected_interactions
    group by load_id
)

select
    raw_files.load_id,
    raw_files.source_file,
    raw_files.format,
    raw_files.content_hash,
    raw_files.loaded_at,
    raw_files.superseded_by,
    raw_files.rows_read,
    coalesce(staged_rows.rows_staged, 0) - coalesce(rejected_rows.rows_rejected, 0) as rows_accepted,
    coalesce(rejected_rows.rows_rejected, 0) as rows_rejected,
    raw_files.superseded_by is not null
        or raw_files.rows_read = coalesce(staged_rows.rows_staged, 0) as identity_holds
from raw_files
left join staged_rows on raw_files.load_id = staged_rows.load_id
left join rejected_rows on raw_files.load_id = rejected_rows.load_id
