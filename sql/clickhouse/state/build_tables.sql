-- int_interactions_local and the _next fact tables: a build's own tables
-- grain: int_interactions as the model of that name; the _next tables as the facts.
-- purpose: dropped and created again by every build (src/build/clickhouse/build.ts), so a
--          failed build's leftovers never reach the next one. The _next tables have the
--          facts' structure and partition key, which ATTACH/REPLACE PARTITION … FROM needs.
create table {database}.int_interactions_local (
    org_id String,
    integration_id String,
    interaction_key String,
    customer_account_id String,
    has_account_conflict UInt8,
    row_count UInt64,
    interaction_rows UInt64,
    ended_interaction_rows UInt64,
    started_at Int64,
    latest_activity Int64,
    ended_at Nullable(Int64),
    effective_end Int64,
    first_cycle_seq Nullable(Int32),
    last_cycle_seq Nullable(Int32),
    reject_reason Nullable(String)
) engine = MergeTree order by (org_id, integration_id, interaction_key);

create table {database}.int_interactions as {database}.int_interactions_local
engine = Distributed({cluster}, {database}, int_interactions_local, cityHash64(org_id, integration_id));

create table {database}.fct_billable_conversations_next_local as {database}.fct_billable_conversations_local;

create table {database}.fct_billable_conversations_next as {database}.fct_billable_conversations_local
engine = Distributed({cluster}, {database}, fct_billable_conversations_next_local, cityHash64(org_id, integration_id));

create table {database}.fct_conversation_counts_next_local as {database}.fct_conversation_counts_local;

create table {database}.fct_conversation_counts_next as {database}.fct_conversation_counts_local
engine = Distributed({cluster}, {database}, fct_conversation_counts_next_local, cityHash64(org_id, integration_id));
