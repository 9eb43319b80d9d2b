/**
 * Parquet exports of the fact tables (the detail, the counts and the
 * charges), Hive-partitioned by org and cycle.
 *
 * The folders are `org=<enc>/cycle=<enc>/`, where <enc> is the macro
 * partition_folder (sql/macros/duckdb/partition_folder.sql) of the org_id and
 * the cycle_id: those are data, and a raw value could climb out of the export
 * or be too long for a file name. The files hold the real org_id and
 * cycle_id. The keys are not org_id and cycle_id because DuckDB's Hive reader
 * lets a folder's value replace a file column of the same name. The keys are
 * not written into the files: they are an encoding, and Spark and DataFusion
 * refuse a dataset whose files hold a column its folders also name.
 *
 * The export folder the user names is a symbolic link to a versioned folder.
 * Each build writes a new version beside the old one and then, once the
 * published copy naming it is in place, swaps the link with one rename,
 * which is atomic: a reader sees the old export or the new one, never a
 * half-written one, and a failed or killed build leaves the old one alone.
 * (DuckDB's COPY ... PARTITION_BY ... OVERWRITE would delete every partition
 * of the target first.)
 *
 * Each partition of the detail facts holds `settled_*.parquet` files, the
 * conversations whose last activity is before as-of, and `active_*.parquet`,
 * those still going at as-of. Readers glob the folder and see one table.
 * Night after night, what changes is mostly the active conversations
 * (their last activity is as-of), so after an incremental build only the
 * partitions in int_dirty_cycles are written, and of those only the active
 * file, plus a file of the conversations settled since the last build
 * (`settled_r<run>_*.parquet`) unless a conversation settled before
 * changed, which rewrites the partition's settled files whole; so does a
 * partition that already holds MAX_SETTLED_FILES of them. The counts are
 * written per partition too, only where a count changed, and the charges
 * only where a charge differs from the version reused (a price change moves
 * charges and no count: changed_charge_partitions). Every other file
 * comes from the previous version as a hard link, which costs no copying
 * and stays valid when the previous version is deleted. A marker file names
 * the build each version holds, so that a version left behind by a build
 * that failed after committing is never reused. The rows come from
 * int_exported_conversations, which narrows the stored conversations to the
 * partitions written before labelling them.
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
import { namedQuery } from '../project/named-queries.js';
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
  fct_conversation_charges: [
    'org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'platform', 'integration_id', 'conversations',
    'billable_conversations', 'currency', 'amount', 'price_scope', 'price_status',
  ],
};

const DETAIL = 'fct_billable_conversations';
const CHARGES = 'fct_conversation_charges';

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
  const reusable = current !== undefined && exportHoldsRun(parquetDir, build.previousRunId);
  const version = join(versions, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(version, { recursive: true });
  try {
    await openFilesForEveryPartition(warehouse);
    const dirty = reusable ? await dirtyPartitions(warehouse) : undefined;
    for (const [table, columns] of Object.entries(EXPORTED_TABLES)) {
      const folder = join(version, table);
      // A table with no rows writes no partition; the folder stays, so that
      // readers' globs find an empty table rather than a missing one.
      mkdirSync(folder, { recursive: true });
      const written = { table, columns, folder, previous: dirty && join(current as string, table) };
      if (table === DETAIL) await writeDetail(warehouse, written, dirty, build);
      else if (table === CHARGES) await writeCharges(warehouse, written);
      else await writeCounts(warehouse, written, dirty);
    }
    writeFileSync(join(version, RUN_MARKER), `${build.runId}\n${LAYOUT}\n`);
  } catch (error) {
    rmSync(version, { recursive: true, force: true });
    throw new RunError(`Writing the Parquet export to ${parquetDir} failed: ${engineMessage(error)}.`, { cause: error });
  }
  return { link, version, replaced: current };
}

/** One table of a version: its folder, and the same table's folder in the version reused (none: written whole). */
interface WrittenTable {
  table: string;
  columns: string[];
  folder: string;
  previous?: string;
}

const columnList = ({ table, columns }: WrittenTable) => columns.map((column) => `${table}.${column}`).join(', ');

