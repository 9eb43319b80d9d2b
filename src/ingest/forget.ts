/**
 * `convbill forget PATH|GLOB`: files given with --input stay loaded until
 * this drops them; the next build stops counting them, unless a configured
 * source covers them. Recorded in the run history like any change.
 */
import { relative } from 'node:path';
import { openWorking } from '../build/build.js';
import type { BuildOptions } from '../config/build-options.js';
import { ConfigError } from '../engine/errors.js';
import { forget } from './ingest.js';
import { finishRun, startRun } from '../build/run-history.js';

export async function forgetInputs(options: Pick<BuildOptions, 'db' | 'commandLine'>, pattern: string): Promise<string[]> {
  const started = performance.now();
  const warehouse = await openWorking(options);
  try {
    const runId = await startRun(warehouse, 'forget', options.commandLine ?? `forget ${pattern}`);
    const forgotten = await forget(warehouse, pattern);
    if (forgotten.length === 0) {
      await finishRun(warehouse, runId, { status: 'failed', error: 'nothing matched', durationSeconds: (performance.now() - started) / 1000 });
      throw new ConfigError(`No file given with --input matches ${pattern}; "convbill query 'select source_file from raw_paths where pinned'" lists them.`);
    }
    await warehouse.run(
      `insert into convbill_run_files select $run_id, unnest($files::varchar[]), null, 'forgotten'`,
      { run_id: runId, files: JSON.stringify(forgotten) },
    );
    await finishRun(warehouse, runId, { status: 'success', durationSeconds: (performance.now() - started) / 1000 });
    return forgotten;
  } finally {
    warehouse.close();
  }
}

export function formatForget(files: string[]): string {
  const show = (path: string) => (path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path);
  return [
    `convbill forget — ${files.length} file(s) no longer pinned; the next build stops counting them unless a configured source covers them:`,
    ...files.map((file) => `  ${show(file)}`),
  ].join('\n');
}
