-- materialized: view
-- int_scope_interactions
-- grain: one row per interaction key among the staged rows,
--        (org_id, integration_id, interaction_key).
-- purpose: the merge of rules §4 over the rows this build stages, kept as
--          partial aggregates (counts, earliest and latest instants, the
--          lowest and highest account hash) rather than final values:
--          every one of them combines with the interaction's earlier state
--          by sum, min or max, so a row that arrives late for an old
--          interaction merges without re-reading the old rows.
--          Only rows that passed the row checks take part.
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
    max(activity_start) as latest_start,
    max(activity_end) as latest_end
from stg_rows
where row_reject_reason is null
group by org_id, integration_id, interaction_key
