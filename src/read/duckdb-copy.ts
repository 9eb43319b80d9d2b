/**
 * Parquet, CSV and NDJSON files through DuckDB's own COPY, which streams and
 * spills, so a table larger than the memory limit still goes through.
 */
import type { CopyOptions, Engine } from '../engine/engine.js';
import { sqlIdentifier, sqlString } from '../engine/sql-text.js';

export type CopyFormat = 'parquet' | 'csv' | 'ndjson';

/** Writes the result of `source` (a select on `table`) to `path` as `format`; returns the number of rows. */
export async function copyToFile(warehouse: Engine, format: CopyFormat, table: string, source: string, path: string): Promise<number> {
  const select = await selectFor(warehouse, format, table, source);
  if (format === 'parquet') return warehouse.copy(select, path, 'parquet', await parquetOptions(warehouse));
  return warehouse.copy(select, path, format === 'csv' ? 'csv' : 'json');
}

/**
 * CSV and NDJSON have no instant type and DuckDB would write
 * "2024-01-10 09:00:00.123456+00"; write UTC ISO-8601 instead, with the
 * microseconds only when there are some, as `convbill query` prints them.
 */
async function selectFor(warehouse: Engine, format: CopyFormat, table: string, source: string): Promise<string> {
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
  return `case when not isfinite(${column}) then ${column}::varchar else strftime(${column}, '%Y-%m-%dT%H:%M:%S') || ${fraction} || ${sqlString(suffix)} end`;
}

const UNITS: Record<string, number> = { bytes: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/**
 * DuckDB's Parquet writer holds a row group (122,880 rows) per thread, and
 * more while it keeps insertion order: far past a small memory limit when
 * rows are wide. Row groups capped in bytes, a quarter of each thread's
 * share of the limit, keep it within; DuckDB caps them in bytes only
 * without insertion order, so the caller opens the session with
 * preserve_insertion_order off (set at open: a sandboxed session cannot
 * change it later) and Parquet rows come in no set order (SQL promises
 * none; CSV, NDJSON and Arrow keep the table's order).
 */
async function parquetOptions(warehouse: Engine): Promise<CopyOptions> {
  const { memory_limit: limit, threads } = (
    await warehouse.rows<{ memory_limit: string; threads: bigint }>(
      `select current_setting('memory_limit') as memory_limit, current_setting('threads') as threads`,
    )
  )[0]!;
  const match = /^([\d.]+)\s*(bytes|KiB|MiB|GiB|TiB)$/.exec(limit.trim());
  if (!match) return {};
  const bytes = Number(match[1]) * (UNITS[match[2]!] ?? 1);
  return { rowGroupSizeBytes: Math.max(2 ** 20, Math.floor(bytes / (4 * Number(threads)))) };
}
