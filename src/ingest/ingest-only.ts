/**
 * `convbill ingest`: load files into the raw layer without building, recorded
 * in the run history like a build. The next build stages what it loaded.
 */
import { relative } from 'node:path';
import { checkConfiguration, openWorking } from '../build/build.js';
import type { BuildOptions } from '../config/build-options.js';
import { ConfigError } from '../engine/errors.js';
import { type IngestReport, ingest } from './ingest.js';
import type { RunLog } from '../engine/log.js';
import { finishRun, recordRunFiles, startRun } from '../build/run-history.js';
import { rawStoreOf } from '../config/warehouse-paths.js';

export async function ingestOnly(options: BuildOptions, log: RunLog): Promise<IngestReport> {
  if (options.sources.length === 0 && (options.inputs ?? []).length === 0) throw new ConfigError('Nothing to ingest: pass --input PATH or list "sources" in convbill.json.');
  const started = performance.now();
  await checkConfiguration(options);
  const warehouse = await openWorking(options);
  log.startProgress(() => warehouse.progress());
  let runId: number | undefined;
  let status: 'success' | 'failed' = 'failed';
  try {
    runId = await startRun(warehouse, 'ingest', options.commandLine ?? 'ingest');
    log.event('run_started', { run_id: runId, command: 'ingest', db: options.db });
    const report = await log.step('ingest', () =>
      ingest(warehouse, options, rawStoreOf(options.db), (file) =>
        log.event('file', { file: file.file, status: file.status, load_id: file.loadId, rows: file.rows }),
      ),
    { run_id: runId });
    for (const warning of report.warnings) log.warn(warning);
    await recordRunFiles(warehouse, runId, report);
    await finishRun(warehouse, runId, {
      status: 'success',
      filesLoaded: report.files.filter((file) => file.status === 'loaded').length,
      durationSeconds: (performance.now() - started) / 1000,
    });
    log.event('run_finished', { run_id: runId, status: 'success' });
    status = 'success';
    return report;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (runId !== undefined) {
      await finishRun(warehouse, runId, { status: 'failed', error: message, durationSeconds: (performance.now() - started) / 1000 }).catch(
        () => undefined,
      );
    }
    log.event('run_finished', { run_id: runId, status: 'failed', error: message });
    throw error;
  } finally {
    log.stopProgress(status);
    warehouse.close();
  }
}

export function formatIngest(report: IngestReport): string {
  const show = (path: string) => (path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path);
  const lines = report.files.map((file) => {
    const what = file.status === 'loaded'
      ? `loaded as load ${file.loadId}, ${file.rows} rows${file.supersedes.length ? ` (replaces load ${file.supersedes.join(', ')})` : ''}`
      : `already loaded (load ${file.loadId}, same content): nothing to do`;
    return `  ${show(file.file)}: ${what}`;
  });
  const loaded = report.files.filter((file) => file.status === 'loaded').length;
  return [`convbill ingest — ${loaded} file(s) loaded, ${report.files.length - loaded} already loaded; run "convbill build" to update the facts.`, ...lines].join('\n');
}
