-- materialized: incremental
-- unique_key: load_id
-- int_load_stats
-- grain: one row per staged load, (load_id).
-- purpose: how many of each load's physical rows staging saw, for the identity
--          of docs/billing-rules.md §5 in rpt_source_files: rows the source's filter kept
--          (staged), left out on purpose (filtered), and that no reader could
--          fit (malformed). A load is staged once, by the build after it
--          arrives, so the counts are kept rather than recounted.
create table if not exists int_load_stats (
    load_id integer not null,
    rows_staged bigint not null,
    rows_filtered bigint not null,
    rows_malformed bigint not null
);

with read_rows as (
    select
        load_id,
        count(*) filter (where kept) as rows_staged,
        count(*) filter (where not kept) as rows_filtered
    from raw_scope_rows
    group by load_id
),

malformed_rows as (
    select load_id, count(*) as rows_malformed
    from stg_malformed_rows
    group by load_id
),

scope_loads as (
    select load_id from cfg_scope_loads
)

select
    scope_loads.load_id,
    coalesce(read_rows.rows_staged, 0) as rows_staged,
    coalesce(read_rows.rows_filtered, 0) as rows_filtered,
    coalesce(malformed_rows.rows_malformed, 0) as rows_malformed
from scope_loads
left join read_rows on scope_loads.load_id = read_rows.load_id
left join malformed_rows on scope_loads.load_id = malformed_rows.load_id
