/**
 * `build`: load new input, plan the build (incremental or full refresh), run
 * the SQL models and the audits in one transaction, then publish: the Parquet
 * export and the read-only copy are written beside the old ones and swapped
 * in by two renames, back to back. A run that fails, or is killed, at any
 * point before them leaves the previous exports and copy as they were (and,
 * before the commit, the previous facts).
 */
import { existsSync, mkdirSync, readlinkSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type BuildOptions, DEFAULT_VALID_FROM } from '../config/build-options.js';
import { loadCycleConfig } from '../reference/cycles.js';
import { ConfigError } from '../engine/errors.js';
import { assertAudits, assertRejectRate } from './commit-checks.js';
import { exportHoldsRun, exportParquet, listSettledRewrites, pruneExportVersions, removeDeadSwaps, swapExportLink } from './parquet-exports.js';
import { type BuildPlan, createStateTable, planBuild, saveState } from './plan.js';
import { type IngestReport, ingest } from '../ingest/ingest.js';
import { checkSources } from '../ingest/sources.js';
import { loadIntegrations } from '../reference/integrations.js';
import { RunLog } from '../engine/log.js';
import { runAudits } from '../project/audits.js';
import { ModelError, type ModelTiming, installMacros, runModels } from '../project/run-models.js';
import { loadAudits, loadModels, sqlDirectory } from '../project/load-models.js';
import { publish } from './publish.js';
import { buildOnClickHouse } from './clickhouse/build.js';
import { loadPrices } from '../reference/prices.js';
import { recordCountChanges } from './restatements.js';
import { createRawLayer, createScopeView } from '../ingest/raw-layer.js';
import { resolveAsOf, writeRunSettings } from './run-settings.js';
import { type RunOutcome, type RunResults, finishRun, modelResults, recordPartitions, recordRunFiles, startRun, writeRunResults } from './run-history.js';
import { type BuildSummary, readSummary } from './summary.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { publishedPathOf, rawStoreOf, spillDirectoryOf } from '../config/warehouse-paths.js';

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
    // the defaults first: a source that inherits a bad source_timezone is blamed on that key
    await checkSources(scratch, [...defaults, ...options.sources]);
  } finally {
    scratch.close();
  }
}

export async function build(options: BuildOptions, log: RunLog = RunLog.silent()): Promise<BuildResult> {
  if (options.engine === 'clickhouse') return buildOnClickHouse(options, log);
  const buildStarted = performance.now();
  const publishedDb = options.publishedDb ?? publishedPathOf(options.db);
  await checkConfiguration(options);
  const warehouse = await openWorking(options);
  const timings: ModelTiming[] = [];
  let runId: number | undefined;
  // a phase that is a step has a line of its own; the one holding the models and audits does not
  const timed = async <T>(name: string, work: () => Promise<T>, asStep = true): Promise<T> => {
    const started = performance.now();
    const phase = name.replace(/^phase: /, '');
    log.event('phase', { run_id: runId, phase });
    const result = asStep ? await log.step(phase, work, { run_id: runId }) : await work();
    timings.push({ name, seconds: (performance.now() - started) / 1000 });
    return result;
  };
  log.startProgress(() => warehouse.progress());
  let status: 'success' | 'failed' = 'failed';
  let planned: BuildPlan | undefined;
  let asOf: string | undefined;
  let report: IngestReport | undefined;
  const startedAt = new Date().toISOString();
  try {
    runId = await startRun(warehouse, 'build', options.commandLine ?? 'build');
    log.event('run_started', { run_id: runId, command: 'build', db: options.db });
    asOf = await resolveAsOf(warehouse, options.asOf);
    timings.push({ name: 'phase: setup', seconds: (performance.now() - buildStarted) / 1000 });
    report = await timed('phase: ingest', () =>
      ingest(warehouse, options, rawStoreOf(options.db), (file) =>
        log.event('file', { file: file.file, status: file.status, load_id: file.loadId, rows: file.rows, read: file.read }),
      ),
    );
    const ingested = report;
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
    // with the facts unchanged, a build that finds the outputs in place has nothing to write
    const outputsInPlace = options.db !== ':memory:' && existsSync(publishedDb) && exportHoldsRun(options.parquetDir, previousRunId);
    planned = await timed('phase: models, audits and commit', async () => {
      const firstAttempt = timings.length;
      try {
        return await modelsInTransaction(warehouse, options, run, false, timings, log, undefined, outputsInPlace);
      } catch (error) {
        // An incremental build that met a row no stored table holds (a late
        // row turning a billable interaction into a conflict) starts over;
        // the run's results are those of the attempt that counts.
        if (!(error instanceof NeedsFullRefresh)) throw error;
        log.event('full_refresh', { run_id: runId, reason: error.message });
        timings.splice(firstAttempt);
        return modelsInTransaction(warehouse, options, run, true, timings, log, error.message);
      }
    }, false);
    const plan = planned;
    if (plan.upToDate) {
      const result = await upToDate(warehouse, options, { runId, asOf, buildStarted, startedAt, plan, report, timings, log });
      status = 'success';
      return result;
    }
    const exportFrom = plan.fullRefresh ? null : previousRunId;
    const exported = await timed('phase: parquet export', () =>
      exportParquet(warehouse, options.parquetDir, { runId: run.runId, previousRunId: exportFrom, asOf: run.asOf }),
    );
    const summary = await timed('phase: summary', () => readSummary(warehouse));
    const rowsStaged = Number(
      await warehouse.value<bigint>(`select coalesce(sum(rows_staged), 0) from int_load_stats semi join cfg_scope_loads using (load_id)`),
    );
    const outcome: RunOutcome = {
      status: 'success',
      asOf,
      fullRefresh: plan.fullRefresh,
      refreshReason: plan.reason,
      filesLoaded: report.files.filter((file) => file.status === 'loaded').length,
      rowsStaged,
      durationSeconds: (performance.now() - buildStarted) / 1000,
      finishedAt: new Date().toISOString(),
    };
    const closeRun = (catalog?: string) => finishRun(warehouse, run.runId, outcome, catalog);
    if (options.db !== ':memory:') {
      await timed('phase: publish', () => publish(warehouse, publishedDb, { runId: run.runId, exportVersion: exported.version, closeRun }));
    }
    // Readers see the build from the copy's rename, at the end of publish,
    // and this swap: two renames cannot be one, but nothing runs between
    // them and each shows a whole build. Until the working history says
    // success, a killed build is "interrupted" to the next one.
    swapExportLink(exported);
    await closeRun();
    log.event('published', { run_id: runId, export_version: exported.version });
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
    status = 'success';
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
    log.stopProgress(status);
    warehouse.close();
  }
}

