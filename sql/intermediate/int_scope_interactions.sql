-- materialized: view
-- int_scope_interactions
-- grain: one row per interaction key among the staged rows,
--        (integration_sk, interaction_key).
-- purpose: the merge of docs/billing-rules.md §4 over the rows this build stages, kept as
--          partial aggregates (counts, earliest and latest instants, the
--          lowest and highest account hash) rather than final values:
--          every one of them combines with the interaction's earlier state
--          by sum, min or max, so a row that arrives late for an old
--          interaction merges without re-reading the old rows.
--          Only rows that passed the row checks take part.
with staged_interactions as (
    select
        org_id,
        integration_id,
        interaction_key,
        any_value(customer_account_id) as customer_account_id,
        min(hash(customer_account_id)) as account_hash_min,
        max(hash(customer_account_id)) as account_hash_max,
        count(*) as row_count,
        count_if(row_kind = 'interaction') as interaction_rows,
        count_if(row_kind = 'interaction' and activity_end is not null) as ended_interaction_rows,
        min(activity_start) as started_at,
        -- the latest start or end: greatest skips a missing end
        max(greatest(activity_start, activity_end)) as latest_activity
    from stg_rows
    where row_reject_reason is null
    group by org_id, integration_id, interaction_key
)

-- an inner join: int_integration_keys numbers every pair a staged row names
-- (rows it missed would fail audit_interactions_conserved, not vanish)
select
    keys.integration_sk,
    staged_interactions.interaction_key,
    staged_interactions.customer_account_id,
    staged_interactions.account_hash_min,
    staged_interactions.account_hash_max,
    staged_interactions.row_count,
    staged_interactions.interaction_rows,
    staged_interactions.ended_interaction_rows,
    staged_interactions.started_at,
    staged_interactions.latest_activity
from staged_interactions
inner join int_integration_keys as keys
    on staged_interactions.org_id = keys.org_id
    and staged_interactions.integration_id = keys.integration_id
