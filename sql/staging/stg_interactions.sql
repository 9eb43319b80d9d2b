-- materialized: temp
-- stg_interactions
-- grain: one row per interaction, (org_id, integration_id, interaction_key),
--        merged from the rows that passed the row checks.
-- purpose: rules §4 merge — start is the earliest start or occurrence; the
--          interaction is open when it has an interaction row and none of its
--          interaction rows has an end; otherwise it ends at its latest
--          activity. Flags keys that carry two different accounts.
--          Accounts are compared by their 64-bit hashes: min/max over the
--          strings themselves cost more than the rest of the merge, and two
--          different accounts of one interaction id sharing a hash (odds about
--          1 in 10^19) is the only way a conflict could go unseen.
with accepted_rows as (
    select
        org_id,
        integration_id,
        interaction_key,
        customer_account_id,
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
    any_value(customer_account_id) as customer_account_id,
    min(hash(customer_account_id)) <> max(hash(customer_account_id)) as has_conflicting_accounts,
    count(*) as row_count,
    min(activity_start) as started_at,
    -- An end never precedes a start: a later-starting open row of a closed
    -- interaction still counts as activity up to its start.
    case
        when count_if(row_kind = 'interaction') > 0
            and count_if(row_kind = 'interaction' and activity_end is not null) = 0
            then null
        else greatest(max(activity_end), max(activity_start))
    end as ended_at
from accepted_rows
group by org_id, integration_id, interaction_key