class NeedsFullRefresh extends Error {}

/**
 * The end of a build that found nothing new: the facts and the exports are
 * those of the last build, which this one would write again unchanged. The
 * run is recorded, said to be up to date, and published with its history
 * over the export version the last build wrote.
 */
async function upToDate(
  warehouse: Warehouse,
  options: BuildOptions,
  run: {
    runId: number; asOf: string; buildStarted: number; startedAt: string; plan: BuildPlan; report: IngestReport; timings: ModelTiming[]; log: RunLog;
  },
): Promise<BuildResult> {
  const { runId, asOf, plan, timings, log } = run;
  const summary = await log.step('summary', () => readSummary(warehouse), { run_id: runId });
  const outcome: RunOutcome = {
    status: 'success',
    asOf,
    fullRefresh: false,
    refreshReason: plan.reason,
    filesLoaded: 0,
    rowsStaged: 0,
    durationSeconds: (performance.now() - run.buildStarted) / 1000,
    finishedAt: new Date().toISOString(),
  };
  const closeRun = (catalog?: string) => finishRun(warehouse, runId, outcome, catalog);
  // published again over the same export version, so that readers' run history shows this run too
  const publishedDb = options.publishedDb ?? publishedPathOf(options.db);
  const link = resolve(options.parquetDir);
  const exportVersion = resolve(dirname(link), readlinkSync(link));
  const started = performance.now();
  removeDeadSwaps(options.parquetDir);
  await log.step('publish', () => publish(warehouse, publishedDb, { runId, exportVersion, closeRun }), { run_id: runId });
  timings.push({ name: 'phase: publish', seconds: (performance.now() - started) / 1000 });
  await closeRun();
  const runResults = writeRunResults(options.db, resultsOf(runId, options, run.startedAt, run.buildStarted, 'success', null, asOf, plan, timings));
  log.event('run_finished', {
    run_id: runId, status: 'success', full_refresh: false, refresh_reason: plan.reason, partitions_rebuilt: 0,
    seconds: (performance.now() - run.buildStarted) / 1000,
  });
  return {
    db: options.db,
    publishedDb,
    parquetDir: resolve(options.parquetDir),
    asOf,
    runId,
    plan: { fullRefresh: false, reason: plan.reason, loadsStaged: 0, rowsStaged: 0, partitionsRebuilt: 0 },
    ingest: run.report,
    timings,
    summary,
    runResults,
  };
}

