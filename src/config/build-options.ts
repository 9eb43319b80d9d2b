/**
 * The config file (`convbill.json`) and command-line flags, resolved into the
 * options of a build. Flags override the file; paths in the file are relative
 * to the file. An unknown or ill-typed key is a configuration error naming
 * the key. Validation is hand-written: the schema is a dozen keys, and the
 * project keeps to the dependencies the brief fixes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { type ColumnMapping, isCanonicalColumn, CANONICAL_COLUMNS } from './contract-columns.js';
import type { CycleConfig, CycleRule } from '../reference/cycles.js';
import { ConfigError } from '../engine/errors.js';
import { ENCODINGS, EPOCH_UNITS, type EpochUnit, type SourceSpec } from '../ingest/sources.js';
import type { PriceEntry } from '../reference/prices.js';
import { defaultParquetDir, publishedPathOf } from './warehouse-paths.js';

export const DEFAULT_CONFIG_FILE = 'convbill.json';
export const DEFAULT_DB = 'convbill.duckdb';
/** docs/billing-rules.md §4: earlier than this, a timestamp is a unit mistake, not a log time */
export const DEFAULT_VALID_FROM = '2000-01-01T00:00:00Z';

export interface BuildOptions {
  db: string;
  /** where the Parquet exports go; default: beside the database, `<db name>_parquet` */
  parquetDir: string;
  /** the config's sources: what is loaded, and the settings each file is staged with */
  sources: SourceSpec[];
  /** files, directories or globs given with --input: loaded until `convbill forget` drops them */
  inputs?: string[];
  /** the settings of an --input file under no configured source: the config's source_timezone, columns and epoch_unit */
  inputDefaults?: Omit<SourceSpec, 'path'>;
  /** an earlier timestamp is rejected as implausible_timestamp; default 2000-01-01T00:00:00Z */
  validFrom?: string;
  integrations?: string;
  cycles: CycleConfig;
  /** ISO-8601 instant or date (UTC); default: now */
  asOf?: string;
  /** passed to DuckDB: worker threads and memory limit (work past it spills to disk) */
  threads?: number;
  memoryLimit?: string;
  /** the read-only copy of the marts each successful build publishes; default: `<db name>_published.duckdb` */
  publishedDb?: string;
  /** rebuild everything instead of only what new data touches */
  fullRefresh?: boolean;
  /** fail the build when more than this share (0-1) of the rows it reads are rejected */
  maxRejectRate?: number;
  /** recorded in the run history */
  commandLine?: string;
  /** the price book file (CSV or JSON) and the config's own price entries, for fct_conversation_charges */
  priceBook?: string;
  prices?: PriceEntry[];
  /** write DuckDB's JSON query profile of each model into this folder */
  profileDir?: string;
}

/** What the command line can say; every field optional. */
export interface BuildFlags {
  input?: string[];
  db?: string;
  cycles?: string;
  integrations?: string;
  anchorDay?: string;
  timezone?: string;
  asOf?: string;
  config?: string;
  threads?: string;
  memoryLimit?: string;
  fullRefresh?: boolean;
  maxRejectRate?: string;
  priceBook?: string;
  profile?: string;
}

interface SourceEntry {
  path: string;
  timezone?: string;
  columns?: ColumnMapping;
  constants?: Partial<Record<string, string>>;
  filter?: string;
  epoch_unit?: EpochUnit;
  encoding?: SourceSpec['encoding'];
  header?: boolean;
  delimiter?: string;
  quote?: string;
  max_line_size?: number;
}

export interface ConfigFile {
  db?: string;
  parquet_dir?: string;
  sources?: (string | SourceEntry)[];
  columns?: ColumnMapping;
  source_timezone?: string;
  epoch_unit?: EpochUnit;
  valid_from?: string;
  integrations?: string;
  cycles?: string;
  anchor_day?: number;
  timezone?: string;
  orgs?: Record<string, { anchor_day?: number; timezone?: string }>;
  as_of?: string;
  threads?: number;
  memory_limit?: string;
  published_db?: string;
  max_reject_rate?: number;
  price_book?: string;
  prices?: PriceEntry[];
}

type Check = (value: unknown, key: string) => void;

const MEMORY_LIMIT = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;

