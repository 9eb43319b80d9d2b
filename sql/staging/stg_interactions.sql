-- materialized: temp
-- stg_interactions
-- grain: one row per interaction, (org_id, integration_id, interaction_key),
--        merged from the rows that passed the row checks.
-- purpose: rules §4 merge — start is the earliest start or occurrence; the
--          interaction is open when it has an interaction row and none of its
--          interaction rows has an end; otherwise it ends at its latest
--          activity. Flags keys that carry two different accounts, and keeps
--          the platforms its rows name for the integration dimension.
with accepted_rows as (
    select
        org_id,
        integration_id,
        interaction_key,
        customer_account_id,
        platform,
        row_kind,
        activity_start,
        activity_end
    from stg_rows
    where row_reject_reason is null
)

select
    org_id,
    integration_id,
    interaction_key,
    min(customer_account_id) as customer_account_id,
    min(customer_account_id) <> max(customer_account_id) as has_conflicting_accounts,
    min(platform) as min_platform,
    max(platform) as max_platform,
    count(*) as row_count,
    min(activity_start) as started_at,
    -- An end never precedes a start: a later-starting open row of a closed
    -- interaction still counts as activity up to its start.
    case
        when bool_or(row_kind = 'interaction')
            and not bool_or(row_kind = 'interaction' and activity_end is not null)
            then null
        else greatest(max(activity_end), max(activity_start))
    end as ended_at
from accepted_rows
group by org_id, integration_id, interaction_key
