-- bench/clickhouse-node.sql
-- purpose: the single-node ClickHouse contender — hand-written ClickHouse
--          18.16 SQL, no convbill code, on one server (no Distributed
--          tables): the spec-complete floor's work (rows merged by
--          interaction, detail and counts in MergeTree tables) with the
--          floors' cycles shipped as a small table.
-- parameters: db, as_of (epoch milliseconds). Instants are Int64 epoch
--             milliseconds (18.16 has no DateTime64).
-- bench/clickhouse-node.ts sends each `-- @section` in turn, a statement per
-- request (a statement ends with `;` at a line's end), and loads raw_rows and
-- bench_cycles from TSV files between `setup` and `merge`.

-- @setup
create database {{db}};

-- Sorting keys: the staging tables (raw_rows, interactions) are read whole
-- and never by key, so they are not sorted (tuple()): on 18.16 an insert
-- sorts its block in one thread: sorted by the interaction key, the load
-- took 2.4x and the merge 1.7x as long at 1M rows. The facts are sorted by
-- (org_id, cycle_id), the partition the floors export and readers ask for.

-- the input as it comes, bad rows included (integration_id null)
create table {{db}}.raw_rows (
    org_id String,
    integration_id Nullable(String),
    interaction_id String,
    customer_account_id String,
    started_at Int64,
    ended_at Nullable(Int64)
) engine = MergeTree order by tuple();

-- bench/cycles.sql's bench_cycles, one row per (org_id, cycle_start)
create table {{db}}.bench_cycles (
    org_id String,
    cycle_id String,
    cycle_start Int64,
    cycle_end Int64
) engine = MergeTree order by (org_id, cycle_start);

create table {{db}}.interactions (
    org_id String,
    integration_id String,
    interaction_id String,
    customer_account_id String,
    started_at Int64,
    ended_at Nullable(Int64)
) engine = MergeTree order by tuple();

create table {{db}}.fct_billable_conversations (
    org_id String,
    cycle_id String,
    cycle_start Int64,
    cycle_end Int64,
    integration_id String,
    customer_account_id String,
    interaction_count UInt64,
    first_activity_at Int64,
    last_activity_at Int64
) engine = MergeTree order by (org_id, cycle_id);

create table {{db}}.fct_conversation_counts (
    org_id String,
    cycle_id String,
    cycle_start Int64,
    cycle_end Int64,
    integration_id String,
    conversations UInt64
) engine = MergeTree order by (org_id, cycle_id);

-- @merge
-- one row per (org_id, integration_id, interaction_id): the earliest start;
-- open when any of its rows is, else the latest end (aliases named apart
-- from the columns: ClickHouse would read an alias in the where clause too)
insert into {{db}}.interactions
select
    org_id,
    assumeNotNull(integration_id) as integration_key,
    interaction_id,
    any(customer_account_id) as account,
    min(started_at) as first_start,
    if(count() > count(ended_at), null, max(ended_at)) as merged_end
from {{db}}.raw_rows
where integration_id is not null
    and started_at <= {{as_of}}
group by org_id, integration_id, interaction_id;

-- @detail
-- every interaction in every cycle it overlaps: the org's cycles as parallel
-- arrays (one equality join), filtered on the overlap predicate
insert into {{db}}.fct_billable_conversations
select
    org_id,
    cycle_id,
    cycle_start,
    cycle_end,
    integration_id,
    customer_account_id,
    count() as interaction_count,
    min(started_at) as first_activity_at,
    max(effective_end) as last_activity_at
from (
    select
        org_id,
        integration_id,
        customer_account_id,
        started_at,
        effective_end,
        arrayJoin(arrayFilter((k, s, e) -> started_at < e and effective_end >= s, arrayEnumerate(starts), starts, ends)) as k,
        ids[k] as cycle_id,
        starts[k] as cycle_start,
        ends[k] as cycle_end
    from (
        select
            org_id,
            integration_id,
            customer_account_id,
            started_at,
            least(ifNull(ended_at, toInt64({{as_of}})), toInt64({{as_of}})) as effective_end
        from {{db}}.interactions
    )
    any inner join (
        select org_id, groupArray(cycle_id) as ids, groupArray(cycle_start) as starts, groupArray(cycle_end) as ends
        from {{db}}.bench_cycles
        group by org_id
    ) using org_id
)
group by org_id, cycle_id, cycle_start, cycle_end, integration_id, customer_account_id;

-- @counts
insert into {{db}}.fct_conversation_counts
select org_id, cycle_id, cycle_start, cycle_end, integration_id, count() as conversations
from {{db}}.fct_billable_conversations
group by org_id, cycle_id, cycle_start, cycle_end, integration_id;
