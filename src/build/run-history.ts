/**
 * Run history, the write side: `convbill_runs` (one row per command that
 * changed the warehouse), `convbill_run_partitions` (the (org, cycle)
 * partitions each build rewrote and what they count now),
 * `convbill_run_files` and `run_results.json`, a machine-readable account
 * of one run in the spirit of dbt's artifact. `convbill runs` reads them
 * (read/runs.ts).
 *
 * A run's row is written when it starts, in a transaction of its own, so a
 * failed run is recorded. A build's row says "success" only once its facts
 * are published (the published copy's history says so a moment before the
 * copy is renamed into place); a run killed before then stays "running"
 * until the next run, which holds the database's lock and so knows it is
 * dead, marks it "interrupted".
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelTiming } from '../project/run-models.js';
import { createStateTables } from '../project/state-tables.js';
import type { IngestReport } from '../ingest/ingest.js';
import type { Engine } from '../engine/engine.js';
import { runsDirectory } from '../config/warehouse-paths.js';
import { sqlIdentifier } from '../engine/sql-text.js';

export type RunStatus = 'running' | 'success' | 'failed' | 'interrupted';

export async function createRunTables(warehouse: Engine): Promise<void> {
  await createStateTables(warehouse, ['convbill_runs', 'convbill_run_partitions', 'convbill_run_files']);
}

/**
 * What a run did with each file: its FileEvent (loaded, unchanged,
 * reverted, duplicate, restored: see ingest.ts), superseded (the load a
 * path held before), dropped (a path that no longer counts: under no
 * current source, or forgotten) and ignored (a file found under a source
 * whose type convbill does not read).
 */
export async function recordRunFiles(warehouse: Engine, runId: number, report: IngestReport): Promise<void> {
  const rows: { file: string; load: number | null; event: string }[] = [];
  for (const file of report.files) {
    rows.push({ file: file.file, load: file.loadId, event: file.event });
    for (const old of file.supersedes) rows.push({ file: file.file, load: old, event: 'superseded' });
  }
  for (const file of report.dropped) rows.push({ file, load: null, event: 'dropped' });
  for (const file of report.skipped) rows.push({ file, load: null, event: 'ignored' });
  if (rows.length === 0) return;
  await warehouse.run(
    `insert into convbill_run_files
     select $run_id, file, load, event from (select unnest($rows::struct(file varchar, load integer, event varchar)[], recursive := true))`,
    { run_id: runId, rows: JSON.stringify(rows) },
  );
}

export async function startRun(warehouse: Engine, command: string, commandLine: string): Promise<number> {
  await createRunTables(warehouse);
  await warehouse.run(`update convbill_runs set status = 'interrupted' where status = 'running'`);
  const runId = await warehouse.value<number>(`select coalesce(max(run_id), 0) + 1 from convbill_runs`);
  await warehouse.run(
    `insert into convbill_runs (run_id, command, command_line, started_at, status)
     values ($run_id, $command, $command_line, now(), 'running')`,
    { run_id: runId, command, command_line: commandLine },
  );
  return runId;
}

export interface RunOutcome {
  status: Exclude<RunStatus, 'running'>;
  error?: string;
  asOf?: string;
  fullRefresh?: boolean;
  refreshReason?: string;
  filesLoaded?: number;
  rowsStaged?: number;
  durationSeconds: number;
  /** default: now; given when the same outcome is written twice (the published copy's history, then the working one) */
  finishedAt?: string;
  /** the row totals, when no rpt_source_files holds them (a ClickHouse build) */
  rows?: { read: number; accepted: number; rejected: number };
}

/**
 * Closes the run's row; the row totals are read from rpt_source_files as they
 * stand. `catalog` names the database whose copy of the history is closed:
 * the published copy's, written before it is renamed into place.
 */
