-- cfg_counting_loads, cfg_billing_cycles, cfg_run (copied to every shard by each build)
-- grain: cfg_counting_loads one row per load that counts (load_id); cfg_billing_cycles one
--        row per org and cycle (org_id, cycle_seq); cfg_run one row.
-- purpose: what every shard needs whole: which loads count and the path that names each
--          (as cfg_loads), the cycles convbill computed (docs/billing-rules.md §8: never
--          an engine's timezone functions), and the run's id and as-of.
-- columns:
--   cfg_billing_cycles: as int_billing_cycles, instants in epoch milliseconds
--   cfg_run: run_id, as_of (epoch milliseconds)
create table if not exists {database}.cfg_counting_loads_local (
    load_id Int64,
    source_file String
) engine = TinyLog;

create table if not exists {database}.cfg_billing_cycles_local (
    org_id String,
    cycle_seq Int32,
    cycle_id String,
    cycle_start Int64,
    cycle_end Nullable(Int64),
    timezone String,
    cycle_source String
) engine = TinyLog;

create table if not exists {database}.cfg_run_local (
    run_id UInt32,
    as_of Int64
) engine = TinyLog;
