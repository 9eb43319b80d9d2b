/**
 * `convbill init`: a starter `convbill.json` with every key, and a small
 * sample layout it points at, so that `convbill build` works in the folder
 * at once and each key can be seen doing something before it is edited.
 *
 * JSON holds no comments, so the explanation of each key is `initHelp()`
 * (`convbill init --help`). Both the starter config and the help are typed
 * against ConfigFile: a key added to the config without a default and a
 * line of help here does not compile.
 *
 * The sample rows are dated in the two months before today, because as-of
 * defaults to now: fixed dates would age into years of empty cycles.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type ConfigFile, DEFAULT_CONFIG_FILE } from './config-file.js';
import { ConfigError } from '../engine/errors.js';
import { sqlDirectory } from '../project/load-models.js';

/** Keys the starter config leaves out, and why (said in the help too). */
const LEFT_OUT = {
  as_of: 'its default is now; a fixed as-of in a nightly config would freeze the facts',
  engine: 'DuckDB, the embedded default, needs no server; set "engine": "clickhouse" with "clickhouse" to run on a cluster',
  clickhouse: 'a cluster is yours to name: {"url": "http://host:8123", "cluster": "<name in remote_servers>", "database": "<name>"}',
  threads: "a committed config travels between machines, and one machine's cores would bind the next; DuckDB's default is one per core",
  memory_limit: "one machine's memory would bind the next; DuckDB's default is 80% of the machine's, and --memory-limit sets it for one run",
} as const;

type Written = Required<Omit<ConfigFile, keyof typeof LEFT_OUT>>;

const KEY_HELP: Record<keyof Required<ConfigFile>, string> = {
  db: 'the working DuckDB database the builds write (default convbill.duckdb)',
  parquet_dir: 'where the Hive-partitioned Parquet exports go (default <db name>_parquet beside the database)',
  sources: 'input files, folders (read recursively) or globs; an entry may be {path, timezone, columns, constants, filter, epoch_unit, encoding, header, delimiter, quote, max_line_size}',
  columns: 'source column names for the contract columns, e.g. {"customer_account_id": "from"} ({}: same names)',
  source_timezone: 'the timezone of timestamps without an offset (default UTC)',
  epoch_unit: 'what an integer timestamp counts: s, ms or us (default ms)',
  valid_from: 'an earlier timestamp is rejected as implausible_timestamp (default 2000-01-01T00:00:00Z)',
  integrations: 'the integrations reference CSV: integration_id, platform[, org_id, name]',
  cycles: 'an explicit billing-cycle calendar CSV: org_id, cycle_start, cycle_end[, cycle_id]; its orgs get exactly its cycles',
  anchor_day: 'the default cycle rule: the day of the month cycles start, 1-31, clamped to month end (default 1)',
  timezone: 'the default cycle rule: the IANA timezone of cycle boundaries (default UTC)',
  orgs: 'per-org cycle rules, {"org": {"anchor_day": 15, "timezone": "Europe/Paris"}}',
  as_of: `the instant the facts are computed as of; not written by init: ${LEFT_OUT.as_of}`,
  threads: `DuckDB worker threads, e.g. 4; not written by init: ${LEFT_OUT.threads}`,
  memory_limit: `DuckDB memory limit, e.g. "2GB"; work past it spills to <db>.tmp; not written by init: ${LEFT_OUT.memory_limit}`,
  published_db: 'the read-only copy each build publishes for readers (default <db name>_published.duckdb)',
  max_reject_rate: 'fail the build, publishing nothing, when more than this share (0-1) of the rows read are rejected',
  price_book: 'a price book CSV or JSON: org_id, platform, integration_id, currency, unit_price, included_conversations, tier_up_to',
  prices: 'price entries in the config itself, as the price book\'s lines: {org_id, platform, currency, included_conversations, tiers}',
  engine: `where the models run: duckdb (default) or clickhouse; not written by init: ${LEFT_OUT.engine}`,
  clickhouse: `the cluster for engine clickhouse; user and password come from CONVBILL_CLICKHOUSE_USER / CONVBILL_CLICKHOUSE_PASSWORD; not written by init: ${LEFT_OUT.clickhouse}`,
};

