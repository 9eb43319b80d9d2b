/**
 * The published copy: a separate DuckDB file holding the marts and the run
 * history, for analysts, BI tools and `convbill query`. DuckDB lets one
 * process write a database file and nobody else open it meanwhile, so
 * readers never touch the working file: each successful build writes a new
 * copy beside the old one and renames it into place. A reader that opened
 * the old copy keeps reading it; the next open sees the new one.
 *
 * After an incremental build, the new copy starts as a file copy of the
 * current one and only what the build replaced changes; after a full refresh,
 * or when the current copy is not the last build's, it is written whole.
 */
import { constants, copyFileSync, existsSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { RunError, engineMessage } from './errors.js';
import { type Warehouse, sqlString } from './warehouse.js';

/**
 * Marts an incremental build changes in part, with the relation naming the
 * replaced keys: the facts per account, the counts per (org, cycle).
 */
const PARTIAL: Record<string, { replaced: string; keys: string[] }> = {
  fct_billable_conversations: {
    replaced: 'int_changed_conversations',
    keys: ['org_id', 'cycle_start', 'integration_id', 'customer_account_id'],
  },
  fct_conversation_counts: { replaced: 'int_dirty_cycles', keys: ['org_id', 'cycle_start'] },
};
/** Small tables copied whole every time. */
const WHOLE = [
  'fct_conversation_charges', 'dim_billing_cycles', 'dim_integrations', 'rejected_interactions', 'rpt_source_files', 'rpt_data_quality',
  'convbill_runs', 'convbill_run_partitions', 'convbill_count_changes',
];
/** Written by `convbill reconcile`, published once there is one. */
const OPTIONAL = ['rpt_invoice_reconciliation', 'rpt_reconciliation_alternatives', 'convbill_reconciliations'];
export const PUBLISHED_TABLES = [...Object.keys(PARTIAL), ...WHOLE, ...OPTIONAL];

export function publishedPathOf(db: string): string {
  const name = basename(db, extname(db));
  return join(dirname(db), `${name}_published${extname(db) || '.duckdb'}`);
}

/**
 * Publishes the marts of the committed build `runId`. `previousRunId` is the
 * build the current copy should hold for an incremental update (its
 * facts then change only where int_changed_conversations and int_dirty_cycles say).
 */
export async function publish(
  warehouse: Warehouse,
  target: string,
  runId: number,
  previousRunId: number | null,
): Promise<{ incremental: boolean }> {
  const staged = `${target}.next-${process.pid}`;
  rmSync(staged, { force: true });
  rmSync(`${staged}.wal`, { force: true });
  let incremental = false;
  try {
    if (previousRunId !== null && existsSync(target) && !existsSync(`${target}.wal`)) {
      // a copy-on-write clone where the file system offers one, else a copy
      copyFileSync(target, staged, constants.COPYFILE_FICLONE);
      await warehouse.run(`attach ${sqlString(staged)} as published`);
      const held = await warehouse
        .value<number | null>(`select max(run_id) from published.convbill_publication`)
        .catch(() => null);
      incremental = held === previousRunId;
      if (!incremental) {
        await warehouse.run('detach published');
        rmSync(staged, { force: true });
      }
    }
    if (!incremental) await warehouse.run(`attach ${sqlString(staged)} as published`);
    for (const table of PUBLISHED_TABLES) {
      if (OPTIONAL.includes(table) && (await warehouse.columnsOf(table)).length === 0) continue;
      const columns = await columnsOf(warehouse, table);
      const partial = PARTIAL[table];
      if (incremental && partial) {
        const matches = partial.keys.map((key) => `published.${table}.${key} = replaced.${key}`).join(' and ');
        await warehouse.run(`delete from published.${table} using ${partial.replaced} as replaced where ${matches}`);
        const fresh = partial.keys.map((key) => `${table}.${key} = replaced.${key}`).join(' and ');
        await warehouse.run(
          `insert into published.${table} (${columns})
           select ${columns} from ${table} semi join ${partial.replaced} as replaced on ${fresh}`,
        );
      } else {
        await warehouse.run(`create or replace table published.${table} as select ${columns} from ${table}`);
      }
    }
    await warehouse.run(`create or replace table published.convbill_publication as select $run_id::integer as run_id, now() as published_at`, {
      run_id: runId,
    });
    await warehouse.run('detach published');
  } catch (error) {
    await warehouse.run('detach published').catch(() => undefined);
    rmSync(staged, { force: true });
    throw new RunError(`Publishing the read-only copy ${target} failed: ${engineMessage(error)}.`, { cause: error });
  }
  renameSync(staged, target);
  return { incremental };
}

async function columnsOf(warehouse: Warehouse, table: string): Promise<string> {
  const columns = await warehouse.columnsOf(table);
  if (columns.length === 0) throw new RunError(`Cannot publish ${table}: the working database has no such table.`);
  return columns.join(', ');
}
