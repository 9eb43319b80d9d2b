/**
 * Which commands run on which engine: the README's engine table is this
 * table (test/engine-support.test.ts keeps them in step). A command that
 * cannot run on the configured engine stops before it starts, with one
 * sentence and exit 2, rather than failing half-way on DuckDB-only SQL.
 */
import { ConfigError } from '../engine/errors.js';
import { type EngineName, findConfigFile, readConfigFile } from '../config/config-file.js';

/** true: works on ClickHouse; a string: why not, said to the user */
export const CLICKHOUSE_SUPPORT: Record<string, true | string> = {
  build: true,
  ingest: true,
  forget: true,
  query: true,
  runs: true,
  init: true,
  test: true,
  reconcile: 'its recounts and alternatives are DuckDB SQL over the stored interactions',
  explain: true,
  diff: true,
  export: true,
  report: 'the HTML report reads the DuckDB marts of charges and data quality, which ClickHouse builds do not compute',
  docs: 'docs --check compares the DuckDB published copy; convbill docs (without --check) needs no engine',
};

/** The engine a command's flags and config name: --engine, else the config's "engine", else duckdb. */
export function engineOf(flags: { engine?: string; config?: string }): EngineName {
  if (flags.engine === 'clickhouse' || flags.engine === 'duckdb') return flags.engine;
  const path = findConfigFile(flags.config);
  return (path ? readConfigFile(path).engine : undefined) ?? 'duckdb';
}

export function assertRunsOnEngine(command: string, flags: { engine?: string; config?: string; check?: boolean }): void {
  if (command === 'docs' && !flags.check) return;
  const support = CLICKHOUSE_SUPPORT[command];
  if (support === undefined || support === true || engineOf(flags) !== 'clickhouse') return;
  throw new ConfigError(`convbill ${command} does not run on ClickHouse: ${support} (the README's engine table lists what does).`);
}
