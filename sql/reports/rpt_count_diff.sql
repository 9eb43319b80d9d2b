-- materialized: temp
-- rpt_count_diff
-- grain: one row per (org_id, cycle_start, integration_id) whose count
--        differs between the builds cfg_diff.from_run and cfg_diff.to_run.
-- purpose: convbill diff — the count before and after, the change, and what
--          caused it: the files loaded in between with rows for that
--          integration over that cycle (convbill_run_loads), a full refresh
--          and its reason, or, when neither, a later as-of carrying open
--          interactions into the cycle. A count as it stood after a build is
--          the latest change at or before it (convbill_count_changes).
with compared_runs as (
    select from_run, to_run
    from cfg_diff
),

counts_then as (
    select
        changes.org_id,
        changes.cycle_start,
        changes.integration_id,
        arg_max(changes.cycle_id, changes.run_id) as cycle_id,
        arg_max(changes.platform, changes.run_id) as platform,
        arg_max(changes.conversations_after, changes.run_id) filter (where changes.run_id <= compared_runs.from_run) as before,
        arg_max(changes.conversations_after, changes.run_id) as after
    from convbill_count_changes as changes
    cross join compared_runs
    where changes.run_id <= compared_runs.to_run
    group by changes.org_id, changes.cycle_start, changes.integration_id, compared_runs.from_run
    having bool_or(changes.run_id > compared_runs.from_run)
),

changed_counts as (
    select org_id, cycle_id, cycle_start, integration_id, platform, coalesce(before, 0) as before, after
    from counts_then
    where coalesce(before, 0) <> after
),

loads_between as (
    select
        run_loads.org_id,
        run_loads.integration_id,
        raw_files.source_file,
        run_loads.earliest_activity,
        run_loads.latest_activity,
        run_loads.open_rows
    from convbill_run_loads as run_loads
    inner join raw_files on run_loads.load_id = raw_files.load_id
    cross join compared_runs
    where run_loads.run_id > compared_runs.from_run and run_loads.run_id <= compared_runs.to_run
),

refreshes_between as (
    select string_agg('full refresh in run ' || runs.run_id || coalesce(' (' || runs.refresh_reason || ')', ''), '; ' order by runs.run_id) as causes
    from convbill_runs as runs
    cross join compared_runs
    where runs.run_id > compared_runs.from_run and runs.run_id <= compared_runs.to_run
        and runs.command = 'build' and runs.status = 'success' and runs.full_refresh
),

-- a file is behind a change when it brought rows for the integration that
-- overlap the cycle (an open row reaches every later cycle)
files_behind as (
    select
        changed_counts.org_id,
        changed_counts.cycle_start,
        changed_counts.integration_id,
        string_agg(distinct loads_between.source_file, ', ' order by loads_between.source_file) as files
    from changed_counts
    inner join dim_billing_cycles
        on changed_counts.org_id = dim_billing_cycles.org_id
        and changed_counts.cycle_start = dim_billing_cycles.cycle_start
    inner join loads_between
        on changed_counts.org_id = loads_between.org_id
        and changed_counts.integration_id = loads_between.integration_id
        and (dim_billing_cycles.cycle_end is null or loads_between.earliest_activity < dim_billing_cycles.cycle_end)
        and (loads_between.open_rows > 0 or loads_between.latest_activity >= dim_billing_cycles.cycle_start)
    group by changed_counts.org_id, changed_counts.cycle_start, changed_counts.integration_id
)

select
    changed_counts.org_id,
    changed_counts.cycle_id,
    changed_counts.cycle_start,
    changed_counts.integration_id,
    changed_counts.platform,
    changed_counts.before as conversations_before,
    changed_counts.after as conversations_after,
    changed_counts.after - changed_counts.before as change,
    coalesce(files_behind.files, refreshes_between.causes,
        'no new rows: a later as-of carried open interactions into this cycle') as caused_by
from changed_counts
cross join refreshes_between
left join files_behind
    on changed_counts.org_id = files_behind.org_id
    and changed_counts.cycle_start = files_behind.cycle_start
    and changed_counts.integration_id = files_behind.integration_id
