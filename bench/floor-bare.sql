-- bench/floor-bare.sql
-- purpose: the bare engine floor — conversation counts and detail straight
--          from the Parquet file to single Parquet files: no merge of rows
--          by interaction, no database file, no partitioning.
-- parameters: path, as_of, out; reads bench_cycles.
create or replace temp table bare_detail as
select
    rows.org_id,
    bench_cycles.cycle_id,
    rows.integration_id,
    rows.customer_account_id,
    count(*) as interaction_count
from read_parquet('{{path}}') as rows
inner join bench_cycles
    on rows.org_id = bench_cycles.org_id
    and rows.started_at < bench_cycles.cycle_end
    and least(coalesce(rows.ended_at, timestamptz '{{as_of}}'), timestamptz '{{as_of}}') >= bench_cycles.cycle_start
where rows.integration_id is not null
    and rows.started_at <= timestamptz '{{as_of}}'
group by all;

copy bare_detail to '{{out}}/detail.parquet' (format parquet);

copy (
    select org_id, cycle_id, integration_id, count(*) as conversations
    from bare_detail
    group by all
) to '{{out}}/counts.parquet' (format parquet);
