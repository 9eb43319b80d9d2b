-- convbill_visible_partitions
-- grain: one row per (org_id, cycle_seq) partition a published run wrote.
-- purpose: which run's rows of each partition readers see: the latest published one
--          (named visible_*: ClickHouse's aliases are global, and max(run_id) as run_id would
--          be read inside argMax). The file is named so that it is created before the views
--          that read it (readers/ runs in name order): current releases check a view's query
--          when it is created.
create view if not exists {database}.convbill_visible_partitions as
select org_id, cycle_seq, max(run_id) as visible_run, argMax(conversations, run_id) as visible_conversations, argMax(checksum, run_id) as visible_checksum
from {database}.convbill_partitions
where run_id in (select run_id from {database}.convbill_manifest)
group by org_id, cycle_seq;
