/**
 * The published copy: a separate DuckDB file for analysts, BI tools and
 * `convbill query`. DuckDB lets one process write a database file and nobody
 * else open it meanwhile, so readers never touch the working file: each
 * successful build writes a new copy beside the old one and renames it into
 * place. A reader that opened the old copy keeps reading it; the next open
 * sees the new one.
 *
 * The detail facts are not copied: the copy holds a view over the Parquet
 * export version the same build wrote (the pattern of dbt-duckdb's external
 * materialisation). Writing them a second time into another DuckDB file cost
 * as much as the export itself, an eighth of a full build. The view
 * names that version's folder, not the export link, so an open copy keeps
 * reading the facts it was published with; the export keeps the version
 * before the newest for such readers. Everything else is small and copied whole.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { RunError, engineMessage } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';
import { createStateTables } from '../project/state-tables.js';

/** Published as a view over the build's Parquet export. */
const EXTERNAL = ['fct_billable_conversations'];
/** Copied whole every time. */
const WHOLE = [
  'fct_conversation_counts', 'fct_conversation_charges', 'dim_billing_cycles', 'dim_integrations', 'rejected_interactions',
  'rpt_source_files', 'rpt_data_quality', 'convbill_runs', 'convbill_run_partitions', 'convbill_count_changes',
];
/** Written by `convbill reconcile`, published once there is one. */
export const OPTIONAL = ['rpt_invoice_reconciliation', 'rpt_reconciliation_alternatives', 'convbill_reconciliations'];
export const PUBLISHED_TABLES = [...EXTERNAL, ...WHOLE, ...OPTIONAL];


/**
 * Publishes the marts of the committed build `runId`, whose Parquet export
 * is the version folder `exportVersion`.
 */
export async function publish(warehouse: Engine, target: string, runId: number, exportVersion: string): Promise<void> {
  removeLeftoversOfDeadProcesses(target);
  const staged = `${target}.next-${process.pid}`;
  rmSync(staged, { force: true });
  rmSync(`${staged}.wal`, { force: true });
  try {
    await warehouse.run(`attach ${sqlString(staged)} as published`);
    for (const table of PUBLISHED_TABLES) {
      if (OPTIONAL.includes(table) && (await warehouse.columnsOf(table)).length === 0) continue;
      const columns = await columnsOf(warehouse, table);
      const files = join(exportVersion, table);
      if (EXTERNAL.includes(table) && hasPartitions(files) && !GLOB_CHARACTERS.test(files)) {
        // The files hold every column; the folder names are an encoding of
        // org_id and cycle_id (parquet-exports.ts), not to be read back.
        await warehouse.run(
          `create view published.${table} as
           select ${columns} from read_parquet(${sqlString(join(files, '*', '*', '*.parquet'))}, hive_partitioning = false)`,
        );
      } else {
        // An export with no rows has no files for a view to read; a path
        // DuckDB would read as a pattern cannot be named by one.
        const empty = EXTERNAL.includes(table) && !hasPartitions(files);
        await warehouse.run(`create table published.${table} as select ${columns} from ${table}${empty ? ' limit 0' : ''}`);
      }
    }
    await createStateTables(warehouse, ['convbill_publication'], 'published');
    await warehouse.run(`insert into published.convbill_publication select $run_id::integer, now()`, { run_id: runId });
    await warehouse.run('detach published');
  } catch (error) {
    await warehouse.run('detach published').catch(() => undefined);
    rmSync(staged, { force: true });
    throw new RunError(`Publishing the read-only copy ${target} failed: ${engineMessage(error)}.`, { cause: error });
  }
  renameSync(staged, target);
}

/**
 * A publish killed before its rename leaves its staged copy `<target>.next-PID`
 * (and its `.wal`) behind: removes those whose process is gone. A live PID's
 * are left alone, whoever it is.
 */
function removeLeftoversOfDeadProcesses(target: string): void {
  const folder = dirname(target);
  const prefix = `${basename(target)}.next-`;
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(\d+)(?:\.wal)?$/.exec(name.slice(prefix.length))?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    rmSync(join(folder, name), { force: true });
  }
}

/** Signal 0 checks without signalling: ESRCH is no such process, EPERM one of another user's. */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return true; // not a process of its own: left alone
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** DuckDB expands these in a file name, and offers no escape. */
const GLOB_CHARACTERS = /[*?[\]]/;

function hasPartitions(folder: string): boolean {
  return existsSync(folder) && readdirSync(folder).length > 0;
}

async function columnsOf(warehouse: Engine, table: string): Promise<string> {
  const columns = await warehouse.columnsOf(table);
  if (columns.length === 0) throw new RunError(`Cannot publish ${table}: the working database has no such table.`);
  return columns.join(', ');
}
