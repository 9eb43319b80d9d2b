/**
 * The config file and command-line flags resolved into the options of a
 * build. Flags override the file; paths in the file are relative to the file.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CycleConfig, CycleRule } from '../reference/cycles.js';
import { ConfigError } from '../engine/errors.js';
import type { SourceSpec } from '../ingest/sources.js';
import type { PriceEntry } from '../reference/prices.js';
import { type ConfigFile, ENGINE_NAMES, type EngineName, MEMORY_LIMIT, type SourceEntry, findConfigFile, readConfigFile } from './config-file.js';
import { defaultParquetDir, publishedPathOf } from './warehouse-paths.js';

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
  /** where the models run (default duckdb); clickhouse needs `clickhouse` */
  engine?: EngineName;
  clickhouse?: ClickHouseSettings;
}

/** The config's `clickhouse` key with the credentials from the environment (docs/engines.md). */
export interface ClickHouseSettings {
  url: string;
  cluster: string;
  database: string;
  user: string;
  password: string;
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
  engine?: string;
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
  const engine = (flags.engine ?? file.engine ?? 'duckdb') as EngineName;
  if (!ENGINE_NAMES.includes(engine)) {
    throw new ConfigError(`Option --engine must be one of ${ENGINE_NAMES.join(', ')}, not "${flags.engine}".`);
  }
  if (engine === 'clickhouse' && !file.clickhouse) {
    throw new ConfigError(
      `Engine clickhouse needs the config key "clickhouse": {"url": "http://host:8123", "cluster": "<name in remote_servers>", "database": "<name>"}${configPath ? ` in ${configPath}` : ' (no convbill.json found)'}.`,
    );
  }
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
    engine,
    clickhouse: file.clickhouse && {
      url: file.clickhouse.url.trim().replace(/\/$/, ''),
      cluster: file.clickhouse.cluster,
      database: file.clickhouse.database,
      user: process.env.CONVBILL_CLICKHOUSE_USER || 'default',
      password: process.env.CONVBILL_CLICKHOUSE_PASSWORD ?? '',
    },
  };
}
