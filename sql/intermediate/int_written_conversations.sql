-- materialized: view
-- int_written_conversations
-- grain: one row per conversation this build wrote,
--        (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: int_conversations_delta with each conversation's cycle start, the
--          key the counts, the changed conversations and the grain audit
--          work by. This build's cycles label them: a cycle's labels never
--          change between incremental builds.
select
    keys.org_id,
    cycles.cycle_start,
    keys.integration_id,
    written.customer_account_id,
    written.interaction_count,
    written.first_activity_at,
    written.last_activity_at
from int_conversations_delta as written
inner join int_integration_keys as keys
    on written.integration_sk = keys.integration_sk
left join int_billing_cycles as cycles
    on keys.org_id = cycles.org_id
    and written.cycle_seq = cycles.cycle_seq
