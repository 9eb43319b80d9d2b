/**
 * Restatements: what each build changed in the published counts, and why.
 *
 * `convbill_count_changes` holds, per build, every (org, cycle, integration)
 * whose count it changed, before and after. Storing changes rather than
 * every count of every build keeps the table small (most nights change the
 * current cycle only) and still gives the counts as they stood after any
 * build: the latest change at or before it. `convbill_run_loads` keeps, per
 * incremental build, which loaded files brought rows for which (org,
 * integration) and over which stretch of time, so `convbill diff` can name
 * the files behind a change. A full refresh records its reason instead:
 * it re-reads every file.
 */
import { ConfigError } from './errors.js';
import type { QueryResult } from './query.js';
import { plainValue } from './values.js';
import { Warehouse } from './warehouse.js';

export async function createRestatementTables(warehouse: Warehouse): Promise<void> {
  await warehouse.run(`
    create table if not exists convbill_count_changes (
        run_id integer not null,
        org_id varchar not null,
        cycle_id varchar not null,
        cycle_start timestamptz not null,
        integration_id varchar not null,
        platform varchar,
        conversations_before bigint not null,
        conversations_after bigint not null
    )`);
  await warehouse.run(`
    create table if not exists convbill_run_loads (
        run_id integer not null,
        load_id integer not null,
        org_id varchar not null,
        integration_id varchar not null,
        rows_staged bigint not null,
        earliest_activity timestamptz,
        latest_activity timestamptz,
        open_rows bigint not null
    )`);
}

/**
 * Inside the build's transaction, after the marts: the counts that differ
 * from the last ones recorded. An incremental build can only have changed
 * the cycles of int_dirty_cycles; a full refresh may have changed any.
 */
export async function recordCountChanges(warehouse: Warehouse, runId: number, fullRefresh: boolean): Promise<void> {
  await createRestatementTables(warehouse);
  const inScope = (table: string) =>
    fullRefresh
      ? ''
      : `semi join int_dirty_cycles on ${table}.org_id = int_dirty_cycles.org_id and ${table}.cycle_start = int_dirty_cycles.cycle_start`;
  await warehouse.run(
    `insert into convbill_count_changes
     with recorded_counts as (
         select org_id, cycle_start, integration_id,
             arg_max(cycle_id, run_id) as cycle_id,
             arg_max(platform, run_id) as platform,
             arg_max(conversations_after, run_id) as conversations
         from convbill_count_changes
         ${inScope('convbill_count_changes')}
         group by org_id, cycle_start, integration_id
     ),
     current_counts as (
         select org_id, cycle_id, cycle_start, integration_id, platform, conversations
         from fct_conversation_counts
         ${inScope('fct_conversation_counts')}
     )
     select $run_id,
         coalesce(current_counts.org_id, recorded_counts.org_id),
         coalesce(current_counts.cycle_id, recorded_counts.cycle_id),
         coalesce(current_counts.cycle_start, recorded_counts.cycle_start),
         coalesce(current_counts.integration_id, recorded_counts.integration_id),
         coalesce(current_counts.platform, recorded_counts.platform),
         coalesce(recorded_counts.conversations, 0),
         coalesce(current_counts.conversations, 0)
     from current_counts
     full join recorded_counts
         on current_counts.org_id = recorded_counts.org_id
         and current_counts.cycle_start = recorded_counts.cycle_start
         and current_counts.integration_id = recorded_counts.integration_id
     where coalesce(current_counts.conversations, 0) <> coalesce(recorded_counts.conversations, 0)`,
    { run_id: runId },
  );
  if (fullRefresh) return;
  await warehouse.run(
    `insert into convbill_run_loads
     select $run_id, load_id, org_id, integration_id, count(*),
         min(activity_start), max(coalesce(activity_end, activity_start)),
         count_if(row_kind = 'interaction' and activity_end is null)
     from stg_rows
     where integration_id is not null
     group by load_id, org_id, integration_id`,
    { run_id: runId },
  );
}

export interface DiffOptions {
  db: string;
  /** run ids; default: the last two successful builds */
  from?: number;
  to?: number;
}

