/**
 * `build`: load new input, plan the build (incremental or full refresh), run
 * the SQL models and the audits in one transaction, then publish: the Parquet
 * exports and the read-only copy, each swapped in by a rename. A run that
 * fails, or is killed, at any point before a swap leaves the previous facts,
 * exports and copy as they were.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type BuildOptions, DEFAULT_VALID_FROM } from '../config/build-options.js';
import { loadCycleConfig } from '../reference/cycles.js';
import { ConfigError, RunError } from '../engine/errors.js';
import { exportParquet, pruneExportVersions } from './parquet-exports.js';
import { type BuildPlan, createStateTable, planBuild, saveState } from './plan.js';
import { type IngestReport, ingest } from '../ingest/ingest.js';
import { checkSources } from '../ingest/sources.js';
import { loadIntegrations } from '../reference/integrations.js';
import { RunLog } from '../engine/log.js';
import { type AuditResult, ModelError, type ModelTiming, installMacros, runAudits, runModels } from '../project/models.js';
import { publish } from './publish.js';
import { loadPrices } from '../reference/prices.js';
import { recordCountChanges } from './restatements.js';
import { createRawLayer, createScopeView } from '../ingest/raw-layer.js';
import { type RunResults, finishRun, modelResults, recordPartitions, recordRunFiles, startRun, writeRunResults } from './run-history.js';
import { type BuildSummary, readSummary } from './summary.js';
import { isoFromMicros } from '../engine/duckdb/values.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { publishedPathOf, rawStoreOf, runsDirectory, spillDirectoryOf } from '../config/warehouse-paths.js';

export interface BuildResult {
  db: string;
  publishedDb: string;
  parquetDir: string;
  asOf: string;
  runId: number;
  plan: { fullRefresh: boolean; reason: string; loadsStaged: number; rowsStaged: number; partitionsRebuilt: number };
  ingest: IngestReport;
  /** seconds per phase (ingest, models, audits, export, summary) and per model */
  timings: ModelTiming[];
  summary: BuildSummary;
  runResults?: string;
}

/** Opens the working database with the session settings a build needs. */
export async function openWorking(options: Pick<BuildOptions, 'db' | 'threads' | 'memoryLimit'>): Promise<Warehouse> {
  if (options.db !== ':memory:') mkdirSync(dirname(options.db), { recursive: true });
  const warehouse = await Warehouse.open(options.db, {
    threads: options.threads,
    memoryLimit: options.memoryLimit,
    tempDirectory: spillDirectoryOf(options.db),
  });
  await installMacros(warehouse);
  await createRawLayer(warehouse);
  await createStateTable(warehouse);
  return warehouse;
}

/** What only the engine can check of the sources, on a scratch database: a bad config writes nothing. */
export async function checkConfiguration(options: Pick<BuildOptions, 'sources' | 'inputDefaults'>): Promise<void> {
  const scratch = await Warehouse.open(':memory:');
  try {
    const defaults = options.inputDefaults ? [{ ...options.inputDefaults, path: '', key: options.inputDefaults.key ?? '' }] : [];
    await checkSources(scratch, [...options.sources, ...defaults]);
  } finally {
    scratch.close();
  }
}

