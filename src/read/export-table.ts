/**
 * `convbill export`: one table or view of a convbill database, optionally
 * filtered, to Parquet, CSV, NDJSON or an Arrow IPC file, in bounded memory.
 * Parquet, CSV and NDJSON go through DuckDB's own COPY, which streams and
 * spills; Arrow goes batch by batch from arrowBatches to the file. Every
 * format is written under a temporary name beside `out` and renamed at the
 * end, so a failed export leaves no half file behind.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { type FileHandle, open, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AsyncByteQueue, RecordBatchFileWriter } from 'apache-arrow';
import { arrowBatches } from './arrow.js';
import { ConfigError, RunError, engineMessage } from '../engine/errors.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { sqlIdentifier, sqlString } from '../engine/sql-text.js';

export type ExportFormat = 'parquet' | 'csv' | 'ndjson' | 'arrow';
export const EXPORT_FORMATS: ExportFormat[] = ['parquet', 'csv', 'ndjson', 'arrow'];

export interface ExportOptions {
  /** the database to read, opened read-only; the CLI passes the published copy, as for `convbill query` */
  db: string;
  /** a table or view of the database (schema main) */
  table: string;
  format: ExportFormat;
  out: string;
  /** a SQL condition on the table's columns, e.g. "org_id = 'acme'" */
  where?: string;
  /** DuckDB's memory limit, e.g. "512MB"; past it, DuckDB spills to disk */
  memoryLimit?: string;
  threads?: number;
}

export function parseExportFormat(value: string): ExportFormat {
  if (!(EXPORT_FORMATS as string[]).includes(value)) {
    throw new ConfigError(`Option --format must be one of ${EXPORT_FORMATS.join(', ')}, not "${value}".`);
  }
  return value as ExportFormat;
}

