-- dim_billing_cycles, dim_integrations, rejected_interactions
-- grain: as the DuckDB marts of the same names.
-- purpose: the published run's partition of each small mart.
create view if not exists {database}.dim_billing_cycles as
select org_id, cycle_id, cycle_start, cycle_end, timezone, cycle_source, cycle_seq
from {database}.dim_billing_cycles_local
where run_id = (select max(run_id) from {database}.convbill_manifest);

create view if not exists {database}.dim_integrations as
select org_id, integration_id, platform, integration_name, platform_source
from {database}.dim_integrations_local
where run_id = (select max(run_id) from {database}.convbill_manifest);

create view if not exists {database}.rejected_interactions as
select source_file, source_row, reason, raw, load_id, org_id, integration_id, interaction_key
from {database}.rejected_interactions_all
where run_id global in (select max(run_id) from {database}.convbill_manifest);
