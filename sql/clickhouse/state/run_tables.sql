-- dim_billing_cycles_local, dim_integrations_local, rejected_interactions_local
-- grain: as the marts of the same names, plus run_id; one partition per run.
-- purpose: the small marts, written whole by each run into a partition of their own;
--          readers see the published run's partition, and older ones are dropped after.
--          The dimensions are whole on every shard; the rejects live on the shard of
--          their rows.
create table if not exists {database}.dim_billing_cycles_local (
    run_id UInt32,
    org_id String,
    cycle_id String,
    cycle_start Int64,
    cycle_end Nullable(Int64),
    timezone String,
    cycle_source String,
    cycle_seq Int32
) engine = MergeTree partition by run_id order by (org_id, cycle_seq);

create table if not exists {database}.dim_integrations_local (
    run_id UInt32,
    org_id String,
    integration_id String,
    platform String,
    integration_name Nullable(String),
    platform_source String
) engine = MergeTree partition by run_id order by (org_id, integration_id);

create table if not exists {database}.rejected_interactions_local (
    run_id UInt32,
    source_file String,
    source_row Int64,
    reason String,
    raw String,
    load_id Int64,
    org_id Nullable(String),
    integration_id Nullable(String),
    interaction_key Nullable(String)
) engine = MergeTree partition by run_id order by (load_id, source_row);

create table if not exists {database}.rejected_interactions_all as {database}.rejected_interactions_local
engine = Distributed({cluster}, {database}, rejected_interactions_local, cityHash64(load_id, source_row));

-- fct_conversation_charges: rated by DuckDB's model of that name (sql/marts/) over this run's counts,
-- which are one row per (org, cycle, integration): small whatever the history (src/build/clickhouse/charges.ts)
create table if not exists {database}.fct_conversation_charges_local (
    run_id UInt32,
    org_id String,
    cycle_id String,
    cycle_start Int64,
    cycle_end Nullable(Int64),
    platform String,
    integration_id String,
    conversations UInt64,
    billable_conversations Nullable(UInt64),
    currency Nullable(String),
    amount Nullable(Decimal(38, 6)),
    price_scope Nullable(String),
    price_status String
) engine = MergeTree partition by run_id order by (org_id, cycle_start, integration_id);
