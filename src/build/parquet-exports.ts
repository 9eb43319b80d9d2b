/**
 * Parquet exports of the fact tables, Hive-partitioned by org and cycle.
 *
 * The folders are `org=<enc>/cycle=<enc>/`, where <enc> is the macro
 * partition_folder (sql/macros/duckdb/partition_folder.sql) of the org_id and
 * the cycle_id: those are data, and a raw value could climb out of the export
 * or be too long for a file name. The files hold the real org_id and
 * cycle_id. The keys are not org_id and cycle_id because DuckDB's Hive reader
 * lets a folder's value replace a file column of the same name.
 *
 * The export folder the user names is a symbolic link to a versioned folder.
 * Each build writes a new version beside the old one and then, once the
 * published copy naming it is in place, swaps the link with one rename,
 * which is atomic: a reader sees the old export or the new one, never a
 * half-written one, and a failed or killed build leaves the old one alone.
 * (DuckDB's COPY ... PARTITION_BY ... OVERWRITE would delete every partition
 * of the target first.)
 *
 * Each partition of the detail facts holds two files: `settled_*.parquet`,
 * the conversations whose last activity is before as-of, and
 * `active_*.parquet`, those still going at as-of. Readers glob the folder and
 * see one table. Night after night, what changes is mostly the active
 * conversations (their last activity is as-of), so after an incremental
 * build only the partitions in int_dirty_cycles are written, and of those
 * only the active file unless a settled conversation changed too. Every
 * other file comes from the previous version as a hard link, which costs no
 * copying and stays valid when the previous version is deleted. A marker
 * file names the build each version holds, so that a version left behind by
 * a build that failed after committing is never reused. The counts are
 * small and written whole.
 */
import {
  existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RunError, engineMessage } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';
import { parquetVersionsOf } from '../config/warehouse-paths.js';
import { literal, removeLeftoversOfDeadProcesses } from './leftovers.js';

/** The fact tables exported, with their columns: marts are never `select *`. */
export const EXPORTED_TABLES: Record<string, string[]> = {
  fct_billable_conversations: [
    'org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'integration_id', 'platform',
    'customer_account_id', 'interaction_count', 'first_activity_at', 'last_activity_at',
  ],
  fct_conversation_counts: [
    'org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'integration_id', 'platform', 'conversations',
  ],
};

const DETAIL = 'fct_billable_conversations';

/** A version written beside the one the link names (`replaced`), not yet swapped in. */
export interface ExportVersion {
  link: string;
  version: string;
  replaced?: string;
}

const RUN_MARKER = '_convbill_run';
/**
 * Written in the marker after the run: a version of another folder layout
 * (before it, `org_id=…/cycle_id=…/`) is never linked from, so its folders
 * never sit beside this layout's.
 */
const LAYOUT = 'layout org=partition_folder/cycle=partition_folder';

/** The folder keys, and their values computed from a row of `table`. */
const ORG_KEY = 'org';
const CYCLE_KEY = 'cycle';
const partitionColumns = (table: string) =>
  `partition_folder(${table}.org_id) as ${ORG_KEY}, partition_folder(${table}.cycle_id) as ${CYCLE_KEY}`;