export async function finishRun(warehouse: Engine, runId: number, outcome: RunOutcome, catalog?: string): Promise<void> {
  const hasReport = await warehouse.value<bigint>(
    `select count(*) from duckdb_tables() where database_name = current_database() and table_name = 'rpt_source_files'`,
  );
  const [totals] = hasReport > 0n && outcome.status === 'success'
    ? await warehouse.rows<{ read: bigint | null; accepted: bigint | null; rejected: bigint | null }>(
        `select sum(rows_read) as read, sum(rows_accepted) as accepted, sum(rows_rejected) as rejected
         from rpt_source_files where superseded_by is null`,
      )
    : outcome.rows
      ? [{ read: BigInt(outcome.rows.read), accepted: BigInt(outcome.rows.accepted), rejected: BigInt(outcome.rows.rejected) }]
      : [];
  const partitions = await warehouse.value<bigint>(`select count(*) from convbill_run_partitions where run_id = $run_id`, {
    run_id: runId,
  });
  await warehouse.run(
    `update ${catalog ? `${sqlIdentifier(catalog)}.` : ''}convbill_runs set
         finished_at = coalesce($finished_at::timestamptz, now()), status = $status, error = $error, as_of = $as_of::timestamptz,
         full_refresh = $full_refresh, refresh_reason = $reason, files_loaded = $files, rows_staged = $staged,
         rows_read = $read, rows_accepted = $accepted, rows_rejected = $rejected,
         partitions_rebuilt = $partitions, duration_seconds = $duration
     where run_id = $run_id`,
    {
      run_id: runId,
      finished_at: outcome.finishedAt ?? null,
      status: outcome.status,
      error: outcome.error ?? null,
      as_of: outcome.asOf ?? null,
      full_refresh: outcome.fullRefresh ?? null,
      reason: outcome.refreshReason ?? null,
      files: outcome.filesLoaded ?? null,
      staged: outcome.rowsStaged ?? null,
      read: totals?.read ?? null,
      accepted: totals?.accepted ?? null,
      rejected: totals?.rejected ?? null,
      partitions: Number(partitions),
      duration: outcome.durationSeconds,
    },
  );
}

/** The partitions this build rewrote and their counts now; inside the build's transaction. */
export async function recordPartitions(warehouse: Engine, runId: number): Promise<void> {
  await warehouse.run(
    `insert into convbill_run_partitions
     select $run_id, int_dirty_cycles.org_id, int_dirty_cycles.cycle_id, int_dirty_cycles.cycle_start,
            int_dirty_cycles.cycle_end, count(fct_conversation_counts.integration_id)::integer,
            coalesce(sum(fct_conversation_counts.conversations), 0),
            int_dirty_cycles.counts_changed,
            case when int_dirty_cycles.settled_rewritten then 'rewritten'
                 when int_dirty_cycles.settled_added then 'added' else 'kept' end
     from int_dirty_cycles
     left join fct_conversation_counts
         on int_dirty_cycles.org_id = fct_conversation_counts.org_id
         and int_dirty_cycles.cycle_start = fct_conversation_counts.cycle_start
     group by all`,
    { run_id: runId },
  );
}


export interface RunResults {
  run_id: number;
  command: string;
  command_line: string;
  status: RunStatus;
  error: string | null;
  started_at: string;
  finished_at: string;
  elapsed_seconds: number;
  as_of: string | null;
  full_refresh: boolean | null;
  refresh_reason: string | null;
  results: {
    unique_id: string;
    status: 'success' | 'error' | 'skipped' | 'pass' | 'fail';
    execution_time: number;
    rows_affected: number | null;
    failures?: number;
  }[];
}

/** Writes the run's artifact atomically (a reader never sees half a file). */
export function writeRunResults(db: string, results: RunResults): string | undefined {
  if (db === ':memory:') return undefined;
  const dir = runsDirectory(db);
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const perRun = join(dir, `run-${String(results.run_id).padStart(6, '0')}.json`);
  writeFileSync(perRun, text);
  const latest = join(dir, 'run_results.json');
  writeFileSync(`${latest}.tmp`, text);
  renameSync(`${latest}.tmp`, latest);
  return latest;
}

export function modelResults(timings: ModelTiming[]): RunResults['results'] {
  return timings
    .filter((timing) => timing.status !== undefined)
    .map((timing) => ({
      unique_id: timing.name.startsWith('audit ') ? `test.convbill.${timing.name.slice(6)}` : `model.convbill.${timing.name}`,
      status: timing.status as RunResults['results'][number]['status'],
      execution_time: timing.seconds,
      rows_affected: timing.rows ?? null,
    }));
}