const fail = (key: string, expected: string): never => {
  throw new ConfigError(`Config key "${key}" must be ${expected}.`);
};
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const text: Check = (value, key) => {
  if (typeof value !== 'string' || value.trim() === '') fail(key, 'a non-empty string');
};
const anchorDay: Check = (value, key) => {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 31) fail(key, 'an integer from 1 to 31');
};
/** An object from contract column to a value: the mapping (to a source column) and the constants. */
const byContractColumn = (role: string, target: string, check: Check): Check => (value, key) => {
  if (!isObject(value)) fail(key, `an object from contract column (${CANONICAL_COLUMNS.join(', ')}) to ${target}`);
  for (const [column, entry] of Object.entries(value as object)) {
    if (!isCanonicalColumn(column)) {
      throw new ConfigError(`Config key "${key}.${column}" is unknown: ${role} columns are ${CANONICAL_COLUMNS.join(', ')}.`);
    }
    check(entry, `${key}.${column}`);
  }
};
const mapping = byContractColumn('mapped', 'source column', text);
const object = (shape: Record<string, Check>): Check => (value, key) => {
  if (!isObject(value)) fail(key, 'an object');
  for (const [name, child] of Object.entries(value as object)) {
    const path = key ? `${key}.${name}` : name;
    const check = shape[name];
    if (!check) throw new ConfigError(`Config key "${path}" is unknown (known keys: ${Object.keys(shape).join(', ')}).`);
    check(child, path);
  }
};
const memoryLimit: Check = (value, key) => {
  if (typeof value !== 'string' || !MEMORY_LIMIT.test(value)) fail(key, 'a memory size such as "2GB" or "512MiB"');
};
const price: Check = (value, key) => {
  if (!((typeof value === 'string' && value.trim() !== '') || (typeof value === 'number' && value >= 0))) {
    fail(key, 'a price: a decimal string such as "0.0125" (exact) or a number');
  }
};
const count: Check = (value, key) => {
  if (!Number.isInteger(value) || (value as number) < 0) fail(key, 'a whole number, 0 or more');
};
const priceEntry = object({
  org_id: text,
  platform: text,
  integration_id: text,
  currency: text,
  unit_price: price,
  included_conversations: count,
  tiers: (value, key) => {
    if (!Array.isArray(value)) fail(key, 'a list of {up_to, unit_price} tiers, the last without up_to');
    (value as unknown[]).forEach((tier, index) =>
      object({ up_to: (bound, path) => bound === null || count(bound, path), unit_price: price })(tier, `${key}[${index}]`),
    );
  },
});
const oneOf = (choices: readonly string[]): Check => (value, key) => {
  if (typeof value !== 'string' || !choices.includes(value)) fail(key, `one of ${choices.map((choice) => `"${choice}"`).join(', ')}`);
};
const character = (allowEmpty: boolean): Check => (value, key) => {
  if (typeof value !== 'string' || value.length > 1 || (!allowEmpty && value.length === 0)) {
    fail(key, allowEmpty ? 'one character, or "" for none' : 'one character');
  }
};
const constantsShape = byContractColumn('constant', 'a value', (value, key) => {
  if (typeof value !== 'string') fail(key, 'a string');
});
const INSTANT = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2}))?$/;
const instant: Check = (value, key) => {
  if (typeof value !== 'string' || !INSTANT.test(value) || Number.isNaN(Date.parse(value))) {
    fail(key, 'an ISO-8601 instant such as "2000-01-01T00:00:00Z", or a date');
  }
};
const sourceEntryShape = object({
  path: text,
  timezone: text,
  columns: mapping,
  constants: constantsShape,
  filter: text,
  epoch_unit: oneOf(EPOCH_UNITS),
  encoding: oneOf(ENCODINGS),
  header: (value, key) => {
    if (typeof value !== 'boolean') fail(key, 'true or false');
  },
  delimiter: character(false),
  quote: character(true),
  max_line_size: (value, key) => {
    if (!Number.isInteger(value) || (value as number) < 1) fail(key, 'a whole number of bytes, 1 or more');
  },
});
const sourceEntry: Check = (value, key) => {
  sourceEntryShape(value, key);
  const entry = value as SourceEntry;
  for (const column of Object.keys(entry.constants ?? {})) {
    if (entry.columns?.[column as keyof ColumnMapping] !== undefined) {
      throw new ConfigError(`Config key "${key}.constants.${column}" gives a constant for a column ${key}.columns maps too: keep one.`);
    }
  }
};
const fileShape = object({
  db: text,
  parquet_dir: text,
  sources: (value, key) => {
    if (!Array.isArray(value)) fail(key, 'a list of paths or {path, timezone, columns, ...} objects');
    (value as unknown[]).forEach((entry, index) =>
      typeof entry === 'string' ? text(entry, `${key}[${index}]`) : sourceEntry(entry, `${key}[${index}]`),
    );
  },
  columns: mapping,
  source_timezone: text,
  epoch_unit: oneOf(EPOCH_UNITS),
  valid_from: instant,
  integrations: text,
  cycles: text,
  anchor_day: anchorDay,
  timezone: text,
  orgs: (value, key) => {
    if (!isObject(value)) fail(key, 'an object from org id to {anchor_day, timezone}');
    for (const [org, rule] of Object.entries(value as object)) object({ anchor_day: anchorDay, timezone: text })(rule, `${key}.${org}`);
  },
  as_of: text,
  threads: (value, key) => {
    if (!Number.isInteger(value) || (value as number) < 1) fail(key, 'a whole number of threads, 1 or more');
  },
  memory_limit: memoryLimit,
  published_db: text,
  price_book: text,
  prices: (value, key) => {
    if (!Array.isArray(value)) fail(key, 'a list of price entries {org_id, platform, integration_id, currency, unit_price, included_conversations, tiers}');
    (value as unknown[]).forEach((entry, index) => {
      priceEntry(entry, `${key}[${index}]`);
      if (typeof (entry as PriceEntry).currency !== 'string') fail(`${key}[${index}].currency`, 'a currency code such as "EUR"');
    });
  },
  max_reject_rate: (value, key) => {
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) fail(key, 'a share of rows from 0 to 1, e.g. 0.05');
  },
});

