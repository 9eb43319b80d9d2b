/**
 * Ingest: source files into the raw layer (`raw_files`, `raw_rows`).
 *
 * DuckDB's own readers parse every file; JavaScript only lists and hashes
 * files. Values land as text exactly as read (the staging model trims and
 * parses them), each row with its lineage: load id and 1-based row number.
 * Timestamps a file already types (Parquet TIMESTAMP/TIMESTAMPTZ/DATE) land
 * in `<column>_instant` instead: turning them into text only to parse them
 * back would cost more than the rest of staging.
 *
 * A file whose content hash is already loaded adds nothing; a changed file at
 * a known path is loaded anew and supersedes the older version's rows. Where
 * the rows land is the raw layer's business (raw-layer.ts).
 */
import { createHash } from 'node:crypto';
import { constants, copyFileSync, createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CANONICAL_COLUMNS, TIMESTAMP_COLUMNS, type CanonicalColumn, type ColumnMapping } from './columns.js';
import { ConfigError, RunError, engineMessage } from './errors.js';
import { createRawLayer, refreshRawRowsView } from './raw-layer.js';
import { type Warehouse, sqlIdentifier, sqlString } from './warehouse.js';

export interface SourceSpec {
  /** a file, a directory (read recursively) or a glob */
  path: string;
  /** how timestamps without an offset are read */
  timezone: string;
  columns: ColumnMapping;
}

export type FileFormat = 'csv' | 'json' | 'parquet';

export interface FileLoad {
  file: string;
  status: 'loaded' | 'already_loaded';
  loadId: number;
  rows: number;
  /** the load this one supersedes (same path, other content) */
  supersedes: number[];
}

export interface IngestReport {
  files: FileLoad[];
  /** files found in directories or globs whose extension we do not read */
  skipped: string[];
}

const FORMATS: [RegExp, FileFormat][] = [
  [/\.(csv|tsv)(\.gz)?$/i, 'csv'],
  [/\.(ndjson|jsonl|json)(\.gz)?$/i, 'json'],
  [/\.parquet$/i, 'parquet'],
];

export function formatOf(file: string): FileFormat | undefined {
  return FORMATS.find(([pattern]) => pattern.test(file))?.[1];
}

/**
 * Loads the sources. `rawStore` is the folder for Parquet copies (beside the
 * database); without one (an in-memory database) Parquet rows are copied in.
 */
export async function ingest(warehouse: Warehouse, sources: SourceSpec[], rawStore?: string): Promise<IngestReport> {
  await createRawLayer(warehouse);
  const report: IngestReport = { files: [], skipped: [] };
  for (const source of sources) {
    const { files, skipped } = await expandSource(warehouse, source.path);
    report.skipped.push(...skipped);
    for (const file of files) report.files.push(await loadFile(warehouse, file, source, rawStore));
  }
  await refreshRawRowsView(warehouse, rawStore);
  return report;
}

