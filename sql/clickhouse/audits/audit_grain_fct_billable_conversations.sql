-- audit_grain_fct_billable_conversations
-- grain: one row per grain key written twice.
-- purpose: the detail is unique on (org_id, cycle_start, integration_id, customer_account_id), the
--          rules' grain (docs/billing-rules.md §6). {detail}: the run's _next table in a build,
--          the readers' view in convbill test.
-- in_build: skip
--          A build's detail is unique by construction: a GROUP BY over these keys on each
--          shard, whose key (org_id, integration_id) no grain key crosses. It was 8 of the
--          9 audit seconds of a 10M build; convbill test runs it over what readers see.
select org_id, cycle_start, integration_id, customer_account_id, count() as copies
from {database}.{detail}
group by org_id, cycle_start, integration_id, customer_account_id
having copies > 1
limit 5;
