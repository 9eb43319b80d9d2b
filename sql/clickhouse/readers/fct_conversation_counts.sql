-- fct_conversation_counts
-- grain: one row per (org_id, cycle_start, integration_id).
-- purpose: the mart of docs/billing-rules.md §6 as readers see it (see fct_billable_conversations).
create view if not exists {database}.fct_conversation_counts as
select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, conversations
from {database}.fct_conversation_counts_all
where (org_id, cycle_seq, run_id) global in (select org_id, cycle_seq, visible_run from {database}.convbill_visible_partitions);
