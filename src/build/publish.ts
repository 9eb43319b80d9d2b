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
 *
 * The view names the version relative to the copy's folder when it lies
 * inside it, so the warehouse folder can be moved or copied whole. DuckDB
 * resolves a relative path against the process's working directory, then
 * `file_search_path`: Warehouse.open sets that to the database's folder, and
 * other sessions set it themselves (docs/nightly.md). An export outside the
 * copy's folder does not move with it, so the view keeps its absolute path.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RunError, engineMessage } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';
import { createStateTables } from '../project/state-tables.js';
import { literal, removeLeftoversOfDeadProcesses } from './leftovers.js';

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


export interface Publication {
  /** the committed build whose marts are published */
  runId: number;
  /** the folder of the build's Parquet export version, which the detail view reads */
  exportVersion: string;
  /**
   * Closes the build's row in the copy's run history (`catalog` is the
   * copy's), so that the copy says the build succeeded while the working
   * database says so only once the copy is in place.
   */
  closeRun?: (catalog: string) => Promise<void>;
}

/**
 * Publishes the marts of a committed build. The rename at the end is the
 * moment readers see the build: a build killed before it leaves the old copy.
 */
export async function publish(warehouse: Engine, target: string, { runId, exportVersion, closeRun }: Publication): Promise<void> {
  // a publish killed before its rename leaves its staged copy and its WAL
  removeLeftoversOfDeadProcesses(dirname(target), new RegExp(`^${literal(basename(target))}\\.next-(\\d+)(?:\\.wal)?$`));
  const staged = `${target}.next-${process.pid}`;
  rmSync(staged, { force: true });
  rmSync(`${staged}.wal`, { force: true });
  // DuckDB binds a view's query when it is created, so the relative path must resolve now
  const searchPath = await warehouse.value<string>(`select current_setting('file_search_path')`);
  try {
    await warehouse.run(`set file_search_path = ${sqlString(dirname(resolve(target)))}`);
    await warehouse.run(`attach ${sqlString(staged)} as published`);
    for (const table of PUBLISHED_TABLES) {
      if (OPTIONAL.includes(table) && (await warehouse.columnsOf(table)).length === 0) continue;
      const columns = await columnsOf(warehouse, table);
      const files = join(exportVersion, table);
      const named = viewPath(files, target);
      if (EXTERNAL.includes(table) && hasPartitions(files) && !GLOB_CHARACTERS.test(named)) {
        // The files hold every column; the folder names are an encoding of
        // org_id and cycle_id (parquet-exports.ts), not to be read back.
        await warehouse.run(
          `create view published.${table} as
           select ${columns} from read_parquet(${sqlString(join(named, '*', '*', '*.parquet'))}, hive_partitioning = false)`,
        );
      } else {
        // An export with no rows has no files for a view to read; a path
        // DuckDB would read as a pattern cannot be named by one.
        const empty = EXTERNAL.includes(table) && !hasPartitions(files);
        await warehouse.run(`create table published.${table} as select ${columns} from ${table}${empty ? ' limit 0' : ''}`);
      }
    }
    await closeRun?.('published');
    await createStateTables(warehouse, ['convbill_publication'], 'published');
    await warehouse.run(`insert into published.convbill_publication select $run_id::integer, now()`, { run_id: runId });
    await warehouse.run('detach published');
  } catch (error) {
    await warehouse.run('detach published').catch(() => undefined);
    rmSync(staged, { force: true });
    throw new RunError(`Publishing the read-only copy ${target} failed: ${engineMessage(error)}.`, { cause: error });
  } finally {
    await warehouse.run(`set file_search_path = ${sqlString(searchPath)}`).catch(() => undefined);
  }
  renameSync(staged, target);
}

/**
 * How the copy's view names `folder`: relative to the copy's folder when
 * inside it. DuckDB splits file_search_path at commas, so a copy's folder
 * holding one could not be searched: such a view keeps the absolute path.
 */
function viewPath(folder: string, publishedDb: string): string {
  const home = dirname(resolve(publishedDb));
  const path = relative(home, resolve(folder));
  const inside = path !== '' && path !== '..' && !path.startsWith(`..${sep}`) && !isAbsolute(path);
  return inside && !home.includes(',') ? path : resolve(folder);
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