/** The text of `convbill init --help` after the options: what is written, and every key. */
export function initHelp(): string {
  const width = Math.max(...Object.keys(KEY_HELP).map((key) => key.length));
  return [
    'Writes, without overwriting any file that exists:',
    '  convbill.json         every config key below at a sensible default (refused when it exists, unless --force)',
    '  logs/                 a small sample of interaction logs (what "sources" reads)',
    '  integrations.csv      which platform each sample integration bills under',
    '  calendar.csv          an explicit cycle calendar for the sample org "initech"',
    '  prices.csv            a price book',
    '  invoices/             a sample invoice file, for "convbill reconcile"',
    'Outputs (database, published copy, Parquet) go to out/.',
    '',
    'Config keys (paths are relative to convbill.json; command-line flags override them):',
    ...Object.entries(KEY_HELP).map(([key, help]) => `  ${key.padEnd(width)}  ${help}`),
    '',
    'Examples:',
    '  convbill init && convbill build && convbill report --out report.html',
    '  convbill init --dir billing/ --force',
    '  convbill reconcile --invoices invoices/sample-invoice.csv',
  ].join('\n');
}

export interface InitOptions {
  dir: string;
  /** overwrite an existing convbill.json (sample files are never overwritten) */
  force?: boolean;
  /** the day the sample data is dated before (default: today) */
  today?: Date;
}

export interface InitResult {
  config: string;
  /** files written, relative to dir */
  written: string[];
  /** sample files left as they were because something is there already */
  kept: string[];
}

export function init(options: InitOptions): InitResult {
  const config = join(options.dir, DEFAULT_CONFIG_FILE);
  if (existsSync(config) && !options.force) {
    throw new ConfigError(`${config} already exists; pass --force to overwrite it (the sample files are never overwritten).`);
  }
  const sample = sampleFiles(options.today ?? new Date());
  const result: InitResult = { config, written: [], kept: [] };
  for (const [path, text] of Object.entries(sample)) {
    const target = join(options.dir, path);
    // a folder the user already fills (logs/, invoices/) gets no sample
    const folder = dirname(path) === '.' ? undefined : join(options.dir, dirname(path));
    if (existsSync(target) || (folder && existsSync(folder) && readdirSync(folder).length > 0)) {
      result.kept.push(path);
      continue;
    }
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
    result.written.push(path);
  }
  mkdirSync(options.dir, { recursive: true });
  writeFileSync(config, `${JSON.stringify(starterConfig(), null, 2)}\n`);
  result.written.unshift(DEFAULT_CONFIG_FILE);
  return result;
}

export function formatInit(result: InitResult): string {
  return [
    `Wrote ${result.written.join(', ')}.`,
    ...(result.kept.length ? [`Kept what was there: ${result.kept.join(', ')}.`] : []),
    'Next: convbill build, then convbill report --out report.html; "convbill init --help" explains every key.',
  ].join('\n');
}

function starterConfig(): Written {
  return {
    db: 'out/convbill.duckdb',
    parquet_dir: 'out/convbill_parquet',
    published_db: 'out/convbill_published.duckdb',
    sources: ['logs/'],
    columns: {},
    source_timezone: 'UTC',
    epoch_unit: 'ms',
    valid_from: '2000-01-01T00:00:00Z',
    integrations: 'integrations.csv',
    cycles: 'calendar.csv',
    anchor_day: 1,
    timezone: 'UTC',
    orgs: { globex: { anchor_day: 15, timezone: 'Europe/Paris' } },
    max_reject_rate: 0.05,
    price_book: 'prices.csv',
    prices: [{ org_id: 'globex', currency: 'EUR', included_conversations: 1, tiers: [{ up_to: 100, unit_price: '0.0450' }, { unit_price: '0.0300' }] }],
  };
}

/** Where the sample files are kept, as data: `seeds/init/` beside `sql/`. */
const SAMPLE_DIR = join(dirname(sqlDirectory()), 'seeds', 'init');

/**
 * Three orgs, one per way of cutting cycles (seeds/init/README.md): the
 * sample files with `{M1}` and `{M2}` standing for the two months before
 * today, and initech's calendar, six quarters from the first of them.
 */
function sampleFiles(today: Date): Record<string, string> {
  const month = (offset: number) => {
    const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + offset, 1));
    return date.toISOString().slice(0, 7);
  };
  const dated = (path: string) =>
    readFileSync(join(SAMPLE_DIR, path), 'utf8').replaceAll('{M1}', month(-2)).replaceAll('{M2}', month(-1));
  const quarters = Array.from({ length: 6 }, (_, i) => [month(-2 + 3 * i), month(1 + 3 * i)]);
  return {
    'logs/sample-interactions.csv': dated('logs/sample-interactions.csv'),
    'integrations.csv': dated('integrations.csv'),
    'calendar.csv': csv(['org_id', 'cycle_start', 'cycle_end', 'cycle_id'], quarters.map(([start, end], i) => ['initech', `${start}-01`, `${end}-01`, `P${i + 1}`])),
    'prices.csv': dated('prices.csv'),
    'invoices/sample-invoice.csv': dated('invoices/sample-invoice.csv'),
  };
}

function csv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((row) => row.join(',')).join('\n') + '\n';
}
