/**
 * The raw layer: the load manifest `raw_files` and the rows of every file
 * loaded so far, as the view `raw_rows` that the models read.
 *
 * Where the rows land: CSV and JSON rows are copied into `raw_loaded_rows`.
 * A Parquet file is already columnar and compressed, so the warehouse keeps
 * a copy of the file itself in its raw store (`<database>.raw/`) and reads
 * it through the `raw_rows` view, with the same projection: copying a file
 * is a small fraction of the cost of re-encoding its rows into the database.
 * `raw_rows` (a view) is the union of both, and all the models read it.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CANONICAL_COLUMNS, TIMESTAMP_COLUMNS } from './columns.js';
import { RunError } from './errors.js';
import { type Warehouse, sqlString } from './warehouse.js';

export async function createRawLayer(warehouse: Warehouse): Promise<void> {
  // Databases from before the raw store kept every row in a table raw_rows.
  const legacy = await warehouse.value<bigint>(
    `select count(*) from duckdb_tables() where database_name = current_database() and schema_name = 'main' and table_name = 'raw_rows'`,
  );
  if (legacy > 0n) await warehouse.run(`alter table raw_rows rename to raw_loaded_rows`);
  await warehouse.run(`
    create table if not exists raw_files (
        load_id integer primary key,
        source_file varchar not null,
        content_hash varchar not null,
        size_bytes bigint not null,
        format varchar not null,
        source_timezone varchar not null,
        default_row_kind varchar not null,
        rows_read bigint not null,
        loaded_at timestamptz not null,
        superseded_by integer
    )`);
  // where a stored Parquet copy is, relative to the database's folder, and
  // the projection that reads it into raw_rows' columns
  await warehouse.run(`alter table raw_files add column if not exists stored_file varchar`);
  await warehouse.run(`alter table raw_files add column if not exists stored_projection varchar`);
  const columns = CANONICAL_COLUMNS.map((column) => `${column} varchar`).join(', ');
  const instants = TIMESTAMP_COLUMNS.map((column) => `${column}_instant timestamptz`).join(', ');
  await warehouse.run(`
    create table if not exists raw_loaded_rows (
        load_id integer not null,
        source_row bigint not null,
        ${columns},
        ${instants}
    )`);
  // Databases made before the typed-instant columns existed gain them empty.
  for (const column of TIMESTAMP_COLUMNS) {
    await warehouse.run(`alter table raw_loaded_rows add column if not exists ${column}_instant timestamptz`);
  }
}

/** The folder of stored Parquet copies of a database file. */
export function rawStoreOf(db: string): string | undefined {
  return db === ':memory:' ? undefined : `${resolve(db)}.raw`;
}

/**
 * (Re)creates the raw_rows view over the loaded rows and the stored Parquet
 * copies, with the copies' paths as they are now.
 */
export async function refreshRawRowsView(warehouse: Warehouse, rawStore: string | undefined): Promise<void> {
  await warehouse.run(`create or replace view raw_rows as\n${await rawRowsSql(warehouse, rawStore, 'raw_files')}`);
}

/**
 * The temp view raw_scope_rows: the rows of the loads listed in the temp
 * table cfg_scope_loads only, the ones a build stages. Stored Parquet copies
 * of other loads are not even opened.
 */
export async function createScopeView(warehouse: Warehouse, rawStore: string | undefined, loadIds: number[]): Promise<void> {
  await warehouse.run(`create or replace temp table cfg_scope_loads (load_id integer primary key)`);
  if (loadIds.length > 0) await warehouse.run(`insert into cfg_scope_loads select unnest(${listOf(loadIds)})`);
  const sql = await rawRowsSql(warehouse, rawStore, 'cfg_scope_loads');
  await warehouse.run(`create or replace temp view raw_scope_rows as\n${sql}`);
}

const listOf = (ids: number[]) => `[${ids.join(', ')}]::integer[]`;

async function rawRowsSql(warehouse: Warehouse, rawStore: string | undefined, loads: 'raw_files' | 'cfg_scope_loads'): Promise<string> {
  const stored = await warehouse.rows<{ load_id: number; stored_file: string; stored_projection: string }>(
    `select raw_files.load_id, raw_files.stored_file, raw_files.stored_projection
     from raw_files
     where raw_files.stored_file is not null${loads === 'raw_files' ? '' : ` and raw_files.load_id in (select load_id from ${loads})`}
     order by raw_files.load_id`,
  );
  const columns = ['load_id', 'source_row', ...CANONICAL_COLUMNS, ...TIMESTAMP_COLUMNS.map((column) => `${column}_instant`)];
  const loaded = loads === 'raw_files' ? '' : ` where load_id in (select load_id from ${loads})`;
  const parts = [`select ${columns.join(', ')} from raw_loaded_rows${loaded}`];
  for (const load of stored) {
    if (!rawStore) throw new RunError(`Load ${load.load_id} is a stored Parquet copy, which an in-memory database cannot read.`);
    const path = join(dirname(rawStore), load.stored_file);
    if (!existsSync(path)) {
      throw new RunError(`The stored copy of load ${load.load_id} (${path}) is missing; restore it beside the database or rebuild from the sources.`);
    }
    parts.push(`select ${load.stored_projection} from read_parquet(${sqlString(path)}, file_row_number = true)`);
  }
  return parts.join('\nunion all\n');
}
