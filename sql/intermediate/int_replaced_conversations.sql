-- materialized: temp
-- full_refresh: empty
-- reads_previous: int_conversations
-- int_replaced_conversations
-- grain: one row per stored conversation this build replaces,
--        (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: the conversations of int_dirty_accounts as the last build left
--          them, so that the counts can be adjusted rather than recounted,
--          and the conversations that really changed told from those
--          rewritten as they were (int_changed_conversations). A cycle's
--          labels never change between incremental builds (a change of the
--          cycle configuration rebuilds in full), so this build's cycles
--          give them their cycle start. stored_rowid is the row
--          int_conversations deletes before it writes the account again
--          (its delete_by): these are every stored row of the account.
select
    billed.rowid as stored_rowid,
    keys.org_id,
    cycles.cycle_start,
    keys.integration_id,
    billed.customer_account_id,
    billed.interaction_count,
    billed.first_activity_at,
    billed.last_activity_at
from int_conversations as billed
semi join int_dirty_accounts
    on billed.integration_sk = int_dirty_accounts.integration_sk
    and billed.customer_account_id = int_dirty_accounts.customer_account_id
inner join int_integration_keys as keys
    on billed.integration_sk = keys.integration_sk
left join int_billing_cycles as cycles
    on keys.org_id = cycles.org_id
    and billed.cycle_seq = cycles.cycle_seq
