-- fct_billable_conversations_local, fct_conversation_counts_local (and their _next build tables)
-- grain: as the marts of the same names, plus run_id: the run that wrote the row's (org, cycle) partition.
-- purpose: the facts, partitioned by (org_id, cycle_seq). A build writes every partition
--          into the _next tables, then moves in only the partitions whose facts changed:
--          ATTACH PARTITION … FROM (beside the old rows, unseen until the manifest says so),
--          then, once published, REPLACE PARTITION … FROM (the old rows go). The readers'
--          views show, per partition, the rows of the latest published run that wrote it.
-- columns: run_id, cycle_seq, then the mart's columns (instants in epoch milliseconds)
create table if not exists {database}.fct_billable_conversations_local (
    run_id UInt32,
    org_id String,
    cycle_seq Int32,
    cycle_id String,
    cycle_start Int64,
    cycle_end Nullable(Int64),
    integration_id String,
    platform String,
    customer_account_id String,
    interaction_count UInt64,
    first_activity_at Int64,
    last_activity_at Int64
) engine = MergeTree partition by (org_id, cycle_seq) order by (integration_id, customer_account_id);

create table if not exists {database}.fct_billable_conversations_all as {database}.fct_billable_conversations_local
engine = Distributed({cluster}, {database}, fct_billable_conversations_local, cityHash64(org_id, integration_id));

create table if not exists {database}.fct_conversation_counts_local (
    run_id UInt32,
    org_id String,
    cycle_seq Int32,
    cycle_id String,
    cycle_start Int64,
    cycle_end Nullable(Int64),
    integration_id String,
    platform String,
    conversations UInt64
) engine = MergeTree partition by (org_id, cycle_seq) order by integration_id;

create table if not exists {database}.fct_conversation_counts_all as {database}.fct_conversation_counts_local
engine = Distributed({cluster}, {database}, fct_conversation_counts_local, cityHash64(org_id, integration_id));
