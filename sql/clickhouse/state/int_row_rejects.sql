-- int_row_rejects
-- grain: one row per input row that failed a row check or that a reader could not fit, (load_id, source_row).
-- purpose: the row rejects of docs/billing-rules.md §5 as DuckDB's staging found them, shipped
--          beside stg_rows; one partition per load, like it.
-- columns: load_id, source_row, reason, org_id, integration_id, interaction_key, raw (JSON text)
create table if not exists {database}.int_row_rejects_local (
    load_id Int64,
    source_row Int64,
    reason String,
    org_id Nullable(String),
    integration_id Nullable(String),
    interaction_key Nullable(String),
    raw String
) engine = MergeTree partition by load_id order by (load_id, source_row);

create table if not exists {database}.int_row_rejects as {database}.int_row_rejects_local
engine = Distributed({cluster}, {database}, int_row_rejects_local, cityHash64(load_id, source_row));