/** A path, directory or glob to the data files it names, in a stable order. */
async function expandSource(
  warehouse: Warehouse,
  path: string,
): Promise<{ files: string[]; skipped: string[] }> {
  const isGlob = /[*?[]/.test(path);
  let candidates: string[];
  if (isGlob || (existsSync(path) && statSync(path).isDirectory())) {
    const pattern = isGlob ? resolve(path) : `${resolve(path)}/**`;
    const rows = await warehouse.rows<{ file: string }>(`select file from glob(${sqlString(pattern)}) order by file`);
    candidates = rows.map((row) => row.file).filter((file) => statSync(file).isFile());
    if (candidates.length === 0) throw new ConfigError(`Input ${path} matches no file.`);
  } else if (existsSync(path)) {
    const file = resolve(path);
    if (!formatOf(file)) {
      throw new ConfigError(
        `Input file ${path} has an extension convbill does not read (use .csv, .csv.gz, .ndjson, .jsonl, .json, .json.gz or .parquet).`,
      );
    }
    candidates = [file];
  } else {
    throw new ConfigError(`Input file ${path} does not exist.`);
  }
  const files = candidates.filter((file) => formatOf(file) !== undefined);
  const skipped = candidates.filter((file) => formatOf(file) === undefined);
  if (files.length === 0) throw new ConfigError(`Input ${path} holds no .csv, .json, .ndjson, .jsonl or .parquet file.`);
  return { files, skipped };
}

async function hashFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function loadFile(warehouse: Warehouse, file: string, source: SourceSpec, rawStore: string | undefined): Promise<FileLoad> {
  const contentHash = await hashFile(file);
  const [known] = await warehouse.rows<{ load_id: number; rows_read: bigint }>(
    `select load_id, rows_read from raw_files where content_hash = $hash order by load_id limit 1`,
    { hash: contentHash },
  );
  if (known) {
    return { file, status: 'already_loaded', loadId: known.load_id, rows: Number(known.rows_read), supersedes: [] };
  }
  const format = formatOf(file) as FileFormat;
  const sizeBytes = statSync(file).size;
  return warehouse.transaction(async () => {
    const loadId = (await warehouse.value<number>(`select coalesce(max(load_id), 0) + 1 from raw_files`)) ?? 1;
    const read = sizeBytes === 0 ? undefined : await readerSelect(warehouse, file, format, source);
    const projection = read?.projection.replace('$load_id', String(loadId));
    let stored: string | undefined;
    let rows = 0;
    try {
      if (read && format === 'parquet' && rawStore) {
        mkdirSync(rawStore, { recursive: true });
        stored = join(basename(rawStore), `load-${String(loadId).padStart(6, '0')}.parquet`);
        const copy = join(dirname(rawStore), stored);
        // a copy-on-write clone where the file system offers one, else a copy
        copyFileSync(file, copy, constants.COPYFILE_FICLONE);
        rows = Number(await warehouse.value<bigint>(`select count(*) from read_parquet(${sqlString(copy)})`));
      } else if (read) {
        await warehouse.run(`insert into raw_loaded_rows by name select ${projection} from ${read.reader}`);
        rows = Number(await warehouse.value<bigint>(`select count(*) from raw_loaded_rows where load_id = ${loadId}`));
      }
    } catch (error) {
      throw new RunError(`Cannot read ${file}: ${engineMessage(error)}.`, { cause: error });
    }
    const defaultRowKind = read?.defaultRowKind ?? 'interaction';
    const older = await warehouse.rows<{ load_id: number }>(
      `update raw_files set superseded_by = ${loadId} where source_file = $file and superseded_by is null returning load_id`,
      { file },
    );
    await warehouse.run(
      `insert into raw_files
       (load_id, source_file, content_hash, size_bytes, format, source_timezone, default_row_kind, rows_read, loaded_at,
        superseded_by, stored_file, stored_projection)
       values ($load_id, $file, $hash, $size, $format, $tz, $kind, $rows, now(), null, $stored, $projection)`,
      {
        stored: stored ?? null,
        projection: stored ? (projection as string) : null,
        load_id: loadId,
        file,
        hash: contentHash,
        size: sizeBytes,
        format,
        tz: source.timezone,
        kind: defaultRowKind,
        rows,
      },
    );
    return { file, status: 'loaded', loadId, rows, supersedes: older.map((row) => row.load_id) } satisfies FileLoad;
  });
}

/**
 * The projection that reads one file (through `reader`) into raw_rows' columns, every value as text,
 * with the mapping applied: the mapped source column if the file has it, else
 * the canonical name, else null (the staging checks reject what is missing).
 */
async function readerSelect(
  warehouse: Warehouse,
  file: string,
  format: FileFormat,
  source: SourceSpec,
): Promise<{ projection: string; reader: string; defaultRowKind: string }> {
  const mapping = source.columns;
  const path = sqlString(file);
  if (format === 'json') {
    // Naming the keys we want reads them all as text, however many records the
    // sampler would have looked at, and ignores the rest.
    const wanted = new Set<string>();
    for (const column of CANONICAL_COLUMNS) {
      wanted.add(column);
      if (mapping[column]) wanted.add(mapping[column]);
    }
    const columns = [...wanted].map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ');
    const projections = CANONICAL_COLUMNS.map((column) => {
      const mapped = mapping[column];
      const expression = mapped && mapped !== column
        ? `coalesce(${sqlIdentifier(mapped)}, ${sqlIdentifier(column)})`
        : sqlIdentifier(column);
      return `${expression} as ${column}`;
    });
    const noInstants = TIMESTAMP_COLUMNS.map((column) => `null::timestamptz as ${column}_instant`);
    return {
      projection: `$load_id as load_id, row_number() over () as source_row, ${[...projections, ...noInstants].join(', ')}`,
      reader: `read_json(${path}, format = 'auto', columns = {${columns}})`,
      defaultRowKind: 'interaction',
    };
  }
  const reader = format === 'csv'
    ? `read_csv(${path}, header = true, all_varchar = true)`
    : `read_parquet(${path}, file_row_number = true)`;
  let described: { column_name: string; column_type: string }[];
  try {
    described = await warehouse.rows(`describe select * from ${reader}`);
  } catch (error) {
    throw new RunError(`Cannot read ${file}: ${engineMessage(error)}.`, { cause: error });
  }
  const present = described.map((row) => row.column_name);
  const typeOf = (name: string) => described.find((row) => row.column_name === name)?.column_type ?? 'VARCHAR';
  const find = (name: string | undefined) =>
    name === undefined ? undefined : present.find((column) => column === name) ?? present.find((column) => column.toLowerCase() === name.toLowerCase());
  const sourceOf = (column: CanonicalColumn) => find(mapping[column]) ?? find(column);
  const isTyped = (column: CanonicalColumn) => {
    const name = sourceOf(column);
    return name !== undefined && (TIMESTAMP_COLUMNS as readonly string[]).includes(column) && /^(TIMESTAMP|DATE)/.test(typeOf(name));
  };
  const projections = CANONICAL_COLUMNS.map((column) => {
    const name = sourceOf(column);
    return name === undefined || isTyped(column) ? `null::varchar as ${column}` : `${sqlIdentifier(name)}::varchar as ${column}`;
  });
  const instants = TIMESTAMP_COLUMNS.map((column) => {
    const name = sourceOf(column);
    if (name === undefined || !isTyped(column)) return `null::timestamptz as ${column}_instant`;
    const type = typeOf(name);
    if (type.startsWith('TIMESTAMP WITH TIME ZONE')) return `${sqlIdentifier(name)} as ${column}_instant`;
    // a wall-clock value: read in the source's timezone, like offset-less text
    return source.timezone === 'UTC'
      ? `${sqlIdentifier(name)}::timestamp::timestamptz as ${column}_instant`
      : `timezone(${sqlString(source.timezone)}, ${sqlIdentifier(name)}::timestamp) as ${column}_instant`;
  });
  const rowNumber = format === 'parquet' ? 'file_row_number + 1' : 'row_number() over ()';
  const defaultRowKind = sourceOf('started_at') === undefined && sourceOf('occurred_at') !== undefined ? 'message' : 'interaction';
  return {
    projection: `$load_id as load_id, ${rowNumber} as source_row, ${[...projections, ...instants].join(', ')}`,
    reader,
    defaultRowKind,
  };
}
