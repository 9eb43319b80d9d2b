-- explain_conversations
-- grain: one row per billable conversation of the account, (cycle_start,
--        integration_id), narrowed to --integration and --cycle when given.
-- purpose: `convbill explain`: the conversations behind an account's count,
--          the facts each rule of docs/billing-rules.md §4 needs (which
--          src/read/explain.ts turns into the rule and its sentence), and
--          the interactions behind each with their input rows. The rule of
--          a conversation depends on the account's other conversations, so
--          the windows run over all of them before --integration and
--          --cycle narrow the list. Instants leave as epoch microseconds:
--          nested values would otherwise reach JS as Dates and lose their
--          microseconds. Reads stg_rows as a temp view over the loads that
--          count, and raw_files, to find each interaction's rows again.
-- parameters:
--   $org: the org_id
--   $account: the customer_account_id
--   $integration: an integration_id, or null for all
--   $cycle: a cycle_id, or null for all
-- columns:
--   org_id: the organisation
--   customer_account_id: the account
--   cycle_id: the cycle's name
--   cycle_start_us: the cycle's first instant, epoch microseconds
--   cycle_end_us: the instant after the cycle, epoch microseconds; null when open
--   integration_id: the messaging integration
--   platform: the platform it bills under
--   interaction_count: the conversation's interactions
--   spans_boundary: an interaction that started in an earlier cycle was still going on in this one
--   has_earlier_cycle: the account had a conversation on this integration in an earlier cycle
--   has_other_platform: the account also talked through an integration of another platform in this cycle
--   has_other_integration: the account also talked through another integration of the same platform in this cycle
--   interactions: the interactions overlapping the cycle, each with its instants (epoch microseconds) and its source rows
with account_conversations as (
    select org_id, customer_account_id, cycle_id, cycle_start, cycle_end, integration_id, platform, interaction_count
    from fct_billable_conversations
    where org_id = $org and customer_account_id = $account
),

conversations_in_context as (
    select
        *,
        cycle_start > min(cycle_start) over (partition by integration_id) as has_earlier_cycle,
        min(platform) over same_cycle <> max(platform) over same_cycle as has_other_platform,
        count(*) over (partition by cycle_start, platform) > 1 as has_other_integration
    from account_conversations
    window same_cycle as (partition by cycle_start)
),

listed_conversations as (
    select *
    from conversations_in_context
    where ($integration::varchar is null or integration_id = $integration)
        and ($cycle::varchar is null or cycle_id = $cycle)
),

-- docs/billing-rules.md §4: started_at < cycle_end and effective_end >= cycle_start
overlapping_interactions as (
    select
        listed_conversations.cycle_start,
        keys.integration_id,
        int_interactions.interaction_key,
        int_interactions.started_at,
        int_interactions.ended_at,
        int_interactions.effective_end
    from listed_conversations
    inner join int_integration_keys as keys
        on listed_conversations.org_id = keys.org_id
        and listed_conversations.integration_id = keys.integration_id
    inner join int_interactions
        on keys.integration_sk = int_interactions.integration_sk
        and listed_conversations.customer_account_id = int_interactions.customer_account_id
        and int_interactions.started_at < coalesce(listed_conversations.cycle_end, 'infinity'::timestamptz)
        and int_interactions.effective_end >= listed_conversations.cycle_start
    where int_interactions.reject_reason is null
),

-- every row of a billable interaction carries its account (or it would be a
-- conflict), so filtering on the account only prunes the scan
accepted_source_rows as (
    select
        stg_rows.integration_id,
        stg_rows.interaction_key,
        list({'source_file': raw_files.source_file, 'source_row': stg_rows.source_row}
            order by raw_files.load_id, stg_rows.source_row) as source_rows
    from stg_rows
    inner join raw_files on stg_rows.load_id = raw_files.load_id
    semi join overlapping_interactions
        on stg_rows.integration_id = overlapping_interactions.integration_id
        and stg_rows.interaction_key = overlapping_interactions.interaction_key
    where stg_rows.org_id = $org
        and stg_rows.customer_account_id = $account
        and stg_rows.row_reject_reason is null
    group by stg_rows.integration_id, stg_rows.interaction_key
),

interactions_per_conversation as (
    select
        overlapping_interactions.cycle_start,
        overlapping_interactions.integration_id,
        bool_or(overlapping_interactions.started_at < overlapping_interactions.cycle_start) as spans_boundary,
        list({
            'interaction_key': overlapping_interactions.interaction_key,
            'started_us': epoch_us(overlapping_interactions.started_at),
            'ended_us': epoch_us(overlapping_interactions.ended_at),
            'effective_end_us': epoch_us(overlapping_interactions.effective_end),
            'source_rows': coalesce(accepted_source_rows.source_rows, [])
        } order by overlapping_interactions.started_at, overlapping_interactions.interaction_key) as interactions
    from overlapping_interactions
    left join accepted_source_rows
        on overlapping_interactions.integration_id = accepted_source_rows.integration_id
        and overlapping_interactions.interaction_key = accepted_source_rows.interaction_key
    group by overlapping_interactions.cycle_start, overlapping_interactions.integration_id
)

select
    listed_conversations.org_id,
    listed_conversations.customer_account_id,
    listed_conversations.cycle_id,
    epoch_us(listed_conversations.cycle_start) as cycle_start_us,
    epoch_us(listed_conversations.cycle_end) as cycle_end_us,
    listed_conversations.integration_id,
    listed_conversations.platform,
    listed_conversations.interaction_count,
    coalesce(interactions_per_conversation.spans_boundary, false) as spans_boundary,
    listed_conversations.has_earlier_cycle,
    listed_conversations.has_other_platform,
    listed_conversations.has_other_integration,
    coalesce(interactions_per_conversation.interactions, []) as interactions
from listed_conversations
left join interactions_per_conversation
    on listed_conversations.cycle_start = interactions_per_conversation.cycle_start
    and listed_conversations.integration_id = interactions_per_conversation.integration_id
order by listed_conversations.cycle_start, listed_conversations.integration_id