export async function build(options: BuildOptions, log: RunLog = RunLog.silent()): Promise<BuildResult> {
  const buildStarted = performance.now();
  const publishedDb = options.publishedDb ?? publishedPathOf(options.db);
  await checkConfiguration(options);
  const warehouse = await openWorking(options);
  const timings: ModelTiming[] = [];
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    log.setStep(name.replace(/^phase: /, ''));
    const result = await work();
    timings.push({ name, seconds: (performance.now() - started) / 1000 });
    return result;
  };
  log.startProgress(() => warehouse.progress());
  let runId: number | undefined;
  let planned: BuildPlan | undefined;
  let asOf: string | undefined;
  let report: IngestReport | undefined;
  const startedAt = new Date().toISOString();
  try {
    runId = await startRun(warehouse, 'build', options.commandLine ?? 'build');
    log.event('run_started', { run_id: runId, command: 'build', db: options.db });
    asOf = await resolveAsOf(warehouse, options.asOf);
    timings.push({ name: 'phase: setup', seconds: (performance.now() - buildStarted) / 1000 });
    report = await timed('phase: ingest', () => ingest(warehouse, options, rawStoreOf(options.db)));
    const ingested = report;
    for (const file of report.files) log.event('file', { file: file.file, status: file.status, load_id: file.loadId, rows: file.rows });
    for (const warning of report.warnings) log.warn(warning);
    for (const file of report.dropped) log.event('file', { file, status: 'dropped' });
    if (report.current.length === 0 && options.sources.length === 0) {
      throw new ConfigError('No input: pass --input PATH or list "sources" in convbill.json.');
    }
    await recordRunFiles(warehouse, runId, ingested);
    // Past ingest (whose CSV row numbers rely on it), nothing needs row order;
    // letting DuckDB drop it saves memory and time in models and exports.
    await warehouse.run('set preserve_insertion_order = false');
    const previousRunId = await warehouse.value<number | null>(`select max(run_id) from convbill_state`);
    const run = { runId, asOf };
    planned = await timed('phase: models, audits and commit', async () => {
      const firstAttempt = timings.length;
      try {
        return await modelsInTransaction(warehouse, options, run, false, timings, log);
      } catch (error) {
        // An incremental build that met a row no stored table holds (a late
        // row turning a billable interaction into a conflict) starts over;
        // the run's results are those of the attempt that counts.
        if (!(error instanceof NeedsFullRefresh)) throw error;
        log.event('full_refresh', { run_id: runId, reason: error.message });
        timings.splice(firstAttempt);
        return modelsInTransaction(warehouse, options, run, true, timings, log, error.message);
      }
    });
    const plan = planned;
    const exportFrom = plan.fullRefresh ? null : previousRunId;
    const exported = await timed('phase: parquet export', () =>
      exportParquet(warehouse, options.parquetDir, { runId: run.runId, previousRunId: exportFrom, asOf: run.asOf }),
    );
    const summary = await timed('phase: summary', () => readSummary(warehouse));
    const rowsStaged = Number(
      await warehouse.value<bigint>(`select coalesce(sum(rows_staged), 0) from int_load_stats semi join cfg_scope_loads using (load_id)`),
    );
    await finishRun(warehouse, runId, {
      status: 'success',
      asOf,
      fullRefresh: plan.fullRefresh,
      refreshReason: plan.reason,
      filesLoaded: report.files.filter((file) => file.status === 'loaded').length,
      rowsStaged,
      durationSeconds: (performance.now() - buildStarted) / 1000,
    });
    if (options.db !== ':memory:') await timed('phase: publish', () => publish(warehouse, publishedDb, run.runId, exported.version));
    pruneExportVersions(exported);
    // Closing checkpoints the database file: part of the build's cost.
    await timed('phase: checkpoint', () => warehouse.run('checkpoint'));
    const partitionsRebuilt = Number(
      await warehouse.value<bigint>(`select count(*) from convbill_run_partitions where run_id = $run_id`, { run_id: runId }),
    );
    const runResults = writeRunResults(options.db, resultsOf(runId, options, startedAt, buildStarted, 'success', null, asOf, plan, timings));
    log.event('run_finished', {
      run_id: runId,
      status: 'success',
      full_refresh: plan.fullRefresh,
      refresh_reason: plan.reason,
      partitions_rebuilt: partitionsRebuilt,
      seconds: (performance.now() - buildStarted) / 1000,
    });
    return {
      db: options.db,
      publishedDb,
      parquetDir: exported.link,
      asOf,
      runId,
      plan: {
        fullRefresh: plan.fullRefresh,
        reason: plan.reason,
        loadsStaged: plan.scopeLoads.length,
        rowsStaged,
        partitionsRebuilt,
      },
      ingest: report,
      timings,
      summary,
      runResults,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof ModelError) timings.push(...error.timings);
    if (runId !== undefined) {
      await finishRun(warehouse, runId, { status: 'failed', error: message, asOf, durationSeconds: (performance.now() - buildStarted) / 1000 }).catch(
        () => undefined,
      );
      writeRunResults(options.db, resultsOf(runId, options, startedAt, buildStarted, 'failed', message, asOf ?? null, planned, timings));
    }
    log.event('run_finished', { run_id: runId, status: 'failed', error: message });
    throw error;
  } finally {
    log.stopProgress();
    warehouse.close();
  }
}

