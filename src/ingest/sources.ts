/**
 * Sources: what a source's settings say, their check before anything loads,
 * and which files a source (or an --input path) names.
 *
 * A source's settings split in two (docs/billing-rules.md §4): how its files are *read*
 * (format options: encoding, header, delimiter, quote, line size, and the
 * Hive values of the path) shape the raw layer, so changing them reads the
 * file again; how its rows are *staged* (mapping, constants, filter,
 * timezone, epoch unit) is applied on every build, so a corrected setting
 * takes effect without reloading anything.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { type CanonicalColumn, type ColumnMapping } from '../config/contract-columns.js';
import { ConfigError } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';

export type EpochUnit = 's' | 'ms' | 'us';
export const EPOCH_UNITS: readonly EpochUnit[] = ['s', 'ms', 'us'];
/** the encodings DuckDB's CSV reader decodes itself */
export const ENCODINGS = ['utf-8', 'latin-1', 'utf-16'] as const;
export type Encoding = (typeof ENCODINGS)[number];

export interface SourceSpec {
  /** a file, a directory (read recursively) or a glob */
  path: string;
  /** how timestamps without an offset are read */
  timezone: string;
  columns: ColumnMapping;
  /** contract columns given one value for every row, e.g. {"org_id": "acme"} */
  constants?: Partial<Record<CanonicalColumn, string>>;
  /** a SQL condition over the source's own columns; rows it leaves out are counted as filtered */
  filter?: string;
  /** what an integer timestamp counts; default ms */
  epochUnit?: EpochUnit;
  encoding?: Encoding;
  /** CSV: whether the first line names the columns; default true */
  header?: boolean;
  /** CSV: one character; default sniffed from the header line (tab for .tsv) */
  delimiter?: string;
  /** CSV: default '"' */
  quote?: string;
  /** the longest line in bytes a reader accepts; default DuckDB's 2,000,000 */
  maxLineSize?: number;
  /** the config key the settings come from, for messages: "sources[1]"; "" for the top-level defaults */
  key?: string;
}

export type FileFormat = 'csv' | 'json' | 'parquet';

const FORMATS: [RegExp, FileFormat][] = [
  [/\.(csv|tsv)(\.gz)?$/i, 'csv'],
  [/\.(ndjson|jsonl|json)(\.gz)?$/i, 'json'],
  [/\.parquet$/i, 'parquet'],
];

export function formatOf(file: string): FileFormat | undefined {
  return FORMATS.find(([pattern]) => pattern.test(file))?.[1];
}

const sha = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

/** `org_id=acme/day=2026-01-02/` in a path: Hive partition values, usable as columns. */
export function hiveValues(file: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const segment of file.split('/').slice(0, -1)) {
    const match = /^([^=]+)=(.*)$/.exec(segment);
    if (!match) continue;
    let value = match[2] as string;
    try {
      value = decodeURIComponent(value);
    } catch {
      // not percent-encoded: the value as written
    }
    values[match[1] as string] = value;
  }
  return values;
}

/** What shapes a file's raw rows: the same bytes read the same way are one load. */
/** A setting's config key: under its source, or at the top level for the defaults. */
export const settingKey = (source: SourceSpec, setting: string): string => (source.key ? `${source.key}.${setting}` : setting);

export function readFingerprint(file: string, source: SourceSpec): string {
  const format = formatOf(file);
  return sha({
    format,
    encoding: source.encoding ?? 'utf-8',
    header: format === 'csv' ? source.header ?? true : null,
    delimiter: format === 'csv' ? source.delimiter ?? null : null,
    quote: format === 'csv' ? source.quote ?? '"' : null,
    maxLineSize: source.maxLineSize ?? null,
    hive: hiveValues(file),
  });
}

/** What shapes a load's staged rows: a change re-stages every file of the source. */
export function stageFingerprint(source: SourceSpec): string {
  const sorted = (value: object | undefined) => Object.entries(value ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return sha({
    columns: sorted(source.columns),
    constants: sorted(source.constants),
    filter: source.filter ?? null,
    timezone: source.timezone,
    epochUnit: source.epochUnit ?? 'ms',
  });
}

/**
 * Checks what only the engine can: timezones against DuckDB's own (ICU)
 * list, and that each filter parses as one SQL condition. Runs on an
 * in-memory database, so a bad config writes nothing.
 */
export async function checkSources(warehouse: Engine, sources: SourceSpec[]): Promise<void> {
  const zones = new Set((await warehouse.rows<{ name: string }>(`select name from pg_timezone_names()`)).map((row) => row.name));
  for (const [index, source] of sources.entries()) {
    const key = source.key ?? `sources[${index}]`;
    if (!zones.has(source.timezone)) {
      throw new ConfigError(`Config key "${key ? `${key}.timezone` : 'source_timezone'}": unknown IANA timezone "${source.timezone}".`);
    }
    if (source.filter === undefined) continue;
    // the parser alone, no binding: the source's columns are not known yet
    const parsed = await warehouse.value<string>(`select json_serialize_sql(${sqlString(`select 1 where (${source.filter})`)})`);
    const tree = JSON.parse(parsed) as { error?: boolean; error_message?: string; statements?: unknown[] };
    if (tree.error || tree.statements?.length !== 1) {
      throw new ConfigError(
        `Config key "${key}.filter" is not one SQL condition: ${tree.error_message ?? 'it holds more than one statement'} (filter: ${source.filter}).`,
      );
    }
  }
}

/** Whether a path is a pattern DuckDB's glob would expand. */
const GLOB = /[*?[]/;

export interface Expansion {
  files: string[];
  /** files found in directories or globs whose extension we do not read */
  skipped: string[];
}

/**
 * A path, directory or glob to the data files it names, in a stable order.
 * A path that exists is read literally, whatever characters it holds; only
 * a path that does not exist is a pattern. Nothing found: an empty list
 * (the caller decides whether that is an error).
 */
export async function expandPath(warehouse: Engine, path: string): Promise<Expansion> {
  if (existsSync(path) && statSync(path).isFile()) {
    const file = resolve(path);
    if (!formatOf(file)) {
      throw new ConfigError(
        `Input file ${path} has an extension convbill does not read (use .csv, .tsv, .csv.gz, .ndjson, .jsonl, .json, .json.gz or .parquet).`,
      );
    }
    return { files: [file], skipped: [] };
  }
  let candidates: string[] = [];
  const isDirectory = existsSync(path) && statSync(path).isDirectory();
  if (isDirectory || GLOB.test(path)) {
    const pattern = isDirectory ? `${resolve(path)}/**` : resolve(path);
    const rows = await warehouse.rows<{ file: string }>(`select file from glob(${sqlString(pattern)}) order by file`);
    candidates = rows.map((row) => row.file).filter((file) => statSync(file).isFile());
  }
  return {
    files: candidates.filter((file) => formatOf(file) !== undefined),
    skipped: candidates.filter((file) => formatOf(file) === undefined),
  };
}
