-- rejected_interactions
-- grain: one row per rejected input row, (source_file, source_row) of a load.
-- purpose: rules §5 — no input row silently disappears. Row checks come from
--          stg_rows; an interaction rejected as a whole rejects every one of
--          its rows that passed the row checks. raw is the row as read, as a
--          JSON object of the contract's columns.
with row_rejects as (
    select load_id, source_row, row_reject_reason as reason
    from stg_rows
    where row_reject_reason is not null
),

interaction_rejects as (
    select stg_rows.load_id, stg_rows.source_row, int_interaction_rejects.reason
    from stg_rows
    inner join int_interaction_rejects
        on stg_rows.org_id = int_interaction_rejects.org_id
        and stg_rows.integration_id = int_interaction_rejects.integration_id
        and stg_rows.interaction_key = int_interaction_rejects.interaction_key
    where stg_rows.row_reject_reason is null
),

all_rejects as (
    select load_id, source_row, reason from row_rejects
    union all
    select load_id, source_row, reason from interaction_rejects
)

select
    raw_files.source_file,
    all_rejects.source_row,
    all_rejects.reason,
    json_object(
        'org_id', raw_rows.org_id,
        'integration_id', raw_rows.integration_id,
        'interaction_id', raw_rows.interaction_id,
        'customer_account_id', raw_rows.customer_account_id,
        'platform', raw_rows.platform,
        'message_id', raw_rows.message_id,
        'started_at', raw_rows.started_at,
        'ended_at', raw_rows.ended_at,
        'occurred_at', raw_rows.occurred_at
    )::varchar as raw,
    all_rejects.load_id
from all_rejects
inner join raw_rows
    on all_rejects.load_id = raw_rows.load_id
    and all_rejects.source_row = raw_rows.source_row
inner join raw_files on all_rejects.load_id = raw_files.load_id
