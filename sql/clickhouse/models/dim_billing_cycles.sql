-- dim_billing_cycles (into dim_billing_cycles_local, this run's partition, whole on every shard)
-- grain: one row per org and cycle, (org_id, cycle_seq).
-- purpose: as the DuckDB mart: each org's cycles from the one holding its earliest billable
--          interaction (or one in a calendar's gap) to the one holding as-of. The earliest
--          start is an org's minimum over every shard: a Distributed read of one row per org.
-- columns: as the mart, with run_id
insert into {database}.dim_billing_cycles_local
select
    {run_id} as run_id,
    org_id,
    cycle_id,
    cycle_start,
    cycle_end,
    timezone,
    cycle_source,
    cycle_seq
from {database}.cfg_billing_cycles_local
all inner join (
    select org_id, min(started_at) as earliest_start
    from {database}.int_interactions
    where reject_reason is null or reject_reason = 'outside_billing_cycles'
    group by org_id
) as org_earliest using org_id
where ifNull(cycle_end, toInt64(9223372036854775807)) > earliest_start;
