-- audit_grain_fct_conversation_counts
-- returns: the keys of fct_conversation_counts held by more than one row.
--          No rows means it passes.
select org_id, cycle_start, integration_id, count(*) as rows_with_key
from fct_conversation_counts
group by org_id, cycle_start, integration_id
having count(*) > 1
