-- audit_grain_fct_billable_conversations
-- grain: one row per grain key written twice.
-- purpose: the detail this run wrote is unique on (org_id, cycle_seq, integration_id, customer_account_id).
select org_id, cycle_seq, integration_id, customer_account_id, count() as copies
from {database}.fct_billable_conversations_next
group by org_id, cycle_seq, integration_id, customer_account_id
having copies > 1
limit 10;
