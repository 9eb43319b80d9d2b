-- fct_conversation_counts (into fct_conversation_counts_next_local)
-- grain: one row per (org_id, cycle_seq, integration_id).
-- purpose: docs/billing-rules.md §6: the billable conversations counted, from this run's detail
--          on the same shard (an integration lives on one shard).
-- columns: as the mart, with run_id and cycle_seq
insert into {database}.fct_conversation_counts_next_local
select
    run_id,
    org_id,
    cycle_seq,
    any(cycle_id) as cycle_id,
    any(cycle_start) as cycle_start,
    any(cycle_end) as cycle_end,
    integration_id,
    any(platform) as platform,
    count() as conversations
from {database}.fct_billable_conversations_next_local
group by run_id, org_id, cycle_seq, integration_id;
