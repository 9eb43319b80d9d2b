-- materialized: view
-- stg_rows
-- grain: one row per input row of the loads this build stages (load_id,
--        source_row) that its source's filter keeps: every current load in a
--        full build, the loads that arrived since the last build in an
--        incremental one.
-- purpose: trims the text keys, parses the timestamps, classifies the row as an
--          interaction row or a message row, gives rows without an
--          interaction_id a key of their own, and applies the row checks of
--          docs/billing-rules.md §5 (first failing reason wins, in the rules' order; rows a
--          reader could not fit, malformed_row, are stg_malformed_rows').
--          raw_scope_rows has already mapped each file's own columns to the
--          contract's with its source's settings of this build.
--          Computed where it is read: each pass reads the files again,
--          which costs less than keeping a staged copy. raw_row carries the
--          values as read, built only where a reader keeps the row (the
--          rejects).
with plausible_since as (
    select valid_from from cfg_run
),

cleaned as (
    select
        raw_rows.load_id,
        raw_rows.source_row,
        coalesce(clean_text(raw_rows.org_id), 'default') as org_id,
        clean_text(raw_rows.integration_id) as integration_id,
        clean_text(raw_rows.interaction_id) as interaction_id,
        clean_text(raw_rows.customer_account_id) as customer_account_id,
        lower(clean_text(raw_rows.platform)) as platform,
        clean_text(raw_rows.message_id) as message_id,
        clean_text(raw_rows.started_at) as started_text,
        clean_text(raw_rows.ended_at) as ended_text,
        clean_text(raw_rows.occurred_at) as occurred_text,
        raw_rows.started_at_instant,
        raw_rows.ended_at_instant,
        raw_rows.occurred_at_instant,
        raw_rows.source_timezone,
        raw_rows.epoch_unit,
        raw_rows.default_row_kind,
        -- the row as read, for int_row_rejects: carried, not joined back
        raw_rows.org_id as raw_org_id,
        raw_rows.integration_id as raw_integration_id,
        raw_rows.interaction_id as raw_interaction_id,
        raw_rows.customer_account_id as raw_customer_account_id,
        raw_rows.platform as raw_platform,
        raw_rows.message_id as raw_message_id,
        raw_rows.started_at as raw_started_at,
        raw_rows.ended_at as raw_ended_at,
        raw_rows.occurred_at as raw_occurred_at
    from raw_scope_rows as raw_rows
    where raw_rows.kept
),

classified as (
    select
        *,
        case
            when started_text is not null or ended_text is not null
                or started_at_instant is not null or ended_at_instant is not null then 'interaction'
            when occurred_text is not null or occurred_at_instant is not null then 'message'
            else default_row_kind
        end as row_kind
    from cleaned
),

-- only the fields of the row's own shape are read, and so checked
parsed as (
    select
        *,
        case when row_kind = 'interaction'
            then coalesce(started_at_instant, parse_instant(started_text, source_timezone, epoch_unit)) end as started_at,
        case when row_kind = 'interaction'
            then coalesce(ended_at_instant, parse_instant(ended_text, source_timezone, epoch_unit)) end as ended_at,
        case when row_kind = 'message'
            then coalesce(occurred_at_instant, parse_instant(occurred_text, source_timezone, epoch_unit)) end as occurred_at
    from classified
)

select
    load_id,
    source_row,
    org_id,
    integration_id,
    -- A row without an interaction_id is an interaction of its own; keying it
    -- by its content makes an exact duplicate of it merge instead of counting
    -- twice.
    coalesce(
        interaction_id,
        '~row:' || md5(to_json([
            row_kind, customer_account_id, platform, message_id,
            coalesce(started_text, started_at_instant::varchar),
            coalesce(ended_text, ended_at_instant::varchar),
            coalesce(occurred_text, occurred_at_instant::varchar)
        ]))
    ) as interaction_key,
    customer_account_id,
    platform,
    row_kind,
    case when row_kind = 'interaction' then started_at else occurred_at end as activity_start,
    case when row_kind = 'interaction' then ended_at else occurred_at end as activity_end,
    case
        when integration_id is null then 'missing_integration_id'
        when customer_account_id is null then 'missing_customer_account_id'
        when started_at is null and started_text is null and row_kind = 'interaction' then 'missing_timestamp'
        when occurred_at is null and occurred_text is null and row_kind = 'message' then 'missing_timestamp'
        when started_at is null and row_kind = 'interaction' then 'invalid_timestamp'
        when ended_at is null and ended_text is not null and row_kind = 'interaction' then 'invalid_timestamp'
        when occurred_at is null and row_kind = 'message' then 'invalid_timestamp'
        when least(started_at, ended_at, occurred_at) < plausible_since.valid_from then 'implausible_timestamp'
        when ended_at < started_at then 'ended_before_started'
    end as row_reject_reason,
    {
        'org_id': raw_org_id,
        'integration_id': raw_integration_id,
        'interaction_id': raw_interaction_id,
        'customer_account_id': raw_customer_account_id,
        'platform': raw_platform,
        'message_id': raw_message_id,
        'started_at': raw_started_at,
        'ended_at': raw_ended_at,
        'occurred_at': raw_occurred_at,
        'started_at_instant': started_at_instant,
        'ended_at_instant': ended_at_instant,
        'occurred_at_instant': occurred_at_instant
    } as raw_row
from parsed
cross join plausible_since
