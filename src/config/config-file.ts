/**
 * The config file (`convbill.json`): finding it, reading it and checking its
 * shape. An unknown or ill-typed key is a configuration error naming the key.
 * Validation is hand-written: the schema is a dozen keys, and the project
 * keeps to the dependencies the brief fixes. What its keys mean for a build
 * is config/build-options.ts's business.
 */
import { existsSync, readFileSync } from 'node:fs';
import { type ColumnMapping, isCanonicalColumn, CANONICAL_COLUMNS } from './contract-columns.js';
import { ConfigError } from '../engine/errors.js';
import { ENCODINGS, EPOCH_UNITS, type EpochUnit, type SourceSpec } from '../ingest/sources.js';
import type { PriceEntry } from '../reference/prices.js';

export const DEFAULT_CONFIG_FILE = 'convbill.json';

export interface SourceEntry {
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
  /** where the models run: duckdb (the embedded default) or clickhouse (docs/engines.md) */
  engine?: EngineName;
  clickhouse?: { url: string; cluster: string; database: string };
}

export const ENGINE_NAMES = ['duckdb', 'clickhouse'] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

type Check = (value: unknown, key: string) => void;

export const MEMORY_LIMIT = /^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$/i;

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
const httpUrl: Check = (value, key) => {
  if (typeof value !== 'string' || !/^https?:\/\/[^/\s]+(:\d+)?\/?$/.test(value.trim())) fail(key, 'an HTTP URL such as "http://host:8123"');
};
/** a ClickHouse database name convbill can quote nowhere and spell everywhere */
const identifier: Check = (value, key) => {
  if (typeof value !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(value)) fail(key, 'a database name of letters, digits and _');
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
  engine: oneOf(ENGINE_NAMES),
  clickhouse: (value, key) => {
    object({ url: httpUrl, cluster: text, database: identifier })(value, key);
    for (const name of ['url', 'cluster', 'database']) {
      if ((value as Record<string, unknown>)[name] === undefined) fail(`${key}.${name}`, 'set (clickhouse needs url, cluster and database)');
    }
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
