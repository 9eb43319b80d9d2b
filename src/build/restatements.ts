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
import { ConfigError } from '../engine/errors.js';
import { join } from 'node:path';
import { Kysely } from 'kysely';
import type { QueryResult } from '../read/query.js';
import { DuckDBDialect } from '../typed/dialect.js';
import { loadModels, runModels, sqlDirectory } from '../project/models.js';
import type { Database } from '../typed/schema.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';

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

/** One changed count of rpt_count_diff. */
export interface CountChange {
  org_id: string;
  cycle_id: string;
  cycle_start: string;
  integration_id: string;
  platform: string | null;
  conversations_before: number;
  conversations_after: number;
  change: number;
  caused_by: string;
}

const DIFF_COLUMNS = ['org_id', 'cycle_id', 'integration_id', 'platform', 'conversations_before', 'conversations_after', 'change', 'caused_by'] as const;

/** The changes as columns and rows, for `convbill diff`'s table, CSV and JSON. */
export function diffTable(diff: Diff): QueryResult {
  return { columns: [...DIFF_COLUMNS], rows: diff.changes.map((change) => DIFF_COLUMNS.map((column) => change[column])) };
}

export interface Diff {
  from: number;
  to: number;
  changes: Omit<CountChange, 'cycle_start'>[];
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
    await warehouse.run(`create or replace temp table cfg_diff as select $from::integer as from_run, $to::integer as to_run`, { from, to });
    await runModels(warehouse, { fullRefresh: false }, loadModels(join(sqlDirectory(), 'reports')));
    const db = new Kysely<Database & { rpt_count_diff: CountChange }>({ dialect: new DuckDBDialect({ connection: warehouse }) });
    const changes = await db.selectFrom('rpt_count_diff').selectAll().orderBy('org_id').orderBy('cycle_start').orderBy('integration_id').execute();
    return { from, to, changes: changes.map(({ cycle_start: _, ...change }) => change) };
  } finally {
    warehouse.close();
  }
}
