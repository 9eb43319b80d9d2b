/**
 * `build` on ClickHouse (docs/engines.md). The working DuckDB database stays
 * the loader and keeps the history: it reads the files (the raw layer and
 * file versions), stages them (sql/staging/, the row checks), and computes
 * the cycles and the integrations' platforms, as in a DuckDB build. The rows
 * it staged are shipped to the cluster (ship.ts); there every model from the
 * interactions on runs shard-locally (sql/clickhouse/models/), and the run
 * is published by partition (swap.ts).
 *
 * DuckDB's transaction stays open until the cluster has published: a build
 * that fails anywhere leaves both the facts readers see and the working
 * database's state as they were, and the next build plans the same loads.
 */
import { type BuildOptions, DEFAULT_VALID_FROM } from '../../config/build-options.js';
import { rawStoreOf } from '../../config/warehouse-paths.js';
import { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import { runClickHouseAudits } from '../../engine/clickhouse/audits.js';
import { pullIntoDuckDB } from '../../engine/clickhouse/pull.js';
import { clickhouseFolder, clickhouseSql } from '../../engine/clickhouse/sql-files.js';
import type { Warehouse } from '../../engine/duckdb/warehouse.js';
import { ConfigError, RunError } from '../../engine/errors.js';
import { RunLog } from '../../engine/log.js';
import { createScopeView } from '../../ingest/raw-layer.js';
import { ingest } from '../../ingest/ingest.js';
import { loadModels } from '../../project/load-models.js';
import { type ModelTiming, runModels } from '../../project/run-models.js';
import { loadCycleConfig } from '../../reference/cycles.js';
import { loadIntegrations } from '../../reference/integrations.js';
import { loadPrices } from '../../reference/prices.js';
import type { BuildResult } from '../build.js';
import { checkConfiguration, openWorking, planNote, resultsOf } from '../build.js';
import { type BuildPlan, planBuild, saveState } from '../plan.js';
import { finishRun, recordRunFiles, startRun, writeRunResults } from '../run-history.js';
import { recordCountChanges } from '../restatements.js';
import { resolveAsOf, writeRunSettings } from '../run-settings.js';
import { assertClickHouseRejectRate } from './checks.js';
import { rateCharges } from './charges.js';
import { SHIPPED, Shipper } from './ship.js';
import { partitionChanges, publishPartitions, type PartitionChange } from './swap.js';
import { readClickHouseSummary } from './summary.js';

/** The DuckDB models a ClickHouse build runs: staging, and what every shard needs whole. */
const LOADER_MODELS = new Set([
  'stg_rows',
  'stg_malformed_rows',
  'int_org_activity_spans',
  'int_billing_cycles',
  'int_integration_platforms',
  'int_integration_keys',
  'dim_integrations',
  'int_load_stats',
  'int_row_rejects',
]);

/** The run's copies of the facts (sql/clickhouse/state/build_tables.sql), dropped once published */
const NEXT_TABLES = ['fct_billable_conversations_next', 'fct_billable_conversations_next_local', 'fct_conversation_counts_next', 'fct_conversation_counts_next_local'];

/** The shard-local models, in order: each statement runs on every shard before the next starts. */
const SHARD_MODELS = ['int_interactions', 'dim_billing_cycles', 'fct_billable_conversations', 'fct_conversation_counts', 'rejected_interactions'];

export async function buildOnClickHouse(options: BuildOptions, log: RunLog = RunLog.silent()): Promise<BuildResult> {
  if (!options.clickhouse) throw new ConfigError('Engine clickhouse needs the config key "clickhouse": {url, cluster, database}.');
  const started = performance.now();
  await checkConfiguration(options);
  const cluster = await ClickHouseCluster.connect(options.clickhouse);
  // a working file another build holds fails here: one build at a time, on either engine
  const warehouse = await openWorking(options).catch(async (error: unknown) => {
    await cluster.close();
    throw error;
  });
  const timings: ModelTiming[] = [];
  // a phase that is a step has a line of its own; those holding models (numbered one by one) do not
  const timed = async <T>(name: string, work: () => Promise<T>, asStep = true): Promise<T> => {
    const phaseStarted = performance.now();
    log.event('phase', { run_id: runId, phase: name });
    if (!asStep) log.setStep(name);
    const result = asStep ? await log.step(name, work, { run_id: runId }) : await work();
    timings.push({ name: `phase: ${name}`, seconds: (performance.now() - phaseStarted) / 1000 });
    return result;
  };
  // the loader's models run on DuckDB, whose progress the live line shows
  log.startProgress(() => warehouse.progress());
  let status: 'success' | 'failed' = 'failed';
  let runId: number | undefined;
  let asOf: string | undefined;
  let plan: BuildPlan | undefined;
  const startedAt = new Date().toISOString();
  try {
    runId = await startRun(warehouse, 'build', options.commandLine ?? 'build');
    log.event('run_started', { run_id: runId, command: 'build', engine: 'clickhouse', database: cluster.database });
    asOf = await resolveAsOf(warehouse, options.asOf);
    await timed('cluster setup', () => createTables(cluster));
    const report = await timed('ingest', () =>
      ingest(warehouse, options, rawStoreOf(options.db), (file) =>
        log.event('file', { file: file.file, status: file.status, load_id: file.loadId, rows: file.rows, read: file.read }),
      ),
    );
    for (const warning of report.warnings) log.warn(warning);
    if (report.current.length === 0 && options.sources.length === 0) throw new ConfigError('No input: pass --input PATH or list "sources" in convbill.json.');
    await recordRunFiles(warehouse, runId, report);
    await warehouse.run('set preserve_insertion_order = false');
    const run = { runId, asOf };
    const changes = await warehouse.transaction(async () => {
      plan = await timed('loader models', () => loaderModels(warehouse, cluster, options, run, log), false);
      const shipped = await timed('ship', () => ship(warehouse, cluster, plan as BuildPlan));
      await timed('models', () => shardModels(cluster, shipped.runId, log), false);
      await timed('audits', () => clickhouseAudits(cluster));
      await timed('charges', () => withShipper(warehouse, cluster, (shipper) => rateCharges(warehouse, cluster, shipper, shipped.runId)));
      await timed('count history', () => recordClickHouseCounts(warehouse, cluster, run.runId, shipped.runId, (plan as BuildPlan).fullRefresh));
      await assertClickHouseRejectRate(warehouse, cluster, options, { historyRunId: run.runId, clusterRunId: shipped.runId });
      const found = await partitionChanges(cluster);
      await timed('publish', () => publishPartitions(cluster, { runId: shipped.runId, historyRunId: run.runId, asOfMs: shipped.asOfMs }, found, (step) =>
          log.event('publish_step', { run_id: run.runId, step, partitions: found.length }),
        ));
      // the run's own copies: the facts now hold their partitions (int_interactions stays, for convbill test)
      for (const table of NEXT_TABLES) await cluster.onEachShard(`drop table if exists ${table}`);
      await recordChanges(warehouse, run.runId, found);
      await saveState(warehouse, run.runId, plan as BuildPlan, asOf as string);
      return found;
    });
    log.event('published', { run_id: runId, partitions: changes.length });
    const summary = await timed('summary', () => readClickHouseSummary(warehouse, cluster));
    const rowsStaged = Number(await warehouse.value<bigint>(`select coalesce(sum(rows_staged), 0) from int_load_stats semi join cfg_scope_loads using (load_id)`));
    const finished = plan as BuildPlan;
    await finishRun(warehouse, runId, {
      status: 'success',
      asOf,
      fullRefresh: finished.fullRefresh,
      refreshReason: finished.reason,
      filesLoaded: report.files.filter((file) => file.status === 'loaded').length,
      rowsStaged,
      durationSeconds: (performance.now() - started) / 1000,
      rows: {
        read: summary.files.reduce((sum, file) => sum + file.rowsRead, 0),
        accepted: summary.files.reduce((sum, file) => sum + file.rowsAccepted, 0),
        rejected: summary.files.reduce((sum, file) => sum + file.rowsRejected, 0),
      },
    });
    await warehouse.run('checkpoint');
    const runResults = writeRunResults(options.db, resultsOf(runId, options, startedAt, started, 'success', null, asOf, finished, timings));
    log.event('run_finished', { run_id: runId, status: 'success', full_refresh: finished.fullRefresh, partitions_rebuilt: changes.length });
    status = 'success';
    return {
      db: options.db,
      publishedDb: `ClickHouse ${options.clickhouse.url}, cluster ${cluster.settings.cluster} (${cluster.shards.length} shard(s)), database ${cluster.database}`,
      parquetDir: '',
      asOf,
      runId,
      plan: { fullRefresh: finished.fullRefresh, reason: finished.reason, loadsStaged: finished.scopeLoads.length, rowsStaged, partitionsRebuilt: changes.length },
      ingest: report,
      timings,
      summary,
      runResults,
    };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (runId !== undefined) {
      await finishRun(warehouse, runId, { status: 'failed', error: message, asOf, durationSeconds: (performance.now() - started) / 1000 }).catch(() => undefined);
      writeRunResults(options.db, resultsOf(runId, options, startedAt, started, 'failed', message, asOf ?? null, plan, timings));
    }
    log.event('run_finished', { run_id: runId, status: 'failed', error: message });
    throw error;
  } finally {
    log.stopProgress(status);
    warehouse.close();
    await cluster.close();
  }
}

/** The state tables and the readers' views, on every shard; created when missing. */
async function createTables(cluster: ClickHouseCluster): Promise<void> {
  const values = { database: cluster.database, cluster: cluster.settings.cluster };
  for (const folder of ['state', 'readers'] as const) {
    for (const [file, statements] of clickhouseFolder(folder, values)) {
      if (file === 'build_tables') continue;
      for (const statement of statements) await cluster.onEachShard(statement);
    }
  }
  const [layout] = await cluster.rows<{ cluster: string }>(`select cluster from convbill_manifest order by run_id desc limit 1`);
  if (layout && layout.cluster !== cluster.settings.cluster) {
    throw new ConfigError(
      `ClickHouse database ${cluster.database} was built on cluster ${layout.cluster}, not ${cluster.settings.cluster} (config key "clickhouse.cluster"): its Distributed tables name their cluster; build into a new database.`,
    );
  }
}

/** DuckDB's part: configuration, the plan, staging and the cycles, inside its transaction. */
async function loaderModels(
  warehouse: Warehouse, cluster: ClickHouseCluster, options: BuildOptions, run: { runId: number; asOf: string }, log: RunLog,
): Promise<BuildPlan> {
  const started = performance.now();
  log.planSteps(undefined);
  log.setStep('plan');
  await loadCycleConfig(warehouse, options.cycles);
  await loadIntegrations(warehouse, options.integrations);
  await loadPrices(warehouse, options.priceBook, options.prices);
  const validFrom = options.validFrom ?? DEFAULT_VALID_FROM;
  // the cluster must hold the rows of the build the working database remembers, or all is shipped again
  const [published] = await cluster.rows<{ history_run_id: string }>(`select history_run_id from convbill_manifest order by run_id desc limit 1`);
  const previous = await warehouse.value<number | null>(`select max(run_id) from convbill_state`);
  const inStep = previous !== null && published !== undefined && Number(published.history_run_id) === Number(previous);
  const plan = await planBuild(warehouse, {
    asOf: run.asOf,
    forceFullRefresh: Boolean(options.fullRefresh) || (previous !== null && !inStep),
    forcedReason: options.fullRefresh ? undefined : `ClickHouse database ${cluster.database} does not hold the last build of ${options.db}`,
    cycles: options.cycles,
    validFrom,
    engine: 'clickhouse',
  });
  const models = loadModels().filter((model) => LOADER_MODELS.has(model.name));
  const steps = stepsOf(models.length);
  log.stepFinished('plan', 'OK', (performance.now() - started) / 1000, {
    name: 'plan',
    fields: { run_id: run.runId, full_refresh: plan.fullRefresh, reason: plan.reason, loads: plan.scopeLoads.length, steps },
    note: planNote(plan, steps),
  });
  log.planSteps(steps);
  await createScopeView(warehouse, rawStoreOf(options.db), plan.scopeLoads);
  await writeRunSettings(warehouse, { asOf: run.asOf, validFrom, plan, defaultRule: options.cycles.defaultRule });
  await runModels(warehouse, {
    fullRefresh: plan.fullRefresh,
    onModel: (name) => log.stepStarted(name),
    onModelDone: (timing) =>
      log.stepFinished(timing.name, timing.status === 'error' ? 'ERROR' : 'OK', timing.seconds, {
        name: 'model',
        fields: { run_id: run.runId, model: timing.name, seconds: timing.seconds, rows: timing.rows ?? null, status: timing.status },
      }),
  }, models);
  return plan;
}

/**
 * The numbered steps of a ClickHouse build, counted once its plan is known:
 * the loader's models, ship, the shard models, then audits, charges, count
 * history, publish and summary. Cluster setup, ingest and the plan come
 * before, without a number.
 */
function stepsOf(loaderModels: number): number {
  return loaderModels + 1 + SHARD_MODELS.length + 5;
}

/** The rows and the reference to the cluster; resolves to the cluster's run id and as-of. */
async function ship(warehouse: Warehouse, cluster: ClickHouseCluster, plan: BuildPlan) {
  const shipper = new Shipper(warehouse, cluster);
  try {
    const [last] = await cluster.rows<{ run_id: string }>(
      `select max(run_id) as run_id from (select run_id from convbill_manifest union all select run_id from convbill_partitions)`,
    );
    const runId = Number(last?.run_id ?? 0) + 1;
    if (plan.fullRefresh) for (const table of ['stg_rows_local', 'int_row_rejects_local']) await cluster.onEachShard(`truncate table ${table}`);
    await shipper.shipLoads(plan.scopeLoads);
    // loads that no longer count leave the cluster too
    const counting = new Set((await warehouse.rows<{ load_id: number }>(`select load_id from cfg_loads`)).map((row) => Number(row.load_id)));
    const held = await cluster.rows<{ load_id: string }>(`select distinct load_id from stg_rows union all select distinct load_id from int_row_rejects`);
    const gone = [...new Set(held.map((row) => Number(row.load_id)))].filter((id) => !counting.has(id));
    for (const table of ['stg_rows_local', 'int_row_rejects_local']) {
      if (gone.length) await cluster.onEachShard(`alter table ${table} ${gone.map((id) => `drop partition ${id}`).join(', ')}`);
    }
    const asOfMs = Number(await warehouse.value<bigint>(`select epoch_ms(as_of) from cfg_run`));
    for (const table of ['cfg_counting_loads_local', 'cfg_billing_cycles_local'] as const) await shipper.copyToEveryShard(table, SHIPPED[table]);
    await shipper.copyToEveryShard('cfg_run_local', `select ${runId}, ${asOfMs}`);
    await shipper.copyToEveryShard(
      'dim_integrations_local',
      `select ${runId}, org_id, integration_id, platform, integration_name, platform_source from dim_integrations`,
      false,
    );
    return { runId, asOfMs };
  } finally {
    shipper.close();
  }
}

/**
 * The count history `convbill diff` reads (build/restatements.ts), kept in
 * the working file as a DuckDB build keeps it: the run's counts are there
 * already (charges.ts), compared over every cycle, and the run's cycles with
 * them (small), which the diff labels changes with.
 */
async function recordClickHouseCounts(warehouse: Warehouse, cluster: ClickHouseCluster, historyRunId: number, clusterRunId: number, fullRefresh: boolean): Promise<void> {
  await pullIntoDuckDB(
    cluster.entry,
    `select org_id, cycle_id, cycle_start, cycle_end, timezone, cycle_source, toInt64(cycle_seq) as cycle_seq
     from dim_billing_cycles_local where run_id = ${clusterRunId}`,
    warehouse,
    'dim_billing_cycles',
    { org_id: 'varchar', cycle_id: 'varchar', cycle_start: 'instant', cycle_end: 'instant', timezone: 'varchar', cycle_source: 'varchar', cycle_seq: 'bigint' },
    {},
    true,
  );
  await warehouse.run(`create or replace temp view int_dirty_cycles as select org_id, cycle_start from int_billing_cycles`);
  await recordCountChanges(warehouse, historyRunId, fullRefresh);
}

async function withShipper<T>(warehouse: Warehouse, cluster: ClickHouseCluster, work: (shipper: Shipper) => Promise<T>): Promise<T> {
  const shipper = new Shipper(warehouse, cluster);
  try {
    return await work(shipper);
  } finally {
    shipper.close();
  }
}

async function shardModels(cluster: ClickHouseCluster, runId: number, log: RunLog): Promise<void> {
  const values = { database: cluster.database, cluster: cluster.settings.cluster, run_id: runId };
  for (const table of ['int_interactions', 'int_interactions_local', ...NEXT_TABLES]) await cluster.onEachShard(`drop table if exists ${table}`);
  for (const statement of clickhouseSql('state', 'build_tables', values)) await cluster.onEachShard(statement);
  const spill = await cluster.spillSettings();
  for (const model of SHARD_MODELS) {
    log.stepStarted(model);
    const started = performance.now();
    let status: 'success' | 'error' = 'error';
    try {
      for (const statement of clickhouseSql('models', model, values)) await cluster.onEachShard(statement, spill);
      status = 'success';
    } finally {
      const seconds = (performance.now() - started) / 1000;
      log.stepFinished(model, status === 'success' ? 'OK' : 'ERROR', seconds, { name: 'model', fields: { run_id: runId, model, seconds, status } });
    }
  }
}

async function clickhouseAudits(cluster: ClickHouseCluster): Promise<void> {
  const failed = (await runClickHouseAudits(cluster.entry, cluster.database, 'run')).filter((audit) => !audit.passed);
  if (failed.length) {
    throw new RunError(
      `Data tests failed on ClickHouse, nothing was published: ${failed.map((audit) => `${audit.name} (first offending row: ${JSON.stringify(audit.rows[0])})`).join('; ')}.`,
    );
  }
}

/** The partitions the run rewrote, into the working database's run history (`convbill runs`). */
async function recordChanges(warehouse: Warehouse, runId: number, changes: PartitionChange[]): Promise<void> {
  if (changes.length === 0) return;
  await warehouse.run(
    `insert into convbill_run_partitions
     select $run_id, changed.org_id, cycles.cycle_id, cycles.cycle_start, cycles.cycle_end, 0, changed.conversations, null, null
     from (select unnest($rows::struct(org_id varchar, cycle_seq integer, conversations bigint)[], recursive := true)) as changed
     inner join int_billing_cycles as cycles on changed.org_id = cycles.org_id and changed.cycle_seq = cycles.cycle_seq`,
    { run_id: runId, rows: JSON.stringify(changes.map(({ org_id, cycle_seq, conversations }) => ({ org_id, cycle_seq, conversations }))) },
  );
}
