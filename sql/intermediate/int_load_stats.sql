-- materialized: incremental
-- unique_key: load_id
-- int_load_stats
-- grain: one row per staged load, (load_id).
-- purpose: how many rows staging saw of each load, for the identity of rules
--          §5 in rpt_source_files: a load is staged once, by the build after
--          it arrives, so the count is kept rather than recounted.
create table if not exists int_load_stats (
    load_id integer not null,
    rows_staged bigint not null
);

select
    load_id,
    count(*) as rows_staged
from stg_rows
group by load_id
