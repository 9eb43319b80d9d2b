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
import { availableParallelism, totalmem } from 'node:os';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConfigFile } from './build-options.js';
import { DEFAULT_CONFIG_FILE } from './build-options.js';
import { ConfigError } from '../engine/errors.js';

/** Keys the starter config leaves out, and why (said in the help too). */
const LEFT_OUT = { as_of: 'its default is now; a fixed as-of in a nightly config would freeze the facts' } as const;

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
  threads: 'DuckDB worker threads (init writes this machine\'s cores; DuckDB\'s default is one per core)',
  memory_limit: 'DuckDB memory limit, e.g. "2GB"; work past it spills to <db>.tmp (init writes 80% of this machine\'s memory)',
  published_db: 'the read-only copy each build publishes for readers (default <db name>_published.duckdb)',
  max_reject_rate: 'fail the build, publishing nothing, when more than this share (0-1) of the rows read are rejected',
  price_book: 'a price book CSV or JSON: org_id, platform, integration_id, currency, unit_price, included_conversations, tier_up_to',
  prices: 'price entries in the config itself, as the price book\'s lines: {org_id, platform, currency, included_conversations, tiers}',
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
  const GiB = 1024 ** 3;
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
    threads: availableParallelism(),
    memory_limit: `${Math.max(1, Math.floor((totalmem() * 0.8) / GiB))}GiB`,
    max_reject_rate: 0.05,
    price_book: 'prices.csv',
    prices: [{ org_id: 'globex', currency: 'EUR', included_conversations: 1, tiers: [{ up_to: 100, unit_price: '0.0450' }, { unit_price: '0.0300' }] }],
  };
}

/** Three orgs, one per way of cutting cycles: the default rule, an org rule, the calendar. */
function sampleFiles(today: Date): Record<string, string> {
  const month = (offset: number) => {
    const date = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + offset, 1));
    return date.toISOString().slice(0, 7);
  };
  const [m1, m2] = [month(-2), month(-1)];
  const at = (m: string, day: number, time: string) => `${m}-${String(day).padStart(2, '0')}T${time}Z`;
  const rows = [
    // acme: monthly cycles from the 1st, UTC (the default rule)
    ['a1', 'acme', 'wa-acme', '+447700900001', 'whatsapp', at(m1, 3, '09:00:00'), at(m1, 3, '09:20:00')],
    ['a2', 'acme', 'wa-acme', '+447700900001', 'whatsapp', at(m1, 10, '14:00:00'), at(m1, 10, '14:05:00')],
    ['a3', 'acme', 'wa-acme', '+447700900002', 'whatsapp', at(m1, 28, '22:00:00'), at(m2, 2, '08:00:00')],
    ['a4', 'acme', 'sms-acme', '+447700900001', 'sms', at(m1, 12, '11:00:00'), at(m1, 12, '11:02:00')],
    ['a5', 'acme', 'wa-acme', '+447700900003', 'whatsapp', at(m2, 5, '16:30:00'), at(m2, 5, '16:45:00')],
    ['a6', 'acme', 'sms-acme', '+447700900004', 'sms', at(m2, 20, '08:15:00'), at(m2, 20, '08:16:00')],
    // globex: cycles from the 15th, Europe/Paris (an org rule)
    ['g1', 'globex', 'wa-globex', '+33612345601', 'whatsapp', at(m1, 16, '10:00:00'), at(m1, 16, '10:30:00')],
    ['g2', 'globex', 'line-globex', 'U1001', 'line', at(m1, 20, '07:00:00'), at(m1, 20, '07:10:00')],
    ['g3', 'globex', 'wa-globex', '+33612345602', 'whatsapp', at(m2, 3, '12:00:00'), at(m2, 3, '12:40:00')],
    ['g4', 'globex', 'wa-globex', '+33612345601', 'whatsapp', at(m2, 16, '10:00:00'), at(m2, 16, '10:05:00')],
    // initech: the cycles of calendar.csv
    ['i1', 'initech', 'fb-initech', 'psid-501', 'facebook', at(m1, 8, '13:00:00'), at(m1, 8, '13:20:00')],
    ['i2', 'initech', 'fb-initech', 'psid-502', 'facebook', at(m2, 8, '13:00:00'), at(m2, 8, '13:20:00')],
  ];
  const quarters = Array.from({ length: 6 }, (_, i) => [month(-2 + 3 * i), month(1 + 3 * i)]);
  return {
    'logs/sample-interactions.csv': csv(
      ['interaction_id', 'org_id', 'integration_id', 'customer_account_id', 'platform', 'started_at', 'ended_at'],
      rows,
    ),
    'integrations.csv': csv(['integration_id', 'platform', 'org_id', 'name'], [
      ['wa-acme', 'whatsapp', 'acme', 'WhatsApp support line'],
      ['sms-acme', 'sms', 'acme', 'SMS short code'],
      ['wa-globex', 'whatsapp', 'globex', 'WhatsApp sales'],
      ['line-globex', 'line', 'globex', 'LINE official account'],
      ['fb-initech', 'facebook', 'initech', 'Facebook page'],
    ]),
    'calendar.csv': csv(['org_id', 'cycle_start', 'cycle_end', 'cycle_id'], quarters.map(([start, end], i) => ['initech', `${start}-01`, `${end}-01`, `P${i + 1}`])),
    'prices.csv': csv(['org_id', 'platform', 'integration_id', 'currency', 'unit_price', 'included_conversations', 'tier_up_to'], [
      ['acme', 'whatsapp', '', 'GBP', '0.0500', '1', '1000'],
      ['acme', 'whatsapp', '', 'GBP', '0.0350', '1', ''],
      ['acme', '', '', 'GBP', '0.0200', '', ''],
      ['', '', '', 'EUR', '0.0100', '', ''],
    ]),
    // matches the sample: `convbill reconcile` exits 0 on it
    'invoices/sample-invoice.csv': csv(['invoice_id', 'org_id', 'cycle_id', 'platform', 'integration_id', 'quantity'], [
      [`ACME-${m1}`, 'acme', `${m1}-01`, 'whatsapp', '', '2'],
      [`ACME-${m1}`, 'acme', `${m1}-01`, '', 'sms-acme', '1'],
    ]),
  };
}

function csv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((row) => row.join(',')).join('\n') + '\n';
}