class NeedsFullRefresh extends Error {}

async function modelsInTransaction(
  warehouse: Warehouse,
  options: BuildOptions,
  run: { runId: number; asOf: string },
  forceFullRefresh: boolean,
  timings: ModelTiming[],
  log: RunLog,
  forcedReason?: string,
): Promise<BuildPlan> {
  return warehouse.transaction(async () => {
    const started = performance.now();
    await loadCycleConfig(warehouse, options.cycles);
    await loadIntegrations(warehouse, options.integrations);
    await loadPrices(warehouse, options.priceBook, options.prices);
    const validFrom = options.validFrom ?? DEFAULT_VALID_FROM;
    const plan = await planBuild(warehouse, {
      asOf: run.asOf,
      forceFullRefresh: forceFullRefresh || Boolean(options.fullRefresh),
      cycles: options.cycles,
      validFrom,
    });
    if (forcedReason) plan.reason = forcedReason;
    log.event('plan', { run_id: run.runId, full_refresh: plan.fullRefresh, reason: plan.reason, loads: plan.scopeLoads.length });
    await createScopeView(warehouse, rawStoreOf(options.db), plan.scopeLoads);
    await warehouse.run(
      `create or replace table cfg_run as
       select $as_of::timestamptz as as_of,
              make_timestamp($previous::bigint)::timestamptz as previous_as_of,
              $valid_from::timestamptz as valid_from,
              $full_refresh::boolean as full_refresh,
              $anchor::integer as default_anchor_day, $tz::varchar as default_timezone, now() as built_at`,
      {
        as_of: run.asOf,
        valid_from: validFrom,
        previous: plan.previousAsOf,
        full_refresh: plan.fullRefresh,
        anchor: options.cycles.defaultRule.anchorDay,
        tz: options.cycles.defaultRule.timezone,
      },
    );
    timings.push({ name: 'phase: configuration', seconds: (performance.now() - started) / 1000 });
    const modelsStarted = performance.now();
    if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
    const modelTimings = await runModels(warehouse, {
      fullRefresh: plan.fullRefresh,
      onModel: (name) => log.setStep(`model ${name}`),
      profileDir: options.profileDir,
    });
    for (const timing of modelTimings) log.event('model', { run_id: run.runId, model: timing.name, seconds: timing.seconds, rows: timing.rows ?? null });
    timings.push({ name: 'phase: models', seconds: (performance.now() - modelsStarted) / 1000 }, ...modelTimings);
    const auditsStarted = performance.now();
    log.setStep('audits');
    await warehouse.run(`create or replace temp view audit_cycles as select org_id, cycle_start from int_dirty_cycles`);
    // A full refresh writes keys unique by construction: see the grain audit's header.
    await warehouse.run(
      `create or replace temp view audit_conversations as
       select org_id, cycle_start, integration_id, customer_account_id from int_written_conversations
       ${plan.fullRefresh ? 'where false' : ''}`,
    );
    const audits = await runAudits(warehouse);
    for (const audit of audits) log.event('audit', { run_id: run.runId, audit: audit.name, passed: audit.passed, seconds: audit.seconds });
    timings.push(...audits.map((audit) => ({ name: `audit ${audit.name}`, seconds: audit.seconds, status: audit.passed ? 'pass' : 'fail' } as const)));
    const failures = audits.filter((audit) => !audit.passed);
    timings.push({ name: 'phase: audits', seconds: (performance.now() - auditsStarted) / 1000 });
    if (!plan.fullRefresh && failures.length === 1 && failures[0]?.name === 'audit_rejected_rows_complete') {
      throw new NeedsFullRefresh('a late row made an interaction of earlier loads a conflict, whose rows only a full refresh rereads');
    }
    assertAudits(failures);
    await assertRejectRate(warehouse, options, run.runId);
    await recordPartitions(warehouse, run.runId);
    await recordCountChanges(warehouse, run.runId, plan.fullRefresh);
    await saveState(warehouse, run.runId, plan, run.asOf);
    return plan;
  });
}

