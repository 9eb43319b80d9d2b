-- convbill_manifest, convbill_partitions (on every shard alike)
-- grain: convbill_manifest one row per published run (run_id); convbill_partitions one row
--        per run and (org, cycle) partition it wrote (run_id, org_id, cycle_seq).
-- purpose: the gate. A run's rows reach the fact tables before it is published; readers
--          see a partition's rows of the latest run in both tables. The manifest row is
--          written last, on every shard, so a reader never sees half a run, and a run
--          that fails before it leaves the previous facts visible.
-- columns:
--   convbill_manifest: run_id (this cluster's own count: it orders visibility), history_run_id (the run in
--     the working DuckDB database's history), as_of (epoch ms), cluster (the layout it was built on), published_at
--   convbill_partitions: run_id, org_id, cycle_seq, conversations (0: the partition emptied), checksum of its rows
create table if not exists {database}.convbill_manifest (
    run_id UInt32,
    history_run_id UInt32,
    as_of Int64,
    cluster String,
    published_at DateTime
) engine = MergeTree order by run_id;

create table if not exists {database}.convbill_partitions (
    run_id UInt32,
    org_id String,
    cycle_seq Int32,
    conversations UInt64,
    checksum UInt64
) engine = MergeTree order by (org_id, cycle_seq, run_id);
