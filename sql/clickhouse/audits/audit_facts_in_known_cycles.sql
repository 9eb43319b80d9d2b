-- audit_facts_in_known_cycles
-- grain: one row per conversation whose cycle is not one convbill computed.
-- purpose: every conversation is labelled with a cycle of its org (an unmatched label would be blank).
select org_id, cycle_id, cycle_start, integration_id, customer_account_id
from {database}.{detail}
where cycle_id = '' or (org_id, cycle_start) not in (select org_id, cycle_start from {database}.cfg_billing_cycles_local)
limit 5;
