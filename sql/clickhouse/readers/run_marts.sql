-- dim_billing_cycles, dim_integrations, rejected_interactions, fct_conversation_charges
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

create view if not exists {database}.fct_conversation_charges as
select org_id, cycle_id, cycle_start, cycle_end, platform, integration_id, conversations, billable_conversations,
    currency, amount, price_scope, price_status
from {database}.fct_conversation_charges_local
where run_id = (select max(run_id) from {database}.convbill_manifest);
