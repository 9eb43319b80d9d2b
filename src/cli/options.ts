/**
 * The options several commands share, declared once so that their text
 * stays the same everywhere, and the small helpers the commands share.
 */
import { existsSync } from 'node:fs';
import { Option } from 'commander';
import { DEFAULT_DB, resolveBuildOptions } from '../config/build-options.js';
import { ConfigError, RunError } from '../engine/errors.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { RunLog } from '../engine/log.js';
import { readerDatabase } from '../config/warehouse-paths.js';
import type { CliIO } from './context.js';

/** The database a command writes or audits. */
export const workingDbOption = () => new Option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`);

/** The database a reader opens (see readableDatabase). */
export const readerDbOption = () =>
  new Option('--db <file>', 'DuckDB database file (default: the published copy of the configured database); while a build holds it, its published copy');

/** Checked by resolveBuildOptions, so a wrong name fails with the same sentence as the config key's. */
export const engineOption = () => new Option('--engine <engine>', 'where the warehouse is: duckdb or clickhouse (default: the config\'s "engine", else duckdb)');

export const configOption = () => new Option('--config <file>', 'config file (default: ./convbill.json when present)');

export const logFormatOption = () =>
  new Option('--log-format <format>', 'stderr: text (a line per step, and a live one, on a terminal) or json (one object per event, as it happens)')
    .choices(['text', 'json'])
    .default('text');

export const quietOption = (description = 'print nothing on success') => new Option('--quiet', description);

export const threadsOption = (description = 'DuckDB worker threads') => new Option('--threads <n>', description);

export const memoryLimitOption = (description: string) => new Option('--memory-limit <size>', description);

/** The formats of formatResult (read/query.ts), checked by parseFormat. */
export const tableFormatOption = () => new Option('--format <format>', 'output format: table, csv or json').default('table');

/** The run's log on stderr; `verbose` is the program's --verbose, which adds step lines off a terminal. */
export function runLog(io: CliIO, flags: { logFormat?: string; quiet?: boolean }, verbose = false): RunLog {
  return new RunLog({
    format: flags.logFormat === 'json' ? 'json' : 'text',
    write: io.err,
    interactive: io.interactive ?? false,
    quiet: Boolean(flags.quiet),
    verbose,
    columns: io.columns,
  });
}

/** The command as typed, for the run history (quoted where a shell would need it). */
export function commandLine(argv: string[]): string {
  return ['convbill', ...argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`))].join(' ');
}

/** A run id given on the command line. */
export function runIdOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`Option ${flag} must be a run id (see "convbill runs"), not "${value}".`);
  return Number(value);
}

/**
 * Readers open the published copy of the configured database, or the file
 * --db names. While a build holds that file (DuckDB lets no one else open
 * it), they read its published copy instead, so a read during a build does
 * not fail: the copy holds the last published build.
 */
export async function readableDatabase(flags: { db?: string; config?: string }, io?: CliIO): Promise<string> {
  if (flags.db === undefined) return readerDatabase(resolveBuildOptions({ config: flags.config }));
  const published = readerDatabase(resolveBuildOptions({ config: flags.config, db: flags.db }));
  if (published === flags.db || !existsSync(published) || !(await heldByAnotherProcess(flags.db))) return flags.db;
  io?.err(`convbill: ${flags.db} is being written by another process; reading its published copy ${published}.\n`);
  return published;
}

async function heldByAnotherProcess(db: string): Promise<boolean> {
  try {
    (await Warehouse.open(db, { readOnly: true })).close();
    return false;
  } catch (error) {
    // any other trouble is reported by the reader's own open
    return error instanceof RunError && /is locked/.test(error.message);
  }
}
