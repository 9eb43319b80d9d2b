/**
 * `convbill diff`: the counts that differ between two builds, and what
 * caused each change, from the count history the builds recorded
 * (build/restatements.ts). The SQL is the report model sql/reports/rpt_count_diff.sql.
 */
import { join } from 'node:path';
import { Kysely } from 'kysely';
import { ConfigError } from '../engine/errors.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { loadModels, sqlDirectory } from '../project/load-models.js';
import { runModels } from '../project/run-models.js';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database } from '../typed/schema.js';
import type { QueryResult } from './query.js';

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
