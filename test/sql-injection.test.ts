/**
 * Values never become SQL: quotes, double quotes, semicolons, `--` and `/*`
 * and a `'); drop table …; --` go through every flag and config key that
 * takes a value, through file and folder names, and through the ids in
 * input rows, calendars, integrations, price books and invoices. Each one is
 * either taken literally (the file is read, the org is billed under exactly
 * that id) or refused with exit 2 and one sentence naming the flag or key;
 * never an engine syntax error, never executed. Two builds (one from a config
 * file, one from flags) are shared by every case.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { sqlString } from '../src/engine/sql-text.js';
import { rows, tempDir, writeCsv } from './helpers.js';

/** In values: every marker, a slash included. */
const NASTY = `it's "odd"; --x /*y*/ '); drop table fct_conversation_counts; --`;
/** In file and folder names, which cannot hold a slash; a `/*` comes from a folder boundary below. */
const NAME = `it's "odd"; --x ') drop table t; --`;
const INTEGRATION = `wa'1"; --`;
const CYCLE_1 = `${NASTY} #1`;

let ws = '';
let configFile = '';
let db = '';
let published = '';
let flagsDb = '';
let starInput = '';

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const status = await runCli(args, { out: (text) => { out += text; }, err: (text) => { err += text; } });
  return { status, out, err };
}

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** The interaction rows of the nasty CSV, under the file's own (nasty) column names. */
function nastyCsv(folder: string, name: string): string {
  mkdirSync(folder, { recursive: true });
  return writeCsv(folder, name, [
    { [`int'id`]: NASTY, [`chan"nel; --`]: INTEGRATION, [`acc/*ount*/ '); drop table t; --`]: NASTY, started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-10T10:00:00Z' },
    { [`int'id`]: `${NASTY}-2`, [`chan"nel; --`]: INTEGRATION, [`acc/*ount*/ '); drop table t; --`]: NASTY, started_at: '2024-02-20T09:00:00Z', ended_at: '' },
    // one reject, whose raw row and file keep the characters
    { [`int'id`]: `${NASTY}-bad`, [`chan"nel; --`]: '', [`acc/*ount*/ '); drop table t; --`]: NASTY, started_at: '2024-01-11T09:00:00Z', ended_at: '' },
  ]);
}

const MAPPING = {
  interaction_id: `int'id`,
  integration_id: `chan"nel; --`,
  customer_account_id: `acc/*ount*/ '); drop table t; --`,
};

beforeAll(async () => {
  ws = join(tempDir(), NAME);
  mkdirSync(ws, { recursive: true });
  // Hive value in the path: the org of these rows
  nastyCsv(join(ws, 'logs', `org_id=${NAME}`), `${NAME}.csv`);
  write(
    join(ws, 'events', `${NAME}.ndjson`),
    `${JSON.stringify({ interaction_id: NASTY, "ch'an": { [`i"d; --`]: 'wa-2' }, customer_account_id: NASTY, occurred_at: '2024-01-05T08:00:00Z', org_id: NASTY })}\n`,
  );
  write(join(ws, 'semi', `${NAME}.csv`), `interaction_id;integration_id;customer_account_id;started_at;ended_at\n'a;b';'sms;1';'it''s';2024-01-12T09:00:00Z;2024-01-12T10:00:00Z\n`);
  writeCsv(ws, `${NAME}-integrations.csv`, [
    { integration_id: INTEGRATION, platform: 'whatsapp', org_id: NAME, name: NASTY },
    { integration_id: 'wa-2', platform: `pl'at"; --`, org_id: NASTY, name: NASTY },
  ]);
  writeCsv(ws, `${NAME}-calendar.csv`, [
    { org_id: NASTY, cycle_start: '2024-01-01', cycle_end: '2024-02-01', cycle_id: CYCLE_1 },
    { org_id: NASTY, cycle_start: '2024-02-01', cycle_end: '2024-04-01', cycle_id: `${NASTY} #2` },
  ]);
  writeCsv(ws, `${NAME}-prices.csv`, [{ org_id: NASTY, platform: '', integration_id: '', currency: `E'U"R; --`, unit_price: '0.5', included_conversations: '', tier_up_to: '' }]);
  configFile = join(ws, `${NAME}.json`);
  const config = {
    db: `out/${NAME}.duckdb`,
    parquet_dir: `out/${NAME}_parquet`,
    published_db: `out/${NAME}_published.duckdb`,
    sources: [
      { path: `logs/`, columns: MAPPING, timezone: 'Europe/Paris', constants: { platform: NASTY } },
      { path: `events/${NAME}.ndjson`, columns: { integration_id: `ch'an.i"d; --` }, epoch_unit: 'ms' },
      { path: `semi/`, delimiter: ';', quote: "'", header: true, encoding: 'utf-8', max_line_size: 100000, constants: { org_id: `${NASTY} const` } },
    ],
    source_timezone: 'UTC',
    epoch_unit: 'ms',
    valid_from: '2000-01-01T00:00:00Z',
    integrations: `${NAME}-integrations.csv`,
    cycles: `${NAME}-calendar.csv`,
    anchor_day: 1,
    timezone: 'UTC',
    orgs: { [NAME]: { anchor_day: 15, timezone: 'Europe/Paris' } },
    as_of: '2024-03-01T00:00:00Z',
    threads: 2,
    memory_limit: '1GB',
    max_reject_rate: 1,
    price_book: `${NAME}-prices.csv`,
    prices: [{ org_id: NAME, platform: 'whatsapp', currency: `U'S"D`, included_conversations: 0, tiers: [{ up_to: 1, unit_price: '1' }, { unit_price: '0.25' }] }],
  };
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const built = await cli(['build', '--config', configFile, '--profile', join(ws, `profile ${NAME}`), '--quiet']);
  expect(built.err).toBe('');
  expect(built.status).toBe(0);
  db = join(ws, 'out', `${NAME}.duckdb`);
  published = join(ws, 'out', `${NAME}_published.duckdb`);

  // the same from flags; the input's name holds a pattern character, its path a "/*"
  mkdirSync(join(ws, 'flagged'));
  starInput = writeCsv(join(ws, 'flagged'), `*${NAME}.csv`, [
    { interaction_id: NASTY, integration_id: INTEGRATION, customer_account_id: NASTY, started_at: '2024-01-10T09:00:00Z', org_id: NASTY },
  ]);
  const events = write(
    join(ws, 'flagged', `${NAME}.ndjson`),
    `${JSON.stringify({ interaction_id: NASTY, integration_id: 'wa-2', customer_account_id: NASTY, occurred_at: '2024-01-05T08:00:00Z', org_id: NASTY })}\n`,
  );
  flagsDb = join(ws, 'flags', `${NAME}.duckdb`);
  mkdirSync(join(ws, 'flags'));
  const flagged = await cli([
    'build', '--input', events, '--db', flagsDb,
    '--cycles', join(ws, `${NAME}-calendar.csv`), '--integrations', join(ws, `${NAME}-integrations.csv`),
    '--price-book', join(ws, `${NAME}-prices.csv`), '--anchor-day', '15', '--timezone', 'Europe/Paris',
    '--as-of', '2024-03-01', '--threads', '1', '--memory-limit', '512MB', '--max-reject-rate', '1',
    '--profile', join(ws, `flag profile ${NAME}`), '--quiet',
  ]);
  expect(flagged.err).toBe('');
  expect(flagged.status).toBe(0);
}, 120_000);

describe('values are taken literally', () => {
  const literal: [string, () => Promise<unknown>, unknown][] = [
    [
      'org ids (Hive path, row, calendar), integration ids and accounts are billed as those exact ids',
      () => rows(db, `select org_id, integration_id, customer_account_id, interaction_count::integer as n from fct_billable_conversations order by all`),
      [
        { org_id: NAME, integration_id: INTEGRATION, customer_account_id: NASTY, n: 1 },
        { org_id: NAME, integration_id: INTEGRATION, customer_account_id: NASTY, n: 1 },
        { org_id: NASTY, integration_id: 'wa-2', customer_account_id: NASTY, n: 1 },
        { org_id: `${NASTY} const`, integration_id: 'sms;1', customer_account_id: "it's", n: 1 },
      ],
    ],
    [
      "calendar cycle ids, and the org's own rule for the Hive org",
      () => rows(db, `select org_id, cycle_id from dim_billing_cycles order by org_id, cycle_start`),
      [
        { org_id: NAME, cycle_id: '2023-12-15' },
        { org_id: NAME, cycle_id: '2024-01-15' },
        { org_id: NAME, cycle_id: '2024-02-15' },
        { org_id: NASTY, cycle_id: CYCLE_1 },
        { org_id: NASTY, cycle_id: `${NASTY} #2` },
        { org_id: `${NASTY} const`, cycle_id: '2024-01-01' },
        { org_id: `${NASTY} const`, cycle_id: '2024-02-01' },
        { org_id: `${NASTY} const`, cycle_id: '2024-03-01' },
      ],
    ],
    [
      'integration names and platforms from the integrations file',
      () => rows(db, `select org_id, integration_id, platform, integration_name from dim_integrations where integration_name is not null order by all`),
      [
        { org_id: NAME, integration_id: INTEGRATION, platform: 'whatsapp', integration_name: NASTY },
        { org_id: NASTY, integration_id: 'wa-2', platform: `pl'at"; --`, integration_name: NASTY },
      ],
    ],
    [
      'price book and config price entries, currency included',
      () => rows(db, `select org_id, currency, amount::varchar as amount from fct_conversation_charges where price_status = 'priced' order by all`),
      [
        { org_id: NAME, currency: `U'S"D`, amount: '1.000000' },
        { org_id: NAME, currency: `U'S"D`, amount: '1.000000' },
        { org_id: NASTY, currency: `E'U"R; --`, amount: '0.500000' },
      ],
    ],
    [
      'rejected rows keep their file path and raw values',
      async () => (await rows(db, `select source_file, reason, raw::varchar like '%' || 'drop table' || '%' as raw_kept from rejected_interactions`)).map((row) => ({ ...row, source_file: String(row.source_file).endsWith(join(`org_id=${NAME}`, `${NAME}.csv`)) })),
      [{ source_file: true, reason: 'missing_integration_id', raw_kept: true }],
    ],
    [
      'the build from flags reads the same ids',
      () => rows(flagsDb, `select org_id, cycle_id, integration_id from fct_billable_conversations order by all`),
      [{ org_id: NASTY, cycle_id: CYCLE_1, integration_id: 'wa-2' }],
    ],
    ['the published copy reads the facts view over a nasty folder', () => rows(published, `select count(*)::integer as n from fct_billable_conversations`), [{ n: 4 }]],
    ["the --profile folder's name is taken literally", async () => existsSync(join(ws, `flag profile ${NAME}`)), true],
    ['--profile wrote into a nasty folder', async () => existsSync(join(ws, `profile ${NAME}`)), true],
  ];
  for (const [name, actual, expected] of literal) {
    it(name, async () => {
      expect(await actual()).toEqual(expected);
    });
  }
});

describe('every command takes nasty paths and ids literally', () => {
  const works: [string, () => string[], (run: { out: string }) => void][] = [
    ['query --db --format --allow-dir', () => ['query', '--db', published, '--format', 'csv', '--allow-dir', ws, `copy (select 1 as one) to ${sqlString(join(ws, `${NAME}.csv`))}`], () => {
      expect(readFileSync(join(ws, `${NAME}.csv`), 'utf8')).toBe('one\n1\n');
    }],
    ['runs --db --limit --format', () => ['runs', '--db', db, '--limit', '5', '--format', 'json'], ({ out }) => expect(JSON.parse(out)).toHaveLength(1)],
    ['test --db', () => ['test', '--db', db], ({ out }) => expect(out).toMatch(/PASS/)],
    ['explain --org --account --integration --cycle', () => ['explain', '--db', db, '--org', NASTY, '--account', NASTY, '--integration', 'wa-2', '--cycle', CYCLE_1, '--format', 'json'], ({ out }) => {
      expect(JSON.parse(out)).toMatchObject([{ cycle_id: CYCLE_1, integration_id: 'wa-2' }]);
    }],
    ['explain finds the Hive org and its nasty integration', () => ['explain', '--db', db, '--org', NAME, '--account', NASTY, '--integration', INTEGRATION, '--format', 'json'], ({ out }) => {
      expect(JSON.parse(out)).toHaveLength(2);
    }],
    ['export --table --out --where --format', () => ['export', '--db', published, '--table', 'fct_billable_conversations', '--out', join(ws, `${NAME}.ndjson`), '--format', 'ndjson', '--where', `org_id = ${sqlString(NASTY)}`], ({ out }) => {
      expect(out).toMatch(/^Exported 1 rows/);
      expect(JSON.parse(readFileSync(join(ws, `${NAME}.ndjson`), 'utf8')).org_id).toBe(NASTY);
    }],
    ['export to parquet with --memory-limit --threads', () => ['export', '--db', published, '--table', 'fct_conversation_counts', '--out', join(ws, `${NAME}.parquet`), '--memory-limit', '256MB', '--threads', '1'], ({ out }) => expect(out).toMatch(/^Exported 4 rows/)],
    ['report --out', () => ['report', '--db', published, '--out', join(ws, `${NAME}.html`)], () => expect(existsSync(join(ws, `${NAME}.html`))).toBe(true)],
    ['report --org --show-accounts', () => ['report', '--db', published, '--org', NASTY, '--show-accounts', '--out', join(ws, `${NAME} org.html`)], () => {
      expect(readFileSync(join(ws, `${NAME} org.html`), 'utf8')).toMatch(/<section class="org" id="org-1" data-org="[^"]+">/);
    }],
    ['docs --check --db', () => ['docs', '--check', '--db', published], ({ out }) => expect(out).toBe('Every published column is described.\n')],
    ['docs --out', () => ['docs', '--out', join(ws, `${NAME}.md`)], () => expect(readFileSync(join(ws, `${NAME}.md`), 'utf8')).toMatch(/fct_billable_conversations/)],
    ['reconcile --invoices --tolerance --format', () => {
      const invoices = writeCsv(ws, `${NAME}-invoices.csv`, [{ invoice_id: NASTY, org_id: NASTY, cycle_id: CYCLE_1, integration_id: 'wa-2', quantity: '1' }]);
      return ['reconcile', '--db', db, '--invoices', invoices, '--tolerance', '0', '--format', 'json'];
    }, ({ out }) => expect(out).toContain('"status": "match"')],
    ['init --dir', () => ['init', '--dir', join(ws, `init ${NAME}`)], () => expect(existsSync(join(ws, `init ${NAME}`, 'convbill.json'))).toBe(true)],
    ['ingest --input (a "/*" in its path) and forget PATH', () => ['ingest', '--db', join(ws, `ingest ${NAME}.duckdb`), '--input', starInput, '--quiet'], () => undefined],
    ['forget PATH --db', () => ['forget', starInput, '--db', join(ws, `ingest ${NAME}.duckdb`)], ({ out }) => expect(out).toContain('1 file(s) no longer pinned')],
  ];
  for (const [name, args, check] of works) {
    it(name, async () => {
      const run = await cli(args());
      expect(run.err).toBe('');
      expect([0, 3]).toContain(run.status);
      check(run);
    });
  }

  it('nothing was dropped', async () => {
    expect(await rows(db, `select count(*)::integer as n from fct_conversation_counts`)).toEqual([{ n: 4 }]);
  });
});

describe('values that cannot be taken are refused: exit 2, one sentence naming the flag or key', () => {
  /** A config file in the nasty folder with one key changed; its sources keep the mapping. */
  const withKey = (key: string, value: unknown) => {
    const path = join(ws, `${key.replace(/\W+/g, '_')} ${NAME}.json`);
    const config: Record<string, unknown> = { db: `keys/${NAME}.duckdb`, sources: [{ path: 'logs/', columns: MAPPING }] };
    const [head, ...rest] = key.split('.');
    if (head === 'sources') (config.sources as Record<string, unknown>[])[0]![rest.join('.')] = value;
    else if (head === 'orgs') config.orgs = { [NAME]: { [rest.join('.')]: value } };
    else if (head === 'prices') config.prices = [{ currency: 'EUR', unit_price: '1', [rest.join('.')]: value }];
    else config[key] = value;
    writeFileSync(path, JSON.stringify(config));
    return ['build', '--config', path];
  };
  const build = (...flags: string[]) => ['build', '--db', join(ws, 'refused', `${NAME}.duckdb`), '--input', join(ws, 'flagged', `${NAME}.ndjson`), ...flags];
  const refused: [string, () => string[], RegExp][] = [
    ['--anchor-day', () => build('--anchor-day', NASTY), /--anchor-day/],
    ['--timezone', () => build('--timezone', NASTY), /--timezone/],
    ['--as-of', () => build('--as-of', NASTY), /Option --as-of ".*" is not an ISO-8601 .*\(config key "as_of" takes the same\)\./],
    ['--memory-limit', () => build('--memory-limit', NASTY), /--memory-limit/],
    ['--threads', () => build('--threads', NASTY), /--threads/],
    ['--max-reject-rate', () => build('--max-reject-rate', NASTY), /--max-reject-rate/],
    ['--log-format', () => build('--log-format', NASTY), /--log-format/],
    ['--input', () => build('--input', join(ws, `missing ${NAME}.csv`)), /Input file .*missing it's "odd".* does not exist/],
    ['--cycles', () => build('--cycles', join(ws, `missing ${NAME}.csv`)), /Cycles file .* does not exist/],
    ['--integrations', () => build('--integrations', join(ws, `missing ${NAME}.csv`)), /Integrations file .* does not exist/],
    ['--price-book', () => build('--price-book', join(ws, `missing ${NAME}.csv`)), /Price book .* does not exist/],
    ['--config', () => ['build', '--config', join(ws, `missing ${NAME}.json`)], /Config file .* does not exist/],
    ['query --format', () => ['query', 'select 1', '--db', published, '--format', NASTY], /--format/],
    ['query --allow-dir', () => ['query', 'select 1', '--db', published, '--allow-dir', join(ws, NASTY.replaceAll('/', ''))], /--allow-dir/],
    ['query --db', () => ['query', 'select 1', '--db', join(ws, `missing ${NAME}.duckdb`)], /Database .* does not exist/],
    ['runs --limit', () => ['runs', '--db', db, '--limit', NASTY], /--limit/],
    ['runs --format', () => ['runs', '--db', db, '--format', NASTY], /--format/],
    ['explain --format', () => ['explain', '--db', db, '--org', NASTY, '--account', NASTY, '--format', NASTY], /--format/],
    ['diff --from', () => ['diff', '--db', db, '--from', NASTY], /--from/],
    ['diff --to', () => ['diff', '--db', db, '--to', NASTY], /--to/],
    ['diff --format', () => ['diff', '--db', db, '--format', NASTY], /--format/],
    ['reconcile --tolerance', () => ['reconcile', '--db', db, '--invoices', join(ws, `${NAME}-invoices.csv`), '--tolerance', NASTY], /--tolerance/],
    ['reconcile --format', () => ['reconcile', '--db', db, '--invoices', join(ws, `${NAME}-invoices.csv`), '--format', NASTY], /--format/],
    ['reconcile --invoices', () => ['reconcile', '--db', db, '--invoices', join(ws, `missing ${NAME}.csv`)], /Invoice file .* does not exist/],
    ['export --table', () => ['export', '--db', published, '--table', NASTY, '--out', join(ws, 'x.csv')], /Table ".*drop table fct_conversation_counts; --" is not in/],
    ['export --format', () => ['export', '--db', published, '--table', 'fct_conversation_counts', '--out', join(ws, 'x.csv'), '--format', NASTY], /--format/],
    ['export --where', () => ['export', '--db', published, '--table', 'fct_conversation_counts', '--out', join(ws, 'x.csv'), '--where', `'); drop table t; --`], /Option --where/],
    ['export --memory-limit', () => ['export', '--db', published, '--table', 'fct_conversation_counts', '--out', join(ws, 'x.csv'), '--memory-limit', NASTY], /--memory-limit/],
    ['export --threads', () => ['export', '--db', published, '--table', 'fct_conversation_counts', '--out', join(ws, 'x.csv'), '--threads', NASTY], /--threads/],
    ['export --out', () => ['export', '--db', published, '--table', 'fct_conversation_counts', '--out', join(ws, `missing ${NAME}`, 'x.csv')], /Cannot write .* does not exist/],
    ['anchor_day', () => withKey('anchor_day', NASTY), /"anchor_day"/],
    ['timezone', () => withKey('timezone', NASTY), /config key "timezone"/],
    ['source_timezone', () => withKey('source_timezone', NASTY), /"source_timezone"/],
    ['epoch_unit', () => withKey('epoch_unit', NASTY), /"epoch_unit"/],
    ['valid_from', () => withKey('valid_from', NASTY), /"valid_from"/],
    ['as_of', () => withKey('as_of', NASTY), /Option --as-of ".*" is not an ISO-8601 .*\(config key "as_of" takes the same\)\./],
    ['threads', () => withKey('threads', NASTY), /"threads"/],
    ['memory_limit', () => withKey('memory_limit', NASTY), /"memory_limit"/],
    ['max_reject_rate', () => withKey('max_reject_rate', NASTY), /"max_reject_rate"/],
    ['orgs.<org>.timezone', () => withKey('orgs.timezone', NASTY), /"orgs\.it's "odd".*\.timezone"/],
    ['orgs.<org>.anchor_day', () => withKey('orgs.anchor_day', NASTY), /"orgs\.it's "odd".*\.anchor_day"/],
    ['sources[0].timezone', () => withKey('sources.timezone', NASTY), /"sources\[0\]\.timezone"/],
    ['sources[0].epoch_unit', () => withKey('sources.epoch_unit', NASTY), /"sources\[0\]\.epoch_unit"/],
    ['sources[0].encoding', () => withKey('sources.encoding', NASTY), /"sources\[0\]\.encoding"/],
    ['sources[0].header', () => withKey('sources.header', NASTY), /"sources\[0\]\.header"/],
    ['sources[0].delimiter', () => withKey('sources.delimiter', NASTY), /"sources\[0\]\.delimiter"/],
    ['sources[0].quote', () => withKey('sources.quote', NASTY), /"sources\[0\]\.quote"/],
    ['sources[0].max_line_size', () => withKey('sources.max_line_size', NASTY), /"sources\[0\]\.max_line_size"/],
    ['sources[0].filter', () => withKey('sources.filter', `'); drop table t; --`), /"sources\[0\]\.filter"/],
    ['sources[0].columns: a column the file does not have', () => withKey('sources.columns', { integration_id: NASTY }), /has no column "it's "odd".*\(mapped to integration_id\)/],
    ['sources[0].path', () => withKey('sources.path', 7), /"sources\[0\]\.path"/],
    ['sources[0].constants', () => withKey('sources.constants', { org_id: 7 }), /"sources\[0\]\.constants\.org_id"/],
    ['columns', () => withKey('columns', { nonsense: NASTY }), /Config key "columns\.nonsense" is unknown/],
    ['prices[0].unit_price', () => withKey('prices.unit_price', NASTY), /Config key "prices\[0\]"/],
    ['prices[0].included_conversations', () => withKey('prices.included_conversations', NASTY), /"prices\[0\]\.included_conversations"/],
    ['a price book row', () => {
      const book = writeCsv(ws, `bad ${NAME}-prices.csv`, [{ org_id: NASTY, currency: 'EUR', unit_price: NASTY }]);
      return build('--price-book', book);
    }, /Price book .*bad it's "odd".*, row 1: unit_price ".*" is not a price/],
    ['a calendar row', () => {
      const calendar = writeCsv(ws, `bad ${NAME}-calendar.csv`, [{ org_id: NASTY, cycle_start: NASTY, cycle_end: '2024-02-01' }]);
      return build('--cycles', calendar);
    }, /Cycles file .*bad it's "odd".*, row 1 \(org "it's "odd".*\): cycle_start ".*" is not an ISO-8601 instant or date/],
  ];
  for (const [name, args, names] of refused) {
    it(name, async () => {
      const run = await cli(args());
      expect(run.status, run.err).toBe(2);
      const lines = run.err.trimEnd().split('\n');
      expect(lines, run.err).toHaveLength(1);
      expect(lines[0]).toMatch(/^convbill: /);
      expect(lines[0]).toMatch(names);
      expect(lines[0]).not.toMatch(/Parser Error|syntax error|internal error/i);
    });
  }

  it('and nothing was dropped or written by them', async () => {
    expect(await rows(db, `select count(*)::integer as n from fct_conversation_counts`)).toEqual([{ n: 4 }]);
    expect(existsSync(join(ws, 'x.csv'))).toBe(false);
  });
});