/** --as-of as an ISO-8601 UTC string; read like an input timestamp in UTC. */
async function resolveAsOf(warehouse: Warehouse, asOf: string | undefined): Promise<string> {
  if (asOf === undefined) return new Date().toISOString();
  const parsed = await warehouse.value<bigint | null>(
    `select epoch_us(parse_instant_or_date(clean_text($value), 'UTC'))`,
    { value: asOf },
  );
  if (parsed === null || parsed === undefined) throw new ConfigError(`--as-of "${asOf}" is not an ISO-8601 instant, date or epoch-milliseconds integer.`);
  return isoFromMicros(parsed, 'Z');
}

/** A failing audit fails the run before anything is committed or published. */
export function assertAudits(failures: AuditResult[]): void {
  const [failure] = failures;
  if (failure) {
    const first = JSON.stringify(failure.rows[0], (_, value) => (typeof value === 'bigint' ? Number(value) : value));
    const others = failures.length > 1 ? ` (and ${failures.length - 1} other audit(s): ${failures.slice(1).map((f) => f.name).join(', ')})` : '';
    throw new RunError(`Audit ${failure.name} failed (${failure.file}); first offending row: ${first}${others}.`);
  }
}

/**
 * --max-reject-rate: the share of this build's rows that may be rejected.
 * A build stopped by it publishes nothing, but leaves its rejects beside
 * the run history for the user to inspect.
 */
async function assertRejectRate(warehouse: Warehouse, options: BuildOptions, runId: number): Promise<void> {
  const maxRate = options.maxRejectRate;
  if (maxRate === undefined) return;
  const [counts] = await warehouse.rows<{ staged: bigint; rejected: bigint }>(
    `select (select count(*) from stg_rows) + (select count(*) from stg_malformed_rows) as staged,
            (select count(*) from rejected_interactions semi join cfg_scope_loads using (load_id)) as rejected`,
  );
  const staged = Number(counts?.staged ?? 0n);
  const rejected = Number(counts?.rejected ?? 0n);
  if (staged > 0 && rejected / staged > maxRate) {
    let evidence = 'an in-memory database keeps no evidence';
    if (options.db !== ':memory:') {
      const dir = runsDirectory(options.db);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `run-${String(runId).padStart(6, '0')}-rejects.parquet`);
      await warehouse.copy(
        `select source_file, source_row, reason, raw from rejected_interactions semi join cfg_scope_loads using (load_id)
         order by source_file, source_row`,
        file,
        'parquet',
      );
      evidence = `its rejects are in ${file}`;
    }
    throw new RunError(
      `${rejected} of the ${staged} rows this build read were rejected (${((100 * rejected) / staged).toFixed(2)}%), ` +
        `more than --max-reject-rate ${maxRate}; nothing was published, and ${evidence}.`,
    );
  }
}

function resultsOf(
  runId: number,
  options: BuildOptions,
  startedAt: string,
  started: number,
  status: 'success' | 'failed',
  error: string | null,
  asOf: string | null,
  plan: BuildPlan | undefined,
  timings: ModelTiming[],
): RunResults {
  return {
    run_id: runId,
    command: 'build',
    command_line: options.commandLine ?? 'build',
    status,
    error,
    started_at: startedAt,
    finished_at: new Date().toISOString(),
    elapsed_seconds: (performance.now() - started) / 1000,
    as_of: asOf,
    full_refresh: plan?.fullRefresh ?? null,
    refresh_reason: plan?.reason ?? null,
    results: modelResults(timings),
  };
}
