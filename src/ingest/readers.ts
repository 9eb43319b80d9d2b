/**
 * Readers: one file's content into the raw layer, as the file has it.
 *
 * DuckDB's own readers parse every file. A CSV is read in strict mode with
 * the header's columns, all as text; the lines that do not fit (too few or
 * too many fields, an unterminated quote, bytes invalid in the encoding, a
 * line over the size limit) are kept by the reader's `store_rejects` and
 * land in `raw_malformed_rows` with their line number and text. An NDJSON
 * file is read line by line the same way (a raw \x01 can never stand in
 * valid JSON, so it serves as a delimiter that splits nothing), then each
 * line that holds a JSON object becomes a row of its top-level keys. A
 * Parquet file is already columnar and compressed: the raw store keeps a
 * copy of the file itself.
 *
 * JavaScript only peeks at a file's first line (the CSV header, whether a
 * JSON file is an array) and never at its rows.
 */
import { constants, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { RunError, readerMessage } from '../engine/errors.js';
import { firstLine, headerOf, uniqueNames } from './file-peek.js';
import { copyWithLf, hasCarriageReturn } from './line-endings.js';
import type { FileFormat, SourceSpec } from './sources.js';
import type { Engine } from '../engine/engine.js';
import { sqlBoolean, sqlIdentifier, sqlInteger, sqlString } from '../engine/sql-text.js';

export interface RawContent {
  rowsRead: number;
  rowsMalformed: number;
  /** the columns as the file has them (JSON: its top-level keys) */
  columns: string[];
  /** a stored Parquet copy, relative to the database's folder */
  storedFile?: string;
  /** the table holding the rows (CSV, JSON; Parquet in an in-memory database) */
  rawTable?: string;
}

export const rawTableOf = (loadId: number) => `raw_load_${String(loadId).padStart(6, '0')}`;

/** Reads `file` as load `loadId`; inside the ingest's transaction. */
export async function readIntoRaw(
  warehouse: Engine,
  file: string,
  format: FileFormat,
  source: SourceSpec,
  loadId: number,
  rawStore: string | undefined,
  sizeBytes: number,
  /** whether the file holds a CR, when the caller already knows */
  carriageReturn?: boolean,
): Promise<RawContent> {
  const table = rawTableOf(loadId);
  const scratch = mkdtempSync(join(tmpdir(), 'convbill-input-'));
  try {
    if (sizeBytes === 0) {
      await warehouse.run(`create table ${table} (source_row bigint)`);
      return { rowsRead: 0, rowsMalformed: 0, columns: [], rawTable: table };
    }
    const readable = await readablePath(file, format, source, scratch, carriageReturn);
    if (format === 'parquet') return await readParquet(warehouse, readable, loadId, rawStore);
    const first = await firstLine(file, source);
    if (format === 'json' && /\.json(\.gz)?$/i.test(file) && first.trimStart().startsWith('[')) {
      return await readJsonArray(warehouse, readable, source, loadId);
    }
    return format === 'csv' ? await readCsv(warehouse, readable, source, loadId, first) : await readJsonLines(warehouse, readable, source, loadId);
  } catch (error) {
    if (error instanceof RunError) throw error;
    // the reader names the copy or link it read; the user knows the file
    const message = readerMessage(error).replace(/\S*convbill-(?:input|header)-[^/\s]+\/[^\s"';,]+/g, file);
    throw new RunError(`Cannot read ${file}: ${message}.`, { cause: error });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The path DuckDB reads `file` by. DuckDB's readers expand a path as a
 * pattern, with no escape: a name holding a pattern character is read
 * through a link with a plain name. A text file holding a CR is read from a
 * copy with LF line endings (line-endings.ts).
 */
async function readablePath(file: string, format: FileFormat, source: SourceSpec, scratch: string, carriageReturn?: boolean): Promise<string> {
  const plain = join(scratch, `input${/(\.[a-z]+(\.gz)?)$/i.exec(basename(file))?.[1] ?? ''}`);
  if (format !== 'parquet' && source.encoding !== 'utf-16' && (carriageReturn ?? (await hasCarriageReturn(file)))) {
    const copy = plain.replace(/\.gz$/i, '');
    await copyWithLf(file, copy);
    return copy;
  }
  if (!GLOB_CHARACTERS.test(file)) return file;
  symlinkSync(file, plain);
  return plain;
}

const GLOB_CHARACTERS = /[*?[\]{}]/;


async function readParquet(warehouse: Engine, file: string, loadId: number, rawStore: string | undefined): Promise<RawContent> {
  const described = await warehouse.rows<{ column_name: string }>(`describe select * from read_parquet(${sqlString(file)})`);
  const columns = described.map((row) => row.column_name);
  if (!rawStore) {
    const table = rawTableOf(loadId);
    await warehouse.run(
      `create table ${table} as select file_row_number + 1 as source_row, * exclude (file_row_number)
       from read_parquet(${sqlString(file)}, file_row_number = true)`,
    );
    const rows = await warehouse.value<bigint>(`select count(*) from ${table}`);
    return { rowsRead: Number(rows), rowsMalformed: 0, columns, rawTable: table };
  }
  mkdirSync(rawStore, { recursive: true });
  const storedFile = join(basename(rawStore), `load-${String(loadId).padStart(6, '0')}.parquet`);
  const copy = join(dirname(rawStore), storedFile);
  // a copy-on-write clone where the file system offers one, else a copy
  copyFileSync(file, copy, constants.COPYFILE_FICLONE);
  const rows = await warehouse.value<bigint>(`select count(*) from read_parquet(${sqlString(copy)})`);
  return { rowsRead: Number(rows), rowsMalformed: 0, columns, storedFile };
}

/** The reader options both line-based formats share. */
function commonOptions(source: SourceSpec, loadId: number): string {
  const options = [
    `auto_detect = false`,
    `store_rejects = true`,
    `rejects_table = 'tmp_rejects_${loadId}'`,
    `rejects_scan = 'tmp_reject_scans_${loadId}'`,
    `encoding = ${sqlString(source.encoding ?? 'utf-8')}`,
  ];
  if (source.maxLineSize !== undefined) options.push(`max_line_size = ${sqlInteger(source.maxLineSize)}`);
  return options.join(', ');
}

async function readCsv(warehouse: Engine, file: string, source: SourceSpec, loadId: number, first: string): Promise<RawContent> {
  const hasHeader = source.header ?? true;
  const quote = source.quote ?? '"';
  const { names, delimiter } = await headerOf(warehouse, first, source, file);
  const columns = hasHeader ? uniqueNames(names) : names.map((_, index) => `column${index}`);
  const table = rawTableOf(loadId);
  const struct = columns.map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ');
  await warehouse.run(
    `create table ${table} as
     select row_number() over () as source_row, *
     from read_csv(${sqlString(file)}, header = ${sqlBoolean(hasHeader)}, skip = 0, delim = ${sqlString(delimiter)},
                   quote = ${sqlString(quote)}, escape = ${sqlString(quote)}, columns = {${struct}}, ${commonOptions(source, loadId)})`,
  );
  // the reader numbers lines from the file's first; data rows from the line after the header
  const malformed = await keepRejects(warehouse, loadId, hasHeader ? 1 : 0, `'the row does not fit the header'`);
  await numberAroundRejects(warehouse, table, loadId, malformed);
  const rows = await warehouse.value<bigint>(`select count(*) from ${table}`);
  return { rowsRead: Number(rows) + malformed, rowsMalformed: malformed, columns, rawTable: table };
}

async function readJsonLines(warehouse: Engine, file: string, source: SourceSpec, loadId: number): Promise<RawContent> {
  const lines = `tmp_json_lines_${loadId}`;
  await warehouse.run(
    `create temp table ${lines} as
     select row_number() over () as source_row, line
     from read_csv(${sqlString(file)}, header = false, delim = '\x01', quote = '', escape = '',
                   columns = {'line': 'VARCHAR'}, ${commonOptions(source, loadId)})`,
  );
  const rejected = await keepRejects(warehouse, loadId, 0, `'the line is not one JSON object'`);
  await numberAroundRejects(warehouse, lines, loadId, rejected);
  // a line with nothing on it is no record
  await warehouse.run(`delete from ${lines} where trim(coalesce(line, ''), ' ' || chr(9) || chr(13)) = ''`);
  return recordsIntoRaw(warehouse, lines, loadId);
}

async function readJsonArray(warehouse: Engine, file: string, source: SourceSpec, loadId: number): Promise<RawContent> {
  const lines = `tmp_json_lines_${loadId}`;
  const size = source.maxLineSize !== undefined ? `, maximum_object_size = ${sqlInteger(source.maxLineSize)}` : '';
  await warehouse.run(
    `create temp table ${lines} as
     select row_number() over () as source_row, json::varchar as line
     from read_json_objects(${sqlString(file)}, format = 'array'${size})`,
  );
  return recordsIntoRaw(warehouse, lines, loadId);
}

/** DuckDB evaluates both sides of an `and`: the cast must not see invalid JSON. */
const IS_OBJECT = `coalesce(json_type(try_cast(line as json)) = 'OBJECT', false)`;

/** Lines holding a JSON object become rows of their top-level keys; the others are malformed. */
async function recordsIntoRaw(warehouse: Engine, lines: string, loadId: number): Promise<RawContent> {
  await warehouse.run(
    `insert into raw_malformed_rows
     select ${loadId}, source_row, source_row, line,
            case when json_valid(line) then 'the line is JSON but not an object' else 'the line is not valid JSON' end
     from ${lines}
     where not ${IS_OBJECT}`,
  );
  await warehouse.run(`delete from ${lines} where not ${IS_OBJECT}`);
  const keys = await warehouse.rows<{ key: string }>(
    `select key from (select unnest(json_keys(line::json)) as key, source_row from ${lines})
     group by key order by min(source_row), key`,
  );
  const columns = uniqueNames(keys.map((row) => row.key));
  const table = rawTableOf(loadId);
  // a key that is empty or holds NUL has no JSON path: its column stays empty
  const values = keys.map((row, index) => {
    // a path, quoted: a bare key starting with $ or / would be read as one
    const value = row.key === '' || row.key.includes('\0') ? 'null::varchar' : `line::json ->> ${sqlString(`$.${JSON.stringify(row.key)}`)}`;
    return `${value} as ${sqlIdentifier(columns[index] as string)}`;
  });
  await warehouse.run(`create table ${table} as select ${['source_row', ...values].join(', ')} from ${lines}`);
  const malformed = Number(await warehouse.value<bigint>(`select count(*) from raw_malformed_rows where load_id = ${loadId}`));
  const rows = Number(await warehouse.value<bigint>(`select count(*) from ${table}`));
  await warehouse.run(`drop table ${lines}`);
  return { rowsRead: rows + malformed, rowsMalformed: malformed, columns, rawTable: table };
}

/**
 * Moves the reader's rejects of this load into raw_malformed_rows, one row
 * per line (a short line is reported once per missing field), and returns
 * how many lines it rejected.
 */
async function keepRejects(warehouse: Engine, loadId: number, headerLines: number, fallback: string): Promise<number> {
  const rejects = `tmp_rejects_${loadId}`;
  const exists = await warehouse.value<bigint>(`select count(*) from duckdb_tables() where table_name = $name`, { name: rejects });
  if (exists === 0n) return 0;
  await warehouse.run(
    `insert into raw_malformed_rows
     select ${loadId}, line - ${headerLines}, line, first(csv_line order by column_idx),
            coalesce(first(error_message order by column_idx), ${fallback})
     from ${rejects}
     group by line`,
  );
  const count = await warehouse.value<bigint>(`select count(distinct line) from ${rejects}`);
  await warehouse.run(`drop table ${rejects}`);
  await warehouse.run(`drop table if exists tmp_reject_scans_${loadId}`);
  return Number(count);
}

/**
 * The reader skips the lines it rejects, so the rows it returns are
 * numbered 1..n without them. Renumbers the rows into the numbers the
 * rejected lines leave free, so every row keeps its place in the file.
 */
async function numberAroundRejects(warehouse: Engine, table: string, loadId: number, rejected: number): Promise<void> {
  if (rejected === 0) return;
  // The reader counts blank lines, which are no rows: past one, a rejected
  // line's number can overshoot the rows. Then the rejected rows are
  // numbered after the others, in file order (their line stays in raw).
  const [fit] = await warehouse.rows<{ overshoots: boolean; accepted: bigint }>(
    `select max(source_row) > (select count(*) from ${table}) + ${rejected} as overshoots, (select count(*) from ${table}) as accepted
     from raw_malformed_rows where load_id = ${loadId}`,
  );
  if (fit?.overshoots) {
    await warehouse.run(
      `update raw_malformed_rows set source_row = numbered.n
       from (select line, ${fit.accepted} + row_number() over (order by line) as n from raw_malformed_rows where load_id = ${loadId}) as numbered
       where raw_malformed_rows.load_id = ${loadId} and raw_malformed_rows.line = numbered.line`,
    );
    return;
  }
  await warehouse.run(
    `with free_numbers as (
         select n, row_number() over (order by n) as k
         from range(1, (select count(*) from ${table}) + ${rejected} + 1) as numbers(n)
         anti join (select source_row from raw_malformed_rows where load_id = ${loadId}) as taken on numbers.n = taken.source_row
     )
     update ${table} set source_row = free_numbers.n from free_numbers where ${table}.source_row = free_numbers.k`,
  );
}
