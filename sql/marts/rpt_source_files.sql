-- rpt_source_files
-- grain: one row per loaded file version, (load_id).
-- purpose: the identity of rules §5 per file: rows read = accepted + rejected.
--          rows_read comes from the load, rows_accepted from the rows whose
--          interaction reached a cycle and rows_rejected from
--          rejected_interactions, each counted on its own so that a row lost
--          between them shows up as identity_holds = false.
--          Superseded versions read, accept and reject nothing any more.
with accepted_interactions as (
    select org_id, integration_id, interaction_key
    from int_interaction_cycle_spans
    where first_cycle_seq <= last_cycle_seq
),

accepted_rows as (
    select stg_rows.load_id, count(*) as rows_accepted
    from stg_rows
    inner join accepted_interactions
        on stg_rows.org_id = accepted_interactions.org_id
        and stg_rows.integration_id = accepted_interactions.integration_id
        and stg_rows.interaction_key = accepted_interactions.interaction_key
    where stg_rows.row_reject_reason is null
    group by stg_rows.load_id
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
    coalesce(accepted_rows.rows_accepted, 0) as rows_accepted,
    coalesce(rejected_rows.rows_rejected, 0) as rows_rejected,
    raw_files.superseded_by is not null
        or raw_files.rows_read = coalesce(accepted_rows.rows_accepted, 0) + coalesce(rejected_rows.rows_rejected, 0)
        as identity_holds
from raw_files
left join accepted_rows on raw_files.load_id = accepted_rows.load_id
left join rejected_rows on raw_files.load_id = rejected_rows.load_id