export function readConfigFile(path: string): ConfigFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`Config file ${path} is not valid JSON: ${(error as Error).message}.`);
  }
  try {
    fileShape(parsed, '');
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(`Config file ${path}: ${error.message}`);
    throw error;
  }
  return parsed as ConfigFile;
}

/** The config file a command uses: --config, else ./convbill.json when present. */
export function findConfigFile(flag: string | undefined): string | undefined {
  if (flag !== undefined) {
    if (!existsSync(flag)) throw new ConfigError(`Config file ${flag} does not exist.`);
    return flag;
  }
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

function parseAnchorDay(value: string): number {
  const day = Number(value);
  if (!/^\d+$/.test(value.trim()) || day < 1 || day > 31) {
    throw new ConfigError(`Option --anchor-day must be an integer from 1 to 31, not "${value}".`);
  }
  return day;
}

export function resolveBuildOptions(flags: BuildFlags): BuildOptions {
  const configPath = findConfigFile(flags.config);
  const file: ConfigFile = configPath ? readConfigFile(configPath) : {};
  const base = configPath ? dirname(resolve(configPath)) : process.cwd();
  const fromFile = (path: string | undefined) => (path === undefined || isAbsolute(path) ? path : resolve(base, path));

  const inputDefaults = {
    timezone: file.source_timezone ?? 'UTC',
    columns: file.columns ?? {},
    epochUnit: file.epoch_unit,
    // the config's top-level keys: source_timezone, columns, epoch_unit
    key: '',
  };
  const sources: SourceSpec[] = (file.sources ?? []).map((entry, index) => {
    const spec: SourceEntry = typeof entry === 'string' ? { path: entry } : entry;
    return {
      path: fromFile(spec.path) as string,
      timezone: spec.timezone ?? inputDefaults.timezone,
      columns: { ...inputDefaults.columns, ...spec.columns },
      constants: spec.constants,
      filter: spec.filter,
      epochUnit: spec.epoch_unit ?? inputDefaults.epochUnit,
      encoding: spec.encoding,
      header: spec.header,
      delimiter: spec.delimiter,
      quote: spec.quote,
      maxLineSize: spec.max_line_size,
      key: `sources[${index}]`,
    };
  });

  const defaultRule: CycleRule = {
    anchorDay: flags.anchorDay !== undefined ? parseAnchorDay(flags.anchorDay) : file.anchor_day ?? 1,
    timezone: flags.timezone ?? file.timezone ?? 'UTC',
  };
  const orgRules: CycleConfig['orgRules'] = {};
  for (const [org, rule] of Object.entries(file.orgs ?? {})) {
    orgRules[org.trim()] = { anchorDay: rule.anchor_day, timezone: rule.timezone };
  }
  if (flags.memoryLimit !== undefined && !MEMORY_LIMIT.test(flags.memoryLimit)) {
    throw new ConfigError(`Option --memory-limit must be a memory size such as "2GB", not "${flags.memoryLimit}".`);
  }
  if (flags.threads !== undefined && !/^\s*[1-9]\d*\s*$/.test(flags.threads)) {
    throw new ConfigError(`Option --threads must be a whole number of threads, 1 or more, not "${flags.threads}".`);
  }
  let maxRejectRate = file.max_reject_rate;
  if (flags.maxRejectRate !== undefined) {
    maxRejectRate = Number(flags.maxRejectRate);
    if (flags.maxRejectRate.trim() === '' || !(maxRejectRate >= 0 && maxRejectRate <= 1)) {
      throw new ConfigError(`Option --max-reject-rate must be a share of rows from 0 to 1 (e.g. 0.05), not "${flags.maxRejectRate}".`);
    }
  }
  const db = flags.db ?? fromFile(file.db) ?? DEFAULT_DB;
  return {
    db,
    publishedDb: (flags.db === undefined ? fromFile(file.published_db) : undefined) ?? publishedPathOf(db),
    fullRefresh: flags.fullRefresh,
    maxRejectRate,
    parquetDir: fromFile(file.parquet_dir) ?? defaultParquetDir(db),
    sources,
    inputs: flags.input,
    inputDefaults,
    validFrom: file.valid_from,
    integrations: flags.integrations ?? fromFile(file.integrations),
    priceBook: flags.priceBook ?? fromFile(file.price_book),
    prices: file.prices,
    profileDir: flags.profile,
    cycles: { defaultRule, orgRules, calendar: flags.cycles ?? fromFile(file.cycles) },
    asOf: flags.asOf ?? file.as_of,
    threads: flags.threads !== undefined ? Number(flags.threads) : file.threads,
    memoryLimit: flags.memoryLimit ?? file.memory_limit,
  };
}