export interface Diff {
  from: number;
  to: number;
  changes: QueryResult;
}

/**
 * The (org, cycle, integration) whose count differs between the builds
 * `from` and `to`, and what caused it: the files loaded in between with rows
 * for that integration over that cycle, a full refresh and its reason, or,
 * when neither, a later as-of carrying open interactions forward.
 */
export async function diffRuns(options: DiffOptions): Promise<Diff> {
  const warehouse = await Warehouse.open(options.db, { readOnly: true });
  try {
    const hasHistory = await warehouse.value<bigint>(
      `select count(*) from duckdb_tables() where database_name = current_database() and table_name = 'convbill_count_changes'`,
    );
    if (hasHistory === 0n) throw new ConfigError(`Database ${options.db} has no count history yet; build with this version of convbill first.`);
    const builds = (
      await warehouse.rows<{ run_id: number }>(
        `select run_id from convbill_runs where command = 'build' and status = 'success' order by run_id desc`,
      )
    ).map((row) => row.run_id);
    const to = options.to ?? builds[0];
    const from = options.from ?? builds.find((run) => to !== undefined && run < to) ?? 0;
    if (to === undefined) throw new ConfigError(`Database ${options.db} has no successful build to compare.`);
    for (const run of [options.from, options.to]) {
      if (run !== undefined && run !== 0 && !builds.includes(run)) {
        throw new ConfigError(`Run ${run} is not a successful build of ${options.db} (see "convbill runs").`);
      }
    }
    if (from >= to) throw new ConfigError(`--from (${from}) must be an earlier run than --to (${to}).`);
    const { columns, rows } = await warehouse.table(
      `with counts_then as (
           select org_id, cycle_start, integration_id,
               arg_max(cycle_id, run_id) as cycle_id,
               arg_max(platform, run_id) as platform,
               arg_max(conversations_after, run_id) filter (where run_id <= ${from}) as before,
               arg_max(conversations_after, run_id) as after
           from convbill_count_changes
           where run_id <= ${to}
           group by org_id, cycle_start, integration_id
           having bool_or(run_id > ${from})
       ),
       changed_counts as (
           select org_id, cycle_id, cycle_start, integration_id, platform,
               coalesce(before, 0) as before, after
           from counts_then
           where coalesce(before, 0) <> after
       ),
       loads_between as (
           select convbill_run_loads.org_id, convbill_run_loads.integration_id, raw_files.source_file,
               convbill_run_loads.earliest_activity, convbill_run_loads.latest_activity, convbill_run_loads.open_rows
           from convbill_run_loads
           inner join raw_files on convbill_run_loads.load_id = raw_files.load_id
           where convbill_run_loads.run_id > ${from} and convbill_run_loads.run_id <= ${to}
       ),
       refreshes_between as (
           select string_agg('full refresh in run ' || run_id || coalesce(' (' || refresh_reason || ')', ''), '; ' order by run_id) as causes
           from convbill_runs
           where run_id > ${from} and run_id <= ${to} and command = 'build' and status = 'success' and full_refresh
       ),
       files_behind as (
           select changed_counts.org_id, changed_counts.cycle_start, changed_counts.integration_id,
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
           group by all
       )
       select changed_counts.org_id, changed_counts.cycle_id, changed_counts.integration_id, changed_counts.platform,
           changed_counts.before as conversations_before, changed_counts.after as conversations_after,
           changed_counts.after - changed_counts.before as change,
           coalesce(files_behind.files, refreshes_between.causes,
               'no new rows: a later as-of carried open interactions into this cycle') as caused_by
       from changed_counts
       cross join refreshes_between
       left join files_behind
           on changed_counts.org_id = files_behind.org_id
           and changed_counts.cycle_start = files_behind.cycle_start
           and changed_counts.integration_id = files_behind.integration_id
       order by changed_counts.org_id, changed_counts.cycle_start, changed_counts.integration_id`,
    );
    return { from, to, changes: { columns, rows: rows.map((row) => row.map(plainValue)) } };
  } finally {
    warehouse.close();
  }
}
