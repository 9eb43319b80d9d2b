/**
 * `build`: load new input, configure cycles and integrations, run the SQL
 * models in one transaction, check the row identity, export Parquet.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BuildOptions } from './config.js';
import { loadCycleConfig } from './cycles.js';
import { ConfigError, RunError } from './errors.js';
import { exportParquet } from './exports.js';
import { type IngestReport, ingest } from './ingest.js';
import { createRawLayer, rawStoreOf } from './raw-layer.js';
import { loadIntegrations } from './integrations.js';
import { type ModelTiming, installMacros, runAudits, runModels } from './models.js';
import { type BuildSummary, readSummary } from './summary.js';
import { isoFromMicros } from './values.js';
import { Warehouse } from './warehouse.js';

export interface BuildResult {
  db: string;
  parquetDir: string;
  asOf: string;
  ingest: IngestReport;
  /** seconds per phase (ingest, models, audits, export, summary) and per model */
  timings: ModelTiming[];
  summary: BuildSummary;
}

export async function build(options: BuildOptions): Promise<BuildResult> {
  const buildStarted = performance.now();
  if (options.db !== ':memory:') mkdirSync(dirname(options.db), { recursive: true });
  const warehouse = await Warehouse.open(options.db, {
    threads: options.threads,
    memoryLimit: options.memoryLimit,
    tempDirectory: options.db === ':memory:' ? undefined : `${options.db}.tmp`,
  });
  try {
    await installMacros(warehouse);
    const asOf = await resolveAsOf(warehouse, options.asOf);
    await createRawLayer(warehouse);
    const timings: ModelTiming[] = [{ name: 'phase: setup', seconds: (performance.now() - buildStarted) / 1000 }];
    const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
      const started = performance.now();
      const result = await work();
      timings.push({ name, seconds: (performance.now() - started) / 1000 });
      return result;
    };
    const report = await timed('phase: ingest', () => ingest(warehouse, options.sources, rawStoreOf(options.db)));
    const loadedFiles = await warehouse.value<bigint>(`select count(*) from raw_files`);
    if (loadedFiles === 0n) {
      throw new ConfigError('No input: pass --input PATH or list "sources" in convbill.json.');
    }
    // Past ingest (whose CSV row numbers rely on it), nothing needs row order;
    // letting DuckDB drop it saves memory and time in models and exports.
    await warehouse.run('set preserve_insertion_order = false');
    await timed('phase: models, audits and commit', () =>
      warehouse.transaction(async () => {
        await timed('phase: configuration', async () => {
          await loadCycleConfig(warehouse, options.cycles);
          await loadIntegrations(warehouse, options.integrations);
          await warehouse.run(
            `create or replace table cfg_run as
             select $as_of::timestamptz as as_of, $anchor::integer as default_anchor_day,
                    $tz::varchar as default_timezone, now() as built_at`,
            { as_of: asOf, anchor: options.cycles.defaultRule.anchorDay, tz: options.cycles.defaultRule.timezone },
          );
        });
        timings.push(...(await timed('phase: models', () => runModels(warehouse))));
        await timed('phase: audits', () => assertAudits(warehouse));
      }),
    );
    const parquetDir = await timed('phase: parquet export', () => exportParquet(warehouse, options.parquetDir));
    const summary = await timed('phase: summary', () => readSummary(warehouse));
    // Closing checkpoints the database file: part of the build's cost.
    await timed('phase: checkpoint', () => warehouse.run('checkpoint'));
    return { db: options.db, parquetDir, asOf, ingest: report, timings, summary };
  } finally {
    warehouse.close();
  }
}

/** --as-of as an ISO-8601 UTC string; read like an input timestamp in UTC. */
async function resolveAsOf(warehouse: Warehouse, asOf: string | undefined): Promise<string> {
  if (asOf === undefined) return new Date().toISOString();
  const parsed = await warehouse.value<bigint | null>(
    `select epoch_us(parse_instant(clean_text($value), 'UTC'))`,
    { value: asOf },
  );
  if (parsed === null || parsed === undefined) throw new ConfigError(`--as-of "${asOf}" is not an ISO-8601 instant, date or epoch-milliseconds integer.`);
  return isoFromMicros(parsed, 'Z');
}

/** Invariants that would mean a silently dropped row fail the run, before anything is committed. */
async function assertAudits(warehouse: Warehouse): Promise<void> {
  const [failure] = await runAudits(warehouse);
  if (failure) {
    const first = JSON.stringify(failure.rows[0], (_, value) => (typeof value === 'bigint' ? Number(value) : value));
    throw new RunError(`Audit ${failure.name} failed (${failure.file}); first offending row: ${first}.`);
  }
}