/** The detail: a version not reused is written whole, from the mart; else from int_exported_conversations. */
async function writeDetail(
  warehouse: Engine, written: WrittenTable, dirty: DirtyPartitions | undefined, build: { runId: number; asOf: string },
): Promise<void> {
  const { table, columns, folder, previous } = written;
  if (dirty && previous) linkUnchanged(previous, folder, keptDetailFile(dirty));
  const rows = (file: string) => dirty
    ? `select ${columns.map((column) => `exported.${column}`).join(', ')}, ${partitionColumns('exported')}
       from int_exported_conversations as exported where exported.export_file = ${sqlString(file)}`
    : `select ${columnList(written)}, ${partitionColumns(table)} from ${table}
       where ${file === 'settled_added' ? 'false' : `${table}.last_activity_at ${file === 'settled' ? '<' : '>='} ${sqlString(build.asOf)}::timestamptz`}`;
  await copyPartitioned(warehouse, rows('settled'), folder, 'settled');
  await copyPartitioned(warehouse, rows('settled_added'), folder, `settled_r${build.runId}`);
  await copyPartitioned(warehouse, rows('active'), folder, `active_r${build.runId}`);
}

/** The counts: the partitions whose counts changed are written again, the others linked. */
async function writeCounts(warehouse: Engine, written: WrittenTable, dirty: DirtyPartitions | undefined): Promise<void> {
  const { table, folder, previous } = written;
  if (dirty && previous) linkUnchanged(previous, folder, (_file, partition) => !dirty.get(partition)?.countsChanged);
  const changed = dirty
    ? `semi join int_dirty_cycles on ${table}.org_id = int_dirty_cycles.org_id
       and ${table}.cycle_start = int_dirty_cycles.cycle_start and int_dirty_cycles.counts_changed`
    : '';
  await copyPartitioned(warehouse, `select ${columnList(written)}, ${partitionColumns(table)} from ${table} ${changed}`, folder, 'data');
}

/** The charges: the partitions whose charges differ from the reused version's are written again, the others linked. */
async function writeCharges(warehouse: Engine, written: WrittenTable): Promise<void> {
  const { table, folder, previous } = written;
  const changed = previous ? await changedChargeFolders(warehouse, previous) : undefined;
  if (changed) linkUnchanged(previous as string, folder, (_file, partition) => !changed.has(partition));
  const only = changed
    ? `semi join export_charge_folders as changed
       on partition_folder(${table}.org_id) = changed.${ORG_KEY} and partition_folder(${table}.cycle_id) = changed.${CYCLE_KEY}`
    : '';
  await copyPartitioned(warehouse, `select ${columnList(written)}, ${partitionColumns(table)} from ${table} ${only}`, folder, 'data');
}

/**
 * Points the export link at the version `exportParquet` wrote, with one
 * rename. Called right after the published copy naming that version is
 * renamed into place, so that readers of either see the build together.
 */
