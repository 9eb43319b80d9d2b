-- fct_billable_conversations
-- grain: one row per billable conversation, (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: the mart of docs/billing-rules.md §6 as readers see it: the visible run's rows of
--          each partition, from every shard. GLOBAL IN: the node the reader asked decides
--          what is visible, once, for all shards.
create view if not exists {database}.fct_billable_conversations as
select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, customer_account_id,
    interaction_count, first_activity_at, last_activity_at
from {database}.fct_billable_conversations_all
where (org_id, cycle_seq, run_id) global in (select org_id, cycle_seq, visible_run from {database}.convbill_visible_partitions);
