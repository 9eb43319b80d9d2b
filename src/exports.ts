/**
 * Parquet exports of the fact tables, Hive-partitioned by org and cycle.
 *
 * The export folder the user names is a symbolic link to a versioned folder.
 * Each build writes a new version beside the old one and then swaps the link
 * with one rename, which is atomic: a reader sees the old export or the new
 * one, never a half-written one, and a failed build leaves the old one alone.
 * (DuckDB's COPY ... PARTITION_BY ... OVERWRITE would delete every partition
 * of the target first.)
 *
 * After an incremental build only the rewritten partitions (int_dirty_cycles)
 * are written; the new version takes every other partition from the previous
 * one as hard links, which cost no copying and stay valid when the previous
 * version is deleted. A marker file names the build each version holds, so
 * that a version left behind by a build that failed after committing is
 * never reused.
 */
import {
  existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { RunError, engineMessage } from './errors.js';
import { type Warehouse, sqlString } from './warehouse.js';

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

function versionsDirectory(parquetDir: string): string {
  const target = resolve(parquetDir);
  return join(dirname(target), `.${basename(target)}.versions`);
}

const RUN_MARKER = '_convbill_run';

export async function exportParquet(
  warehouse: Warehouse,
  parquetDir: string,
  build: { runId: number; previousRunId: number | null },
): Promise<string> {
  const link = resolve(parquetDir);
  if (existsSync(link) && !lstatSync(link).isSymbolicLink()) {
    throw new RunError(
      `Parquet folder ${parquetDir} exists and is not a convbill export link; move it away or choose another parquet_dir.`,
    );
  }
  const versions = versionsDirectory(link);
  const current = existsSync(link) ? resolve(dirname(link), readlinkSync(link)) : undefined;
  const reusable = current !== undefined && build.previousRunId !== null && heldRun(current) === build.previousRunId;
  const version = join(versions, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(version, { recursive: true });
  try {
    for (const [table, columns] of Object.entries(EXPORTED_TABLES)) {
      if (reusable) {
        await linkCleanPartitions(warehouse, join(current as string, table), join(version, table));
        const staging = join(version, `.staging-${table}`);
        await warehouse.run(
          `copy (select ${columns.join(', ')} from ${table}
                 semi join int_dirty_cycles
                     on ${table}.org_id = int_dirty_cycles.org_id and ${table}.cycle_start = int_dirty_cycles.cycle_start)
           to ${sqlString(staging)} (format parquet, partition_by (org_id, cycle_id))`,
        );
        movePartitions(staging, join(version, table));
      } else {
        await warehouse.run(
          `copy (select ${columns.join(', ')} from ${table}) to ${sqlString(join(version, table))}
           (format parquet, partition_by (org_id, cycle_id))`,
        );
      }
      // A table with no rows writes no partition; keep the folder so that
      // readers' globs find an empty table rather than a missing one.
      mkdirSync(join(version, table), { recursive: true });
    }
    writeFileSync(join(version, RUN_MARKER), `${build.runId}\n`);
  } catch (error) {
    rmSync(version, { recursive: true, force: true });
    throw new RunError(`Writing the Parquet export to ${parquetDir} failed: ${engineMessage(error)}.`, { cause: error });
  }
  const staged = `${link}.swap-${process.pid}`;
  rmSync(staged, { force: true });
  symlinkSync(join(`.${basename(link)}.versions`, basename(version)), staged);
  renameSync(staged, link);
  // Keep the version just replaced for readers still on it; drop older ones.
  for (const entry of readdirSync(versions)) {
    const path = join(versions, entry);
    if (path !== version && path !== current) rmSync(path, { recursive: true, force: true });
  }
  return link;
}

function heldRun(version: string): number | undefined {
  try {
    return Number(readFileSync(join(version, RUN_MARKER), 'utf8').trim());
  } catch {
    return undefined;
  }
}

/** Hive folder names percent-encode the value; decoding is unambiguous. */
const partitionValue = (folder: string) => decodeURIComponent(folder.slice(folder.indexOf('=') + 1));

/** Links every partition of `from` that this build did not rewrite into `to`. */
async function linkCleanPartitions(warehouse: Warehouse, from: string, to: string): Promise<void> {
  mkdirSync(to, { recursive: true });
  if (!existsSync(from)) return;
  const dirty = new Set(
    (await warehouse.rows<{ org_id: string; cycle_id: string }>(`select org_id, cycle_id from int_dirty_cycles`)).map(
      (row) => JSON.stringify([row.org_id, row.cycle_id]),
    ),
  );
  for (const orgFolder of readdirSync(from)) {
    for (const cycleFolder of readdirSync(join(from, orgFolder))) {
      if (dirty.has(JSON.stringify([partitionValue(orgFolder), partitionValue(cycleFolder)]))) continue;
      const target = join(to, orgFolder, cycleFolder);
      mkdirSync(target, { recursive: true });
      for (const file of readdirSync(join(from, orgFolder, cycleFolder))) {
        linkSync(join(from, orgFolder, cycleFolder, file), join(target, file));
      }
    }
  }
}

/** Moves the partitions DuckDB wrote into a staging folder into the table's folder. */
function movePartitions(staging: string, to: string): void {
  if (existsSync(staging)) {
    for (const orgFolder of readdirSync(staging)) {
      mkdirSync(join(to, orgFolder), { recursive: true });
      for (const cycleFolder of readdirSync(join(staging, orgFolder))) {
        renameSync(join(staging, orgFolder, cycleFolder), join(to, orgFolder, cycleFolder));
      }
    }
  }
  rmSync(staging, { recursive: true, force: true });
}