export function swapExportLink(exported: ExportVersion): void {
  // a build killed between making its link and renaming it leaves that link
  removeDeadSwaps(exported.link);
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

/**
 * DuckDB's partitioned writer keeps 100 files open by default; past that it
 * closes one and later opens another in the same folder, which left up to
 * twenty small files per partition at 260 partitions. One file per thread
 * and partition is what readers and the next build's links want; the limit
 * stays well under the usual 1024 file descriptors.
 */
async function openFilesForEveryPartition(warehouse: Engine): Promise<void> {
  const partitions = Number(await warehouse.value<bigint>(`select count(*) from dim_billing_cycles`));
  const threads = Number(await warehouse.value<bigint>(`select current_setting('threads')::bigint`));
  const limit = Math.min(800, Math.max(100, partitions * threads + 16));
  await warehouse.run(`set partitioned_write_max_open_files = ${limit}`);
}

/**
 * Whether the export link names a version of this layout written by build
 * `runId`: a build that committed and was killed before it published leaves
 * the link on an earlier build's version.
 */
export function exportHoldsRun(parquetDir: string, runId: number | null): boolean {
  const link = resolve(parquetDir);
  if (runId === null || !existsSync(link) || !lstatSync(link).isSymbolicLink()) return false;
  return heldRun(resolve(dirname(link), readlinkSync(link))) === runId;
}

/** Swap links of builds killed between making their link and renaming it. */
export function removeDeadSwaps(parquetDir: string): void {
  const link = resolve(parquetDir);
  removeLeftoversOfDeadProcesses(dirname(link), new RegExp(`^${literal(basename(link))}\\.swap-(\\d+)$`));
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
interface PartitionChange {
  settledRewritten: boolean;
  countsChanged: boolean;
}
type DirtyPartitions = Map<string, PartitionChange>;
const partitionKey = (orgFolder: string, cycleFolder: string) => JSON.stringify([orgFolder, cycleFolder]);

/** Past this many settled files, a partition's settled conversations are written again as one. */
const MAX_SETTLED_FILES = 8;

/**
 * The folders of int_dirty_cycles, encoded by the same macro as the rows
 * were: folder names are never decoded. Two cycles of an org sharing a
 * cycle_id share a folder, so their changes are merged.
 */
async function dirtyPartitions(warehouse: Engine): Promise<DirtyPartitions> {
  const rows = await warehouse.rows<{ org: string; cycle: string; settled_rewritten: boolean; counts_changed: boolean }>(
    `select ${partitionColumns('int_dirty_cycles')}, bool_or(settled_rewritten) as settled_rewritten, bool_or(counts_changed) as counts_changed
     from int_dirty_cycles
     group by all`,
  );
  return new Map(rows.map((row) => [
    partitionKey(`${ORG_KEY}=${row.org}`, `${CYCLE_KEY}=${row.cycle}`),
    { settledRewritten: row.settled_rewritten, countsChanged: row.counts_changed },
  ]));
}

/**
 * Before the models run: `cfg_export_rewrites` (org_folder, cycle_folder)
 * lists the partitions of the export the next version starts from whose
 * settled files are to be written again whole even if no settled
 * conversation changed (int_dirty_cycles reads it):
 * - a partition holding MAX_SETTLED_FILES of them already;
 * - one whose active file was written by an earlier build than the last
 *   (the partition has not changed since), or by a layout that did not name
 *   the build: it may hold conversations that ended at that build's as-of,
 *   settled now and in no settled file.
 * Empty when that export is not the last build's, which is written whole.
 */
export async function listSettledRewrites(warehouse: Engine, parquetDir: string, previousRunId: number | null): Promise<void> {
  await warehouse.run(`create or replace temp table cfg_export_rewrites (org_folder varchar, cycle_folder varchar)`);
  const link = resolve(parquetDir);
  if (!exportHoldsRun(link, previousRunId)) return;
  const detail = join(resolve(dirname(link), readlinkSync(link)), DETAIL);
  if (!existsSync(detail)) return;
  const rewrites: { org_folder: string; cycle_folder: string }[] = [];
  for (const orgFolder of readdirSync(detail)) {
    for (const cycleFolder of readdirSync(join(detail, orgFolder))) {
      const files = readdirSync(join(detail, orgFolder, cycleFolder));
      const crowded = files.filter((file) => file.startsWith('settled')).length >= MAX_SETTLED_FILES;
      const stale = files.some((file) => file.startsWith('active') && !file.startsWith(`active_r${previousRunId}_`));
      if (crowded || stale) rewrites.push({ org_folder: orgFolder.slice(ORG_KEY.length + 1), cycle_folder: cycleFolder.slice(CYCLE_KEY.length + 1) });
    }
  }
  if (rewrites.length === 0) return;
  await warehouse.run(
    `insert into cfg_export_rewrites select unnest($rows::struct(org_folder varchar, cycle_folder varchar)[], recursive := true)`,
    { rows: JSON.stringify(rewrites) },
  );
}

/** Whether a file of a previous version's partition (its partitionKey) is kept. */
type KeptFile = (file: string, partition: string) => boolean;
const keptDetailFile = (dirty: DirtyPartitions): KeptFile => (file, partition) => {
  const change = dirty.get(partition);
  return !change || (!change.settledRewritten && file.startsWith('settled'));
};

/**
 * The partitions of the charges to write, as partition keys, with the same
 * folders in the temp table export_charge_folders (org, cycle); undefined
 * when `previous`, the charges of the version this one starts from, holds no
 * file (a version from before the charges were exported): all of them.
 */
async function changedChargeFolders(warehouse: Engine, previous: string): Promise<Set<string> | undefined> {
  // DuckDB would read such a path as a pattern, and offers no escape
  if (!existsSync(previous) || readdirSync(previous).length === 0 || /[*?[\]{}]/.test(previous)) return undefined;
  await warehouse.run(`create or replace temp table export_charge_folders as ${namedQuery('changed_charge_partitions')}`, {
    previous_files: join(previous, '*', '*', '*.parquet'),
  });
  const folders = await warehouse.rows<{ org: string; cycle: string }>(`select ${ORG_KEY} as org, ${CYCLE_KEY} as cycle from export_charge_folders`);
  return new Set(folders.map((row) => partitionKey(`${ORG_KEY}=${row.org}`, `${CYCLE_KEY}=${row.cycle}`)));
}

/** Links every file of `from` this build leaves as it was into `to`. */
function linkUnchanged(from: string, to: string, kept: KeptFile): void {
  if (!existsSync(from)) return;
  for (const orgFolder of readdirSync(from)) {
    for (const cycleFolder of readdirSync(join(from, orgFolder))) {
      const partition = partitionKey(orgFolder, cycleFolder);
      const files = readdirSync(join(from, orgFolder, cycleFolder)).filter((file) => kept(file, partition));
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