/** --format when given, else the format `out`'s name says (".csv.gz" is CSV), else Parquet. */
export function resolveExportFormat(flag: string | undefined, out: string): ExportFormat {
  if (flag !== undefined) return parseExportFormat(flag);
  const name = out.toLowerCase().replace(/\.(gz|zst)$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (/\.(ndjson|jsonl|json)$/.test(name)) return 'ndjson';
  if (/\.(arrow|feather|ipc)$/.test(name)) return 'arrow';
  return 'parquet';
}

/** Writes the table (filtered by `where`) to `out`; returns the number of rows written. */
export async function exportTable(options: ExportOptions): Promise<number> {
  const { db, format, out, where } = options;
  parseExportFormat(format);
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) {
    throw new ConfigError(`Cannot write ${out}: folder ${dirname(out)} does not exist.`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) throw new ConfigError(`Cannot write ${out}: it is a folder.`);
  const warehouse = await Warehouse.open(db, { readOnly: true, memoryLimit: options.memoryLimit, threads: options.threads });
  // Same folder as `out`, so the final rename is atomic; same ending, so DuckDB still sees ".csv.gz" and the like.
  const temporary = join(dirname(out), `.${process.pid}-${Date.now()}.tmp-${basename(out)}`);
  try {
    const table = await resolveTable(warehouse, db, options.table);
    const filter = where !== undefined && where.trim() !== '' ? where : undefined;
    const source = `select * from main.${sqlIdentifier(table)}${filter ? ` where (${filter})` : ''}`;
    if (filter) await checkFilter(warehouse, source, table, filter);
    const rows = await write(warehouse, format, await selectFor(warehouse, format, table, source), temporary).catch((error: unknown) => {
      if (error instanceof ConfigError) throw error;
      // arrowBatches already says "Query failed"; name the export instead.
      const cause = error instanceof RunError && error.cause !== undefined ? error.cause : error;
      const what = filter ? `${table} where ${filter}` : table;
      throw new RunError(`Exporting ${what} to ${out} failed: ${engineMessage(cause)}.`, { cause });
    });
    await rename(temporary, out);
    return rows;
  } finally {
    rmSync(temporary, { force: true, recursive: true });
    warehouse.close();
  }
}

async function resolveTable(warehouse: Warehouse, db: string, wanted: string): Promise<string> {
  const names = (
    await warehouse.rows<{ table_name: string }>(
      `select table_name from information_schema.tables
       where table_catalog = current_database() and table_schema = 'main' order by table_name`,
    )
  ).map((row) => row.table_name);
  // DuckDB identifiers are case-insensitive; an exact match wins over a case-folded one.
  const found = names.find((name) => name === wanted) ?? names.find((name) => name.toLowerCase() === wanted.toLowerCase());
  if (!found) {
    const known = names.length > 0 ? `its tables are ${names.join(', ')}` : 'it has no tables';
    throw new ConfigError(`Table "${wanted}" is not in ${db}; ${known}.`);
  }
  return found;
}

/** Binds the filtered query without reading a row, so a bad filter is a usage error before any file exists. */
async function checkFilter(warehouse: Warehouse, source: string, table: string, filter: string): Promise<void> {
  await warehouse.run(`select * from (${source}) limit 0`).catch((error: unknown) => {
    throw new ConfigError(`Option --where "${filter}" is not a valid filter on ${table}: ${engineMessage(error)}.`, { cause: error });
  });
}

/**
 * CSV and NDJSON have no instant type and DuckDB would write
 * "2024-01-10 09:00:00.123456+00"; write UTC ISO-8601 instead, with the
 * microseconds only when there are some, as `convbill query` prints them.
 */
async function selectFor(warehouse: Warehouse, format: ExportFormat, table: string, source: string): Promise<string> {
  if (format !== 'csv' && format !== 'ndjson') return source;
  const columns = await warehouse.rows<{ column_name: string; data_type: string }>(
    `select column_name, data_type from information_schema.columns
     where table_catalog = current_database() and table_schema = 'main' and table_name = $table order by ordinal_position`,
    { table },
  );
  const replaced = columns.flatMap(({ column_name: name, data_type: type }) => {
    const suffix = type === 'TIMESTAMP WITH TIME ZONE' ? 'Z' : type === 'TIMESTAMP' ? '' : undefined;
    return suffix === undefined ? [] : [`${isoInstant(sqlIdentifier(name), suffix)} as ${sqlIdentifier(name)}`];
  });
  return replaced.length === 0 ? source : `select * replace (${replaced.join(', ')}) from (${source})`;
}

function isoInstant(column: string, suffix: string): string {
  const fraction = `case when epoch_us(${column}) % 1000000 = 0 then '' when epoch_us(${column}) % 1000 = 0 then strftime(${column}, '.%g') else strftime(${column}, '.%f') end`;
  return `case when not isfinite(${column}) then ${column}::varchar else strftime(${column}, '%Y-%m-%dT%H:%M:%S') || ${fraction} || '${suffix}' end`;
}

async function write(warehouse: Warehouse, format: ExportFormat, select: string, path: string): Promise<number> {
  if (format === 'arrow') return writeArrowFile(warehouse, select, path);
  const how = format === 'parquet' ? await parquetOptions(warehouse) : format === 'csv' ? 'format csv, header true' : 'format json';
  const count = await warehouse.value<bigint | number>(`copy (${select}) to ${sqlString(path)} (${how})`);
  return Number(count);
}

const UNITS: Record<string, number> = { bytes: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/**
 * DuckDB's Parquet writer holds a row group (122,880 rows) per thread, and
 * more while it keeps insertion order: far past a small memory limit when
 * rows are wide. Row groups capped in bytes, a quarter of each thread's
 * share of the limit, keep it within; DuckDB caps them in bytes only
 * without insertion order, so Parquet rows come in no set order (SQL
 * promises none; CSV, NDJSON and Arrow keep the table's order).
 */
async function parquetOptions(warehouse: Warehouse): Promise<string> {
  const { memory_limit: limit, threads } = (
    await warehouse.rows<{ memory_limit: string; threads: bigint }>(
      `select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads`,
    )
  )[0]!;
  const match = /^([\d.]+)\s*(bytes|KiB|MiB|GiB|TiB)$/.exec(limit.trim());
  if (!match) return 'format parquet';
  const bytes = Number(match[1]) * (UNITS[match[2]!] ?? 1);
  await warehouse.run('set preserve_insertion_order = false');
  return `format parquet, row_group_size_bytes ${Math.max(2 ** 20, Math.floor(bytes / (4 * Number(threads))))}`;
}

/**
 * The Arrow writer queues its bytes without limit; this queue instead holds
 * them until the caller writes them out after each batch, so no more than
 * one batch's bytes wait in memory.
 */
class PendingBytes extends AsyncByteQueue {
  private chunks: Uint8Array[] = [];

  override write(value: Parameters<AsyncByteQueue['write']>[0]): void {
    if (!ArrayBuffer.isView(value)) throw new TypeError('Arrow writer produced a non-binary chunk.');
    if (value.byteLength > 0) this.chunks.push(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
  }

  async drainTo(file: FileHandle): Promise<void> {
    const chunks = this.chunks;
    this.chunks = [];
    if (chunks.length > 0) await file.writev(chunks);
  }
}

async function writeArrowFile(warehouse: Warehouse, select: string, path: string): Promise<number> {
  const file = await open(path, 'wx');
  try {
    const sink = new PendingBytes();
    const writer = new RecordBatchFileWriter().reset(sink);
    let rows = 0;
    for await (const batch of arrowBatches(warehouse, select)) {
      writer.write(batch);
      rows += batch.numRows;
      await sink.drainTo(file);
    }
    writer.close();
    await sink.drainTo(file);
    await file.sync();
    return rows;
  } finally {
    await file.close();
  }
}
