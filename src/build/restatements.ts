/**
 * Restatements: what each build changed in the published counts, and why.
 *
 * `convbill_count_changes` holds, per build, every (org, cycle, integration)
 * whose count it changed, before and after. Storing changes rather than
 * every count of every build keeps the table small (most nights change the
 * current cycle only) and still gives the counts as they stood after any
 * build: the latest change at or before it. `convbill_run_loads` keeps, per
 * incremental build, which loaded files brought rows for which (org,
 * integration) and over which stretch of time, so `convbill diff`
 * (read/diff.ts) can name the files behind a change. A full refresh
 * records its reason instead: it re-reads every file.
 */
import { namedQuery } from '../project/named-queries.js';
import { createStateTables } from '../project/state-tables.js';
import type { Engine } from '../engine/engine.js';

export async function createRestatementTables(warehouse: Engine): Promise<void> {
  await createStateTables(warehouse, ['convbill_count_changes', 'convbill_run_loads']);
}

/** Inside the build's transaction, after the marts: see sql/queries/count_changes.sql. */
export async function recordCountChanges(warehouse: Engine, runId: number, fullRefresh: boolean): Promise<void> {
  await createRestatementTables(warehouse);
  await warehouse.run(namedQuery('count_changes'), { run_id: runId, full_refresh: fullRefresh });
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
