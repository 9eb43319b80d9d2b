/**
 * Parquet exports of the fact tables, Hive-partitioned by org and cycle.
 *
 * The export folder the user names is a symbolic link to a versioned folder.
 * Each build writes a new version beside the old one and then swaps the link
 * with one rename, which is atomic: a reader sees the old export or the new
 * one, never a half-written one, and a failed build leaves the old one alone.
 * (DuckDB's COPY ... PARTITION_BY ... OVERWRITE would delete every partition
 * of the target first.)
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
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

export async function exportParquet(warehouse: Warehouse, parquetDir: string): Promise<string> {
  const link = resolve(parquetDir);
  if (existsSync(link) && !lstatSync(link).isSymbolicLink()) {
    throw new RunError(
      `Parquet folder ${parquetDir} exists and is not a convbill export link; move it away or choose another parquet_dir.`,
    );
  }
  const versions = versionsDirectory(link);
  const version = join(versions, `${new Date().toISOString().replace(/[:.]/g, '-')}-${process.pid}`);
  mkdirSync(version, { recursive: true });
  try {
    for (const [table, columns] of Object.entries(EXPORTED_TABLES)) {
      await warehouse.run(
        `copy (select ${columns.join(', ')} from ${table}) to ${sqlString(join(version, table))}
         (format parquet, partition_by (org_id, cycle_id))`,
      );
      // A table with no rows writes no partition; keep the folder so that
      // readers' globs find an empty table rather than a missing one.
      mkdirSync(join(version, table), { recursive: true });
    }
  } catch (error) {
    rmSync(version, { recursive: true, force: true });
    throw new RunError(`Writing the Parquet export to ${parquetDir} failed: ${engineMessage(error)}.`, { cause: error });
  }
  const previous = existsSync(link) ? resolve(dirname(link), readlinkSync(link)) : undefined;
  const staged = `${link}.swap-${process.pid}`;
  rmSync(staged, { force: true });
  symlinkSync(join(`.${basename(link)}.versions`, basename(version)), staged);
  renameSync(staged, link);
  // Keep the version just replaced for readers still on it; drop older ones.
  for (const entry of readdirSync(versions)) {
    const path = join(versions, entry);
    if (path !== version && path !== previous) rmSync(path, { recursive: true, force: true });
  }
  return link;
}
