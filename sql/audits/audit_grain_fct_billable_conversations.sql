-- audit_grain_fct_billable_conversations
-- returns: the keys of fct_billable_conversations held by more than one
--          row, among the cycles audited. No rows means it passes.
select org_id, cycle_start, integration_id, customer_account_id, count(*) as rows_with_key
from fct_billable_conversations
semi join audit_cycles
    on fct_billable_conversations.org_id = audit_cycles.org_id
    and fct_billable_conversations.cycle_start = audit_cycles.cycle_start
group by org_id, cycle_start, integration_id, customer_account_id
having count(*) > 1
