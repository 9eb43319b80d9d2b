/**
 * Run history: `convbill_runs` (one row per command that changed the
 * warehouse), `convbill_run_partitions` (the (org, cycle) partitions each
 * build rewrote and what they count now) and `run_results.json`, a
 * machine-readable account of one run in the spirit of dbt's artifact.
 *
 * A run's row is written when it starts, in a transaction of its own, so a
 * failed run is recorded; a run killed outside any transaction stays
 * "running" until the next run, which holds the database's lock and so knows
 * it is dead, marks it "interrupted".
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ConvbillError, RunError, engineMessage } from '../engine/errors.js';
import type { ModelTiming } from '../project/models.js';
import type { QueryResult } from '../read/query.js';
import { openWarehouse } from '../typed/open-warehouse.js';
import type { IngestReport } from '../ingest/ingest.js';
import type { Engine } from '../engine/engine.js';
import { publishedPathOf, runsDirectory } from '../config/warehouse-paths.js';

export type RunStatus = 'running' | 'success' | 'failed' | 'interrupted';

export async function createRunTables(warehouse: Engine): Promise<void> {
  await warehouse.run(`
    create table if not exists convbill_runs (
        run_id integer primary key,
        command varchar not null,
        command_line varchar not null,
        started_at timestamptz not null,
        finished_at timestamptz,
        as_of timestamptz,
        status varchar not null,
        error varchar,
        full_refresh boolean,
        refresh_reason varchar,
        files_loaded integer,
        rows_staged bigint,
        rows_read bigint,
        rows_accepted bigint,
        rows_rejected bigint,
        partitions_rebuilt integer,
        duration_seconds double
    )`);
  await warehouse.run(`
    create table if not exists convbill_run_partitions (
        run_id integer not null,
        org_id varchar not null,
        cycle_id varchar not null,
        cycle_start timestamptz not null,
        cycle_end timestamptz,
        integrations integer not null,
        conversations bigint not null
    )`);
  await warehouse.run(`
    create table if not exists convbill_run_files (
        run_id integer not null,
        source_file varchar not null,
        load_id integer,
        event varchar not null
    )`);
}

/**
 * What a run did with each file: loaded (new content), unchanged (content
 * already loaded from that path), repointed (the path now holds content
 * the warehouse already had: a version put back, or the same bytes at
 * another path), superseded (the load a path held before), dropped (a path
 * that no longer counts: under no current source, or forgotten).
 */
export async function recordRunFiles(warehouse: Engine, runId: number, report: IngestReport): Promise<void> {
  const rows: { file: string; load: number | null; event: string }[] = [];
  for (const file of report.files) {
    const event = file.status === 'loaded' ? 'loaded' : file.supersedes.length > 0 ? 'repointed' : 'unchanged';
    rows.push({ file: file.file, load: file.loadId, event });
    for (const old of file.supersedes) rows.push({ file: file.file, load: old, event: 'superseded' });
  }
  for (const file of report.dropped) rows.push({ file, load: null, event: 'dropped' });
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
}

/** Closes the run's row; the row totals are read from rpt_source_files as they stand. */
export async function finishRun(warehouse: Engine, runId: number, outcome: RunOutcome): Promise<void> {
  const hasReport = await warehouse.value<bigint>(
    `select count(*) from duckdb_tables() where database_name = current_database() and table_name = 'rpt_source_files'`,
  );
  const [totals] = hasReport > 0n && outcome.status === 'success'
    ? await warehouse.rows<{ read: bigint | null; accepted: bigint | null; rejected: bigint | null }>(
        `select sum(rows_read) as read, sum(rows_accepted) as accepted, sum(rows_rejected) as rejected
         from rpt_source_files where superseded_by is null`,
      )
    : [];
  const partitions = await warehouse.value<bigint>(`select count(*) from convbill_run_partitions where run_id = $run_id`, {
    run_id: runId,
  });
  await warehouse.run(
    `update convbill_runs set
         finished_at = now(), status = $status, error = $error, as_of = $as_of::timestamptz,
         full_refresh = $full_refresh, refresh_reason = $reason, files_loaded = $files, rows_staged = $staged,
         rows_read = $read, rows_accepted = $accepted, rows_rejected = $rejected,
         partitions_rebuilt = $partitions, duration_seconds = $duration
     where run_id = $run_id`,
    {
      run_id: runId,
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
            coalesce(sum(fct_conversation_counts.conversations), 0)
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

/** Recent runs, newest first: from the working database, or from the published copy while a build holds it. */
export async function listRuns(options: { db: string; publishedDb?: string }, limit: number): Promise<QueryResult> {
  try {
    return await recentRuns(options.db, limit);
  } catch (error) {
    const published = options.publishedDb ?? publishedPathOf(options.db);
    if (!(error instanceof RunError) || !/is locked/.test(error.message) || !existsSync(published)) throw error;
    // a build holds the working file: the published copy has every run up to the last published one
    return recentRuns(published, limit);
  }
}

const RUN_COLUMNS = [
  'run_id', 'command', 'status', 'started_at', 'seconds', 'as_of', 'build',
  'rows_staged', 'rows_read', 'rows_accepted', 'rows_rejected', 'partitions_rebuilt', 'error',
] as const;

async function recentRuns(path: string, limit: number): Promise<QueryResult> {
  const db = openWarehouse(path);
  try {
    const runs = await db
      .selectFrom('convbill_runs')
      .select(({ case: when, fn, lit, not, ref }) => [
        'run_id', 'command', 'status', 'started_at',
        fn<number | null>('round', ['duration_seconds', lit(1)]).as('seconds'),
        'as_of',
        when().when(ref('full_refresh')).then(sql.lit('full')).when(not(ref('full_refresh'))).then(sql.lit('incremental')).end().as('build'),
        'rows_staged', 'rows_read', 'rows_accepted', 'rows_rejected', 'partitions_rebuilt', 'error',
      ])
      .orderBy('run_id', 'desc')
      .limit(limit)
      .execute()
      .catch((error: unknown) => {
        if (error instanceof ConvbillError) throw error;
        throw new RunError(`Query failed: ${engineMessage(error)}.`, { cause: error });
      });
    return { columns: [...RUN_COLUMNS], rows: runs.map((run) => RUN_COLUMNS.map((column) => run[column])) };
  } finally {
    await db.destroy();
  }
}