async function modelsInTransaction(
  warehouse: Warehouse,
  options: BuildOptions,
  run: { runId: number; asOf: string },
  forceFullRefresh: boolean,
  timings: ModelTiming[],
  log: RunLog,
  forcedReason?: string,
  outputsInPlace = false,
): Promise<BuildPlan> {
  const phase = (name: string) => {
    log.setStep(name);
    log.event('phase', { run_id: run.runId, phase: name });
  };
  return warehouse.transaction(async () => {
    const started = performance.now();
    // the configuration phase ends with the plan, which is what its line names
    log.event('phase', { run_id: run.runId, phase: 'configuration' });
    log.planSteps(undefined);
    log.setStep('plan');
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
    plan.upToDate &&= outputsInPlace;
    if (plan.upToDate) plan.reason = `up to date: no new file, and the as-of and references of run ${plan.previousRunId}`;
    const models = loadModels();
    const steps = plan.upToDate ? UP_TO_DATE_STEPS : stepsOf(options, models.length, loadAudits().length);
    log.stepFinished('plan', 'OK', (performance.now() - started) / 1000, {
      name: 'plan',
      fields: { run_id: run.runId, full_refresh: plan.fullRefresh, reason: plan.reason, loads: plan.scopeLoads.length, steps },
      note: planNote(plan, steps),
    });
    log.planSteps(steps);
    // the stored state stays the last build's: its exports are the ones the next build reuses
    if (plan.upToDate) return plan;
    await createScopeView(warehouse, rawStoreOf(options.db), plan.scopeLoads);
    await listSettledRewrites(warehouse, options.parquetDir, plan.previousRunId);
    await writeRunSettings(warehouse, { asOf: run.asOf, validFrom, plan, defaultRule: options.cycles.defaultRule });
    timings.push({ name: 'phase: configuration', seconds: (performance.now() - started) / 1000 });
    const modelsStarted = performance.now();
    if (options.profileDir) mkdirSync(options.profileDir, { recursive: true });
    phase('models');
    const modelTimings = await runModels(warehouse, {
      fullRefresh: plan.fullRefresh,
      onModel: (name) => log.stepStarted(name),
      onModelDone: (timing) =>
        log.stepFinished(timing.name, timing.status === 'error' ? 'ERROR' : 'OK', timing.seconds, {
          name: 'model',
          fields: { run_id: run.runId, model: timing.name, seconds: timing.seconds, rows: timing.rows ?? null, status: timing.status },
        }),
      profileDir: options.profileDir,
    }, models);
    timings.push({ name: 'phase: models', seconds: (performance.now() - modelsStarted) / 1000 }, ...modelTimings);
    const auditsStarted = performance.now();
    phase('audits');
    await warehouse.run(`create or replace temp view audit_cycles as select org_id, cycle_start from int_dirty_cycles`);
    // A full refresh writes keys unique by construction: see the grain audit's header.
    await warehouse.run(
      `create or replace temp view audit_conversations as
       select org_id, cycle_start, integration_id, customer_account_id from int_written_conversations
       ${plan.fullRefresh ? 'where false' : ''}`,
    );
    // what an incremental build wrote is all a key of it can repeat in: see the grain audit's header
    await warehouse.run(
      `create or replace temp view audit_stored_conversations as
       select integration_sk, cycle_seq, customer_account_id from int_conversations_delta`,
    );
    const audits = await runAudits(warehouse, sqlDirectory(), {
      onAudit: (name) => log.stepStarted(name),
      onAuditDone: (audit) =>
        log.stepFinished(audit.name, audit.passed ? 'PASS' : 'FAIL', audit.seconds, {
          name: 'audit',
          fields: { run_id: run.runId, audit: audit.name, passed: audit.passed, seconds: audit.seconds },
        }),
    });
    timings.push(...audits.map((audit) => ({ name: `audit ${audit.name}`, seconds: audit.seconds, status: audit.passed ? 'pass' : 'fail' } as const)));
    const failures = audits.filter((audit) => !audit.passed);
    timings.push({ name: 'phase: audits', seconds: (performance.now() - auditsStarted) / 1000 });
    // audits that declare it (`-- on_incremental_failure: full_refresh`) retry an incremental build
    const reasons = failures.map((failure) => failure.fullRefreshReason);
    if (!plan.fullRefresh && failures.length > 0 && reasons.every((reason) => reason !== undefined)) {
      throw new NeedsFullRefresh([...new Set(reasons)].join('; '));
    }
    assertAudits(failures);
    phase('commit');
    await log.step('commit', async () => {
      await assertRejectRate(warehouse, options, run.runId);
      await recordPartitions(warehouse, run.runId);
      await recordCountChanges(warehouse, run.runId, plan.fullRefresh);
      await saveState(warehouse, run.runId, plan, run.asOf);
    }, { run_id: run.runId });
    return plan;
  });
}

/** What the plan's line says: full refresh or not, why, and the steps it counts. */
export function planNote(plan: Pick<BuildPlan, 'fullRefresh' | 'reason'>, steps: number): string {
  const why = plan.fullRefresh && !plan.reason.startsWith('full refresh') ? `full refresh: ${plan.reason}` : plan.reason;
  return `${why}; ${steps} steps`;
}

/** A build with nothing new reads its summary and publishes again (upToDate). */
const UP_TO_DATE_STEPS = 2;

/**
 * The numbered steps of a build, counted once its plan is known: each model,
 * each audit, then commit, parquet export, summary, publish (not for an
 * in-memory database, which has no copy) and checkpoint. The work before
 * the plan (ingest, the plan itself) has lines without a number.
 */
function stepsOf(options: Pick<BuildOptions, 'db'>, models: number, audits: number): number {
  return models + audits + (options.db === ':memory:' ? 4 : 5);
}

/** The run's run_results.json (dbt's shape), for both engines' builds. */
export function resultsOf(
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
