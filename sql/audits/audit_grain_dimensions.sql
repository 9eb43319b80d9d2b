-- audit_grain_dimensions
-- returns: the keys of dim_billing_cycles, dim_integrations,
--          rpt_source_files and int_integration_keys (both ways: a pair has
--          one integer, an integer one pair) held by more than one row. No
--          rows means it passes. fct_billable_conversations joins the
--          conversations to these: a repeated key would repeat
--          conversations.
select 'dim_billing_cycles' as mart, org_id || ' ' || cycle_start::varchar as grain_key, count(*) as rows_with_key
from dim_billing_cycles
group by org_id, cycle_start
having count(*) > 1
union all
select 'dim_integrations', org_id || ' ' || integration_id, count(*)
from dim_integrations
group by org_id, integration_id
having count(*) > 1
union all
select 'rpt_source_files', load_id::varchar, count(*)
from rpt_source_files
group by load_id
having count(*) > 1
union all
select 'int_integration_keys', integration_sk::varchar, count(*)
from int_integration_keys
group by integration_sk
having count(*) > 1
union all
select 'int_integration_keys', org_id || ' ' || integration_id, count(*)
from int_integration_keys
group by org_id, integration_id
having count(*) > 1
