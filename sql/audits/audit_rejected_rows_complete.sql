-- audit_rejected_rows_complete
-- returns: the interactions rejected as a whole whose rows are not all in
--          rejected_interactions with the interaction's reason, and rows
--          listed there for an interaction that is not rejected (docs/billing-rules.md §5).
--          No rows means it passes. An incremental build rewrites the reject
--          rows of the interactions it touched from the rows it staged and
--          the ones stored before; a late row that turns a billable
--          interaction into a conflict leaves the interaction's earlier rows,
--          which no stored table holds, unlisted (int_interaction_reject_rows).
--          Only rereading every load finds them: hence the declaration below,
--          which makes the build start over as a full refresh instead of
--          failing when this is its only failing audit.
-- on_incremental_failure: full_refresh
-- refresh_reason: a late row made an interaction of earlier loads a conflict, whose rows only a full refresh rereads
with listed as (
    select org_id, integration_id, interaction_key, min(reason) as reason,
        count(distinct reason) as reasons, count(*) as row_count
    from int_interaction_reject_rows
    group by org_id, integration_id, interaction_key
),

rejected as (
    select keys.org_id, keys.integration_id, interactions.interaction_key, interactions.reject_reason, interactions.row_count
    from int_interactions as interactions
    inner join int_integration_keys as keys on interactions.integration_sk = keys.integration_sk
    where interactions.reject_reason is not null
)

select
    coalesce(rejected.org_id, listed.org_id) as org_id,
    coalesce(rejected.integration_id, listed.integration_id) as integration_id,
    coalesce(rejected.interaction_key, listed.interaction_key) as interaction_key,
    rejected.reject_reason,
    rejected.row_count as interaction_rows,
    listed.reason as listed_reason,
    listed.row_count as listed_rows
from rejected
full join listed
    on rejected.org_id = listed.org_id
    and rejected.integration_id = listed.integration_id
    and rejected.interaction_key = listed.interaction_key
where rejected.row_count is distinct from listed.row_count
    or rejected.reject_reason is distinct from listed.reason
    or listed.reasons > 1
