-- stg_rows
-- grain: one row per staged input row that passed the row checks, (load_id, source_row).
-- purpose: the loader's rows, as DuckDB staged them from the files (src/build/clickhouse/ship.ts),
--          sharded by (org_id, integration_id) so that an interaction and its
--          conversations live on one shard. One partition per load: a load is
--          shipped again by dropping its partition first, and a load that no
--          longer counts is dropped whole.
-- columns:
--   load_id, source_row: the file version and the row's number in it
--   org_id, integration_id, interaction_key, customer_account_id, platform, row_kind: as stg_rows
--   activity_start, activity_end: epoch milliseconds (activity_end null for a row without an end)
--   raw: the row as read, as JSON text (for rejected_interactions)
create table if not exists {database}.stg_rows_local (
    load_id Int64,
    source_row Int64,
    org_id String,
    integration_id String,
    interaction_key String,
    customer_account_id String,
    platform Nullable(String),
    row_kind String,
    activity_start Int64,
    activity_end Nullable(Int64),
    raw String
) engine = MergeTree partition by load_id order by (org_id, integration_id, interaction_key);

create table if not exists {database}.stg_rows as {database}.stg_rows_local
engine = Distributed({cluster}, {database}, stg_rows_local, cityHash64(org_id, integration_id));
