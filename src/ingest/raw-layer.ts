/**
 * The raw layer: every loaded file's rows as the file has them, and the
 * manifests that say which paths hold which content.
 *
 * - `raw_files`: one row per loaded content (a load), read one way: its
 *   first path, SHA-256, format, the columns as read, physical rows read.
 * - `raw_load_NNNNNN`: a CSV or JSON load's rows, one text column per file
 *   column, with `source_row`; a Parquet load is a copy of the file in the
 *   raw store (`<database>.raw/`) instead, read where it is needed.
 * - `raw_malformed_rows`: the physical rows a reader could not fit.
 * - `raw_paths`: each path's current content, and whether it was named
 *   with --input (such a path stays loaded until `convbill forget`).
 * - `raw_path_versions`: every content each path has held, so a path put
 *   back to an earlier version is told as reverted.
 *
 * Staging reads the temp view `raw_scope_rows`: the loads this build
 * stages, each through the projection its source's settings give it
 * (staging.ts), stored in `cfg_loads` with the build.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CANONICAL_COLUMNS } from '../config/contract-columns.js';
import { RunError } from '../engine/errors.js';
import { rawTableOf } from './readers.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';
import { createStateTables } from '../project/state-tables.js';

export async function createRawLayer(warehouse: Engine): Promise<void> {
  await retireLegacyLayer(warehouse);
  await createStateTables(warehouse, ['raw_files', 'raw_malformed_rows', 'raw_paths', 'raw_path_versions', 'cfg_loads']);
}

/**
 * Databases from before the raw layer kept files' own columns stored rows
 * already mapped, which a corrected mapping cannot reach. Their manifest and
 * rows are set aside under legacy names (kept, not deleted), and the next
 * build loads the sources again in full.
 */
async function retireLegacyLayer(warehouse: Engine): Promise<void> {
  const columns = await warehouse.columnsOf('raw_files');
  if (columns.length === 0 || columns.includes('read_fingerprint')) return;
  const oldest = await warehouse.value<bigint>(`select count(*) from duckdb_tables() where table_name = 'raw_rows' and not temporary`);
  if (oldest > 0n) await warehouse.run(`alter table raw_rows rename to legacy_raw_loaded_rows`);
  else await warehouse.run(`drop view if exists raw_rows`);
  await warehouse.run(`alter table raw_files rename to legacy_raw_files`);
  if ((await warehouse.columnsOf('raw_loaded_rows')).length > 0) await warehouse.run(`alter table raw_loaded_rows rename to legacy_raw_loaded_rows`);
  if ((await warehouse.columnsOf('convbill_state')).length > 0) await warehouse.run(`delete from convbill_state`);
}


/**
 * Stored copies no load names: what an ingest killed while copying (or
 * before its transaction committed) left in the raw store. The next load
 * with that number would overwrite its copy, but a killed night's file may
 * never come again. Only the holder of the database's lock calls this, so
 * no ingest is writing a copy meanwhile.
 */
export async function removeUnreferencedCopies(warehouse: Engine, rawStore: string | undefined): Promise<void> {
  if (!rawStore || !existsSync(rawStore)) return;
  // databases from before the raw layer keep their copies under the legacy manifest
  const legacy = (await warehouse.columnsOf('legacy_raw_files')).includes('stored_file');
  const named = await warehouse.rows<{ stored_file: string }>(
    `select stored_file from raw_files where stored_file is not null
     ${legacy ? 'union all select stored_file from legacy_raw_files where stored_file is not null' : ''}`,
  );
  const kept = new Set(named.map((row) => basename(row.stored_file)));
  for (const name of readdirSync(rawStore)) {
    if (STORED_COPY.test(name) && !kept.has(name)) rmSync(join(rawStore, name), { force: true });
  }
}

/** The name readers.ts gives a stored copy. */
const STORED_COPY = /^load-\d{6,}\.parquet$/;

/** Where a load's rows are: its table, or its stored Parquet copy read with row numbers. */
export function rawRelationOf(load: { load_id: number; stored_file: string | null }, rawStore: string | undefined): string {
  if (!load.stored_file) return rawTableOf(load.load_id);
  if (!rawStore) throw new RunError(`Load ${load.load_id} is a stored Parquet copy, which an in-memory database cannot read.`);
  const path = join(dirname(rawStore), load.stored_file);
  if (!existsSync(path)) {
    throw new RunError(`The stored copy of load ${load.load_id} (${path}) is missing; restore it beside the database or rebuild from the sources.`);
  }
  return `(select file_row_number + 1 as source_row, * exclude (file_row_number) from read_parquet(${sqlString(path)}, file_row_number = true))`;
}

/** The marker where a load's raw relation goes in its stored projection (staging.ts). */
export const RELATION = '@@relation@@';

/** A stored projection with the load's raw relation in place: the last marker, after any constant. */
export function withRelation(projection: string, relation: string): string {
  const at = projection.lastIndexOf(RELATION);
  return `${projection.slice(0, at)}${relation}${projection.slice(at + RELATION.length)}`;
}

/**
 * The temp table cfg_scope_loads (the loads a build stages) and the temp
 * view raw_scope_rows over them, each load through its projection in
 * cfg_loads. The raw relations of other loads are not even opened.
 */
export async function createScopeView(warehouse: Engine, rawStore: string | undefined, loadIds: number[]): Promise<void> {
  await warehouse.run(`create or replace temp table cfg_scope_loads (load_id integer primary key)`);
  if (loadIds.length > 0) await warehouse.run(`insert into cfg_scope_loads select unnest($ids::integer[])`, { ids: JSON.stringify(loadIds) });
  const loads = await warehouse.rows<{ load_id: number; stored_file: string | null; projection: string }>(
    `select cfg_loads.load_id, raw_files.stored_file, cfg_loads.projection
     from cfg_loads
     inner join raw_files on cfg_loads.load_id = raw_files.load_id
     semi join cfg_scope_loads on cfg_loads.load_id = cfg_scope_loads.load_id
     order by cfg_loads.load_id`,
  );
  const parts = loads.map((load) => withRelation(load.projection, rawRelationOf(load, rawStore)));
  // no load in scope: a relation of the right shape with no rows
  if (parts.length === 0) parts.push(EMPTY_SCOPE);
  await warehouse.run(`create or replace temp view raw_scope_rows as\n${parts.join('\nunion all by name\n')}`);
}

const EMPTY_SCOPE = `select null::integer as load_id, null::bigint as source_row,
    ${CANONICAL_COLUMNS.map((column) => `null::varchar as ${column}`).join(', ')},
    null::timestamptz as started_at_instant, null::timestamptz as ended_at_instant, null::timestamptz as occurred_at_instant,
    null::varchar as source_timezone, null::varchar as epoch_unit, null::varchar as default_row_kind, null::boolean as kept
  where false`;
