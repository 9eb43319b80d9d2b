-- materialized: view
-- rejected_interactions
-- grain: one row per rejected input row, (load_id, source_row).
-- purpose: docs/billing-rules.md §5 — no input row silently disappears. Rows that failed a
--          row check (int_row_rejects) and every row of an interaction
--          rejected as a whole (int_interaction_reject_rows), with the file
--          they came from. raw is the row as read, as a JSON object of the
--          contract's columns; the interaction's key says which merged
--          interaction a row belonged to.
-- columns:
--   source_file: the input file the row came from: the first in order of the paths that hold its content now
--   source_row: the row's number in that file, from 1 (a CSV's first data row, an NDJSON file's first line, a JSON or Parquet file's first record)
--   reason: why: malformed_row, missing_integration_id, missing_customer_account_id, missing_timestamp, invalid_timestamp, implausible_timestamp, ended_before_started, conflicting_customer_account, after_as_of or outside_billing_cycles
--   raw: the row as read: a JSON object of the contract's columns under its source's mapping; for a malformed_row, {line, text, error}: the line the reader saw, its text and the reader's words
--   load_id: the load of the file version (rpt_source_files)
--   org_id: the row's organisation ('default' when it names none); null for a malformed_row
--   integration_id: the row's integration, when it has one (never for a malformed_row)
--   interaction_key: the merged interaction the row belonged to: its interaction_id, or '~row:' and a hash of its content; null for a malformed_row
with all_rejects as (
    select load_id, source_row, reason, raw, org_id, integration_id, interaction_key
    from int_row_rejects
    union all
    select load_id, source_row, reason, raw, org_id, integration_id, interaction_key
    from int_interaction_reject_rows
)

select
    coalesce(cfg_loads.source_file, raw_files.source_file) as source_file,
    all_rejects.source_row,
    all_rejects.reason,
    all_rejects.raw,
    all_rejects.load_id,
    all_rejects.org_id,
    all_rejects.integration_id,
    all_rejects.interaction_key
from all_rejects
inner join raw_files on all_rejects.load_id = raw_files.load_id
-- the path that holds the content now, as a fresh build would name it, not the one it first came from
left join cfg_loads on all_rejects.load_id = cfg_loads.load_id
