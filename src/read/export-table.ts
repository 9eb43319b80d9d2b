/**
 * `convbill export`: one table or view of a convbill database, optionally
 * filtered, to Parquet, CSV, NDJSON or an Arrow IPC file, in bounded memory.
 * This module checks the request, then hands the query to DuckDB's COPY
 * (duckdb-copy.ts: Parquet, CSV, NDJSON) or to the Arrow IPC writer
 * (arrow-ipc.ts). Every format is written under a temporary name beside
 * `out` and renamed at the end, so a failed export leaves no half file behind.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeArrowFile } from './arrow-ipc.js';
import { type CopyFormat, copyToFile } from './duckdb-copy.js';
import { ConfigError, RunError, engineMessage } from '../engine/errors.js';
import { isRefusal } from '../engine/duckdb/sandbox.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { sqlIdentifier } from '../engine/sql-text.js';

export type ExportFormat = CopyFormat | 'arrow';
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

/**
 * --format when given, else the format `out`'s name says (".csv.gz" is CSV),
 * else, for a name without an extension, Parquet. An extension none of the
 * formats writes is refused rather than given Parquet under a wrong name.
 */
export function resolveExportFormat(flag: string | undefined, out: string): ExportFormat {
  if (flag !== undefined) return parseExportFormat(flag);
  const file = basename(out).toLowerCase();
  // DuckDB compresses text by the name's last extension; Parquet and Arrow it would not
  const name = file.replace(/\.(gz|zst)$/, '');
  if (name.endsWith('.csv')) return 'csv';
  if (/\.(ndjson|jsonl|json)$/.test(name)) return 'ndjson';
  const extension = /.(\.[^.]+)$/.exec(file)?.[1];
  if (/^\.(arrow|feather|ipc)$/.test(extension ?? '')) return 'arrow';
  if (extension === undefined || extension === '.parquet' || extension === '.pq') return 'parquet';
  throw new ConfigError(
    `--out ${out} ends in "${extension}", which convbill export does not write: name it .parquet, .csv, .ndjson (.jsonl, .json) or .arrow, or pass --format.`,
  );
}

/** What the export's closing line calls each format. */
export const FORMAT_NAMES: Record<ExportFormat, string> = { parquet: 'Parquet', csv: 'CSV', ndjson: 'NDJSON (one JSON object per line)', arrow: 'Arrow IPC' };

/** Writes the table (filtered by `where`) to `out`; returns the number of rows written. */
export async function exportTable(options: ExportOptions): Promise<number> {
  const { db, format, out, where } = options;
  parseExportFormat(format);
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) {
    throw new ConfigError(`Cannot write ${out}: folder ${dirname(out)} does not exist.`);
  }
  if (existsSync(out) && statSync(out).isDirectory()) throw new ConfigError(`Cannot write ${out}: it is a folder.`);
  // Same folder as `out`, so the final rename is atomic; same ending, so DuckDB still sees ".csv.gz" and the like.
  const temporary = join(dirname(out), `.${process.pid}-${Date.now()}.tmp-${basename(out)}`);
  // --where is the user's SQL: the session reads the database only and writes that one file (see query.ts).
  const warehouse = await Warehouse.open(db, {
    readOnly: true,
    memoryLimit: options.memoryLimit,
    threads: options.threads,
    // duckdb-copy.ts: Parquet row groups are capped in bytes only without insertion order
    preserveInsertionOrder: format !== 'parquet',
    sandbox: { allowedPaths: [temporary] },
  });
  try {
    const table = await resolveTable(warehouse, db, options.table);
    const filter = where !== undefined && where.trim() !== '' ? where : undefined;
    const source = `select * from main.${sqlIdentifier(table)}${filter ? ` where (${filter})` : ''}`;
    if (filter) await checkFilter(warehouse, source, table, filter);
    const writing = format === 'arrow' ? writeArrowFile(warehouse, source, temporary) : copyToFile(warehouse, format, table, source, temporary);
    const rows = await writing.catch((error: unknown) => {
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

/**
 * Binds the filtered query without reading a row, so a bad filter is a usage
 * error before any file exists. It must stay one statement: a filter that
 * closes the select and starts another is refused, as is one that reaches
 * past the database (the sandbox's words, exit 1).
 */
async function checkFilter(warehouse: Warehouse, source: string, table: string, filter: string): Promise<void> {
  await warehouse.checkUserStatement(source).catch((error: unknown) => {
    if (isRefusal(error)) {
      throw new RunError(`Option --where "${filter}" was refused: ${engineMessage(error)} (the filter reads ${table} only).`, { cause: error });
    }
    const reason = engineMessage(error).replace(/^(Failed to extract statements: )?Parser Error: /, '');
    throw new ConfigError(`Option --where "${filter}" is not a valid filter on ${table}: ${reason}.`, { cause: error });
  });
}