export async function exportParquet(
  warehouse: Engine,
  parquetDir: string,
  build: { runId: number; previousRunId: number | null; asOf: string },
): Promise<ExportVersion> {
  const link = resolve(parquetDir);
  if (existsSync(link) && !lstatSync(link).isSymbolicLink()) {
    throw new RunError(
      `Parquet folder ${parquetDir} exists and is not a convbill export link; move it away or choose another parquet_dir.`,
    );
  }
  const versions = parquetVersionsOf(link);
  const current = existsSync(link) ? resolve(dirname(link), readlinkSync(link)) : undefined;
  const reusable = current !== undefined && build.previousRunId !== null && heldRun(current) === build.previousRunId;
  const version = join(versions, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(version, { recursive: true });
  try {
    const dirty = reusable ? await dirtyPartitions(warehouse) : undefined;
    for (const [table, columns] of Object.entries(EXPORTED_TABLES)) {
      const folder = join(version, table);
      mkdirSync(folder, { recursive: true });
      if (table !== DETAIL) {
        // A table with no rows writes no partition; the folder stays, so that
        // readers' globs find an empty table rather than a missing one.
        await copyPartitioned(warehouse, `select ${columns.join(', ')}, ${partitionColumns(table)} from ${table}`, folder, 'data');
        continue;
      }
      if (dirty) linkUnchanged(join(current as string, table), folder, dirty);
      const select = (part: 'settled' | 'active', where: string) =>
        `select ${columns.map((column) => `${table}.${column}`).join(', ')}, ${partitionColumns(table)} from ${table}
         ${dirty ? `semi join int_dirty_cycles on ${table}.org_id = int_dirty_cycles.org_id
                    and ${table}.cycle_start = int_dirty_cycles.cycle_start${part === 'settled' ? ' and int_dirty_cycles.settled_changed' : ''}` : ''}
         where ${where}`;
      await copyPartitioned(warehouse, select('settled', `${table}.last_activity_at < ${sqlString(build.asOf)}::timestamptz`), folder, 'settled');
      await copyPartitioned(warehouse, select('active', `${table}.last_activity_at >= ${sqlString(build.asOf)}::timestamptz`), folder, 'active');
    }
    writeFileSync(join(version, RUN_MARKER), `${build.runId}\n${LAYOUT}\n`);
  } catch (error) {
    rmSync(version, { recursive: true, force: true });
    throw new RunError(`Writing the Parquet export to ${parquetDir} failed: ${engineMessage(error)}.`, { cause: error });
  }
  return { link, version, replaced: current };
}

/**
 * Points the export link at the version `exportParquet` wrote, with one
 * rename. Called right after the published copy naming that version is
 * renamed into place, so that readers of either see the build together.
 */
export function swapExportLink(exported: ExportVersion): void {
  // a build killed between making its link and renaming it leaves that link
  removeLeftoversOfDeadProcesses(dirname(exported.link), new RegExp(`^${literal(basename(exported.link))}\\.swap-(\\d+)$`));
  const staged = `${exported.link}.swap-${process.pid}`;
  rmSync(staged, { force: true });
  symlinkSync(join(basename(parquetVersionsOf(exported.link)), basename(exported.version)), staged);
  renameSync(staged, exported.link);
}

/**
 * Drops every export version but the new one and the one it replaced, kept
 * for readers still on it (an open published copy's view among them).
 * Called once the published copy naming the new version is in place.
 */
export function pruneExportVersions(exported: ExportVersion): void {
  const versions = parquetVersionsOf(exported.link);
  for (const entry of readdirSync(versions)) {
    const path = join(versions, entry);
    if (path !== exported.version && path !== exported.replaced) rmSync(path, { recursive: true, force: true });
  }
}

/** The build a version holds, when it has this layout. */
function heldRun(version: string): number | undefined {
  try {
    const [run, layout] = readFileSync(join(version, RUN_MARKER), 'utf8').trim().split('\n');
    return layout === LAYOUT ? Number(run) : undefined;
  } catch {
    return undefined;
  }
}

/** Dirty partitions by their two folder names, `org=…` and `cycle=…`. */
type DirtyPartitions = Map<string, { settledChanged: boolean }>;
const partitionKey = (orgFolder: string, cycleFolder: string) => JSON.stringify([orgFolder, cycleFolder]);

/**
 * The folders of int_dirty_cycles, encoded by the same macro as the rows
 * were: folder names are never decoded. Two cycles of an org sharing a
 * cycle_id share a folder, so their changes are merged.
 */
async function dirtyPartitions(warehouse: Engine): Promise<DirtyPartitions> {
  const rows = await warehouse.rows<{ org: string; cycle: string; settled_changed: boolean }>(
    `select ${partitionColumns('int_dirty_cycles')}, bool_or(settled_changed) as settled_changed
     from int_dirty_cycles
     group by all`,
  );
  return new Map(rows.map((row) => [
    partitionKey(`${ORG_KEY}=${row.org}`, `${CYCLE_KEY}=${row.cycle}`),
    { settledChanged: row.settled_changed },
  ]));
}

/** Links every file of `from` this build leaves as it was into `to`. */
function linkUnchanged(from: string, to: string, dirty: DirtyPartitions): void {
  if (!existsSync(from)) return;
  for (const orgFolder of readdirSync(from)) {
    for (const cycleFolder of readdirSync(join(from, orgFolder))) {
      const change = dirty.get(partitionKey(orgFolder, cycleFolder));
      const keep = (file: string) => !change || (!change.settledChanged && file.startsWith('settled'));
      const files = readdirSync(join(from, orgFolder, cycleFolder)).filter(keep);
      if (files.length === 0) continue;
      mkdirSync(join(to, orgFolder, cycleFolder), { recursive: true });
      for (const file of files) linkSync(join(from, orgFolder, cycleFolder, file), join(to, orgFolder, cycleFolder, file));
    }
  }
}

/**
 * A partitioned copy into a staging folder, then the files into `folder`'s
 * partitions, which may already hold linked files of their own.
 */
async function copyPartitioned(warehouse: Engine, select: string, folder: string, part: string): Promise<void> {
  const staging = join(dirname(folder), `.staging-${basename(folder)}-${part}`);
  await warehouse.copy(select, staging, 'parquet', { partitionBy: [ORG_KEY, CYCLE_KEY], filenamePattern: `${part}_{i}` });
  if (existsSync(staging)) {
    for (const orgFolder of readdirSync(staging)) {
      for (const cycleFolder of readdirSync(join(staging, orgFolder))) {
        mkdirSync(join(folder, orgFolder, cycleFolder), { recursive: true });
        for (const file of readdirSync(join(staging, orgFolder, cycleFolder))) {
          renameSync(join(staging, orgFolder, cycleFolder, file), join(folder, orgFolder, cycleFolder, file));
        }
      }
    }
  }
  rmSync(staging, { recursive: true, force: true });
}
