-- bench/floor-spec.sql
-- purpose: the spec-complete engine floor — rows merged by interaction key,
--          both fact tables in a DuckDB file, Hive-partitioned Parquet
--          exports. Hand-written, as plain as possible, no convbill code.
-- parameters: path, as_of, out; reads bench_cycles.
create or replace table interactions as
select
    org_id,
    integration_id,
    interaction_id,
    any_value(customer_account_id) as customer_account_id,
    min(started_at) as started_at,
    case when count(*) > count(ended_at) then null else max(ended_at) end as ended_at
from read_parquet('{{path}}')
where integration_id is not null
    and started_at <= timestamptz '{{as_of}}'
group by org_id, integration_id, interaction_id;

create or replace table fct_billable_conversations as
select
    interactions.org_id,
    bench_cycles.cycle_id,
    bench_cycles.cycle_start,
    bench_cycles.cycle_end,
    interactions.integration_id,
    interactions.customer_account_id,
    count(*) as interaction_count,
    min(interactions.started_at) as first_activity_at,
    max(least(coalesce(interactions.ended_at, timestamptz '{{as_of}}'), timestamptz '{{as_of}}')) as last_activity_at
from interactions
inner join bench_cycles
    on interactions.org_id = bench_cycles.org_id
    and interactions.started_at < bench_cycles.cycle_end
    and least(coalesce(interactions.ended_at, timestamptz '{{as_of}}'), timestamptz '{{as_of}}') >= bench_cycles.cycle_start
group by all;

create or replace table fct_conversation_counts as
select org_id, cycle_id, cycle_start, cycle_end, integration_id, count(*) as conversations
from fct_billable_conversations
group by all;

copy fct_billable_conversations to '{{out}}/fct_billable_conversations' (format parquet, partition_by (org_id, cycle_id));
copy fct_conversation_counts to '{{out}}/fct_conversation_counts' (format parquet, partition_by (org_id, cycle_id));
