/**
 * `convbill report` on a small hand-built warehouse: the numbers on every
 * chart against the database, a page that needs no network, then the page
 * rendered by headless Chromium (Debian's chromium package): its DOM holds
 * the same bars, and a screenshot is taken for a person to look at (its path
 * is printed). The browser is `CONVBILL_CHROMIUM`, else `chromium` on PATH;
 * with neither, that one test skips with a loud line, or fails when `CI` is
 * set, so CI always runs it.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/engine/errors.js';
import { reconcile } from '../src/read/reconcile.js';
import { renderReport, writeReport } from '../src/read/report.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { type InputRow, type TestBuild, buildFacts, tempDir, writeCsv } from './helpers.js';

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * CONVBILL_CHROMIUM when set (another build of Chromium; a path that is not
 * an executable file counts as none, with no fallback), else `chromium` on PATH.
 */
function findChromium(): string | undefined {
  const configured = process.env.CONVBILL_CHROMIUM;
  if (configured) return isExecutableFile(configured) ? configured : undefined;
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .map((dir) => join(dir, 'chromium'))
    .find(isExecutableFile);
}

const CHROMIUM = findChromium();
/** CI=1 (or any value but '', '0' and 'false'): a missing browser fails the test instead of skipping it. */
const IN_CI = !['', '0', 'false'].includes((process.env.CI ?? '').toLowerCase());
const NO_CHROMIUM = `no Chromium found (${process.env.CONVBILL_CHROMIUM ? `CONVBILL_CHROMIUM=${process.env.CONVBILL_CHROMIUM} is not an executable file` : 'no chromium on PATH'}): set CONVBILL_CHROMIUM or install Debian's chromium ("apt-get install -y chromium"; .ci/run does)`;

const talk = (org: string, integration: string, account: string, start: string, id = `${integration}-${account}-${start}`): InputRow => ({
  org_id: org,
  interaction_id: id,
  integration_id: integration,
  customer_account_id: account,
  started_at: start,
  ended_at: new Date(Date.parse(start) + 600_000).toISOString(),
});

const LOGS: InputRow[] = [
  // acme: 24 accounts on WhatsApp in January, the first 6 again in February, 3 on SMS
  ...Array.from({ length: 24 }, (_, i) => talk('acme', 'wa-1', `+4470000${String(i).padStart(4, '0')}`, '2024-01-10T10:00:00Z')),
  ...Array.from({ length: 6 }, (_, i) => talk('acme', 'wa-1', `+4470000${String(i).padStart(4, '0')}`, '2024-02-10T10:00:00Z')),
  ...Array.from({ length: 3 }, (_, i) => talk('acme', 'sms-1', `+4470000${String(i).padStart(4, '0')}`, '2024-02-11T10:00:00Z')),
  // beta: Telegram and WhatsApp across three cycles
  talk('beta', 'tg-1', 't1', '2024-01-05T10:00:00Z'),
  talk('beta', 'tg-1', 't2', '2024-02-05T10:00:00Z'),
  talk('beta', 'wa-9', 'w1', '2024-02-06T10:00:00Z'),
  talk('beta', 'wa-9', 'w1', '2024-03-06T10:00:00Z'),
  // rejects: two reasons
  { ...talk('beta', 'tg-1', 'x', '2024-01-07T10:00:00Z'), customer_account_id: '' },
  { ...talk('beta', 'tg-1', 'y', '2024-01-08T10:00:00Z'), started_at: 'not a time' },
  { ...talk('beta', 'tg-1', 'z', '2024-01-09T10:00:00Z'), started_at: 'yesterday' },
];

const INTEGRATIONS = [
  { integration_id: 'wa-1', platform: 'whatsapp' },
  { integration_id: 'sms-1', platform: 'sms' },
  { integration_id: 'tg-1', platform: 'telegram' },
  { integration_id: 'wa-9', platform: 'whatsapp' },
];

type Bar = Record<string, string>;

const unescape = (text: string) =>
  text.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');

/** The data-* attributes of every bar, by the data-chart of the SVG holding it. */
function bars(html: string): Record<string, Bar[]> {
  const charts: Record<string, Bar[]> = {};
  for (const svg of html.match(/<svg[\s\S]*?<\/svg>/g) ?? []) {
    const chart = /data-chart="([^"]+)"/.exec(svg)?.[1] as string;
    for (const rect of svg.match(/<rect [^>]*class="bar"[^>]*>|<rect class="bar"[^>]*>/g) ?? []) {
      const data = Object.fromEntries([...rect.matchAll(/data-([a-z]+)="([^"]*)"/g)].map((match) => [match[1], unescape(match[2] as string)]));
      (charts[chart] ??= []).push(data as Bar);
    }
  }
  return charts;
}

const sorted = (list: string[]) => [...list].sort();

describe('convbill report', () => {
  let facts: TestBuild;
  let beforeReconcile: string;
  let html: string;
  let out: string;

  beforeAll(async () => {
    const dir = tempDir();
    const options = {
      dir,
      inputs: [writeCsv(dir, 'logs.csv', LOGS)],
      integrations: writeCsv(dir, 'integrations.csv', INTEGRATIONS),
      asOf: '2024-03-20T00:00:00Z',
    };
    facts = await buildFacts(options);
    beforeReconcile = await renderReport(facts.result.publishedDb);
    const invoices = writeCsv(dir, 'invoices.csv', [
      { invoice_id: 'A', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 24 },
      { invoice_id: 'A', org_id: 'acme', cycle_id: '2024-02-01', integration_id: 'wa-1', quantity: 7 },
    ]);
    await reconcile({ db: facts.db, invoices });
    await buildFacts({ ...options, inputs: [] });
    out = join(dir, 'report', 'report.html');
    await writeReport({ db: facts.result.publishedDb, out });
    html = readFileSync(out, 'utf8');
  });

  it('stacks conversations per cycle by platform, one chart per org, with the numbers of the database', async () => {
    const expected = await facts.rows(
      `select org_id, cycle_id, platform, sum(conversations)::integer as n from fct_conversation_counts group by all order by all`,
    );
    const drawn = bars(html).cycles ?? [];
    expect(sorted(drawn.map((bar) => `${bar.org} ${bar.cycle} ${bar.platform} ${bar.conversations}`))).toEqual(
      sorted(expected.map((row) => `${row.org_id} ${row.cycle_id} ${row.platform} ${row.n}`)),
    );
    expect(drawn).toContainEqual({ org: 'acme', cycle: '2024-02-01', platform: 'whatsapp', conversations: '6' });
    expect(html.match(/<svg[^>]*data-chart="cycles"/g)).toHaveLength(2);
    // every cycle has a column, empty ones too
    expect(html).toContain('data-cycle="2024-03-01" data-total="0"');
  });

  it('lists conversations per integration, the top 20 accounts and rejects by reason', async () => {
    const charts = bars(html);
    const integrations = await facts.rows(`select org_id, integration_id, sum(conversations)::integer as n from fct_conversation_counts group by all`);
    expect(sorted((charts.integrations ?? []).map((bar) => `${bar.org} ${bar.integration} ${bar.value}`))).toEqual(
      sorted(integrations.map((row) => `${row.org_id} ${row.integration_id} ${row.n}`)),
    );
    const accounts = await facts.rows(
      `select org_id, customer_account_id, count(*)::integer as n from fct_billable_conversations
       group by all order by n desc, org_id, customer_account_id limit 20`,
    );
    expect((charts.accounts ?? []).map((bar) => `${bar.org} ${bar.account} ${bar.value}`)).toEqual(
      accounts.map((row) => `${row.org_id} ${row.customer_account_id} ${row.n}`),
    );
    expect(charts.accounts?.[0]).toMatchObject({ account: '+44700000000', value: '3', integrations: '2', cycles: '2' });
    expect(sorted((charts.rejects ?? []).map((bar) => `${bar.reason} ${bar.value}`))).toEqual(['invalid_timestamp 2', 'missing_customer_account_id 1']);
  });

  it('shows the last reconcile, or says there is none yet', async () => {
    expect(beforeReconcile).toContain('No reconcile yet');
    expect(beforeReconcile).not.toContain('data-chart="reconcile"');
    // February's SMS usage is in the span the file invoices, and no line covers it
    expect(sorted((bars(html).reconcile ?? []).map((bar) => `${bar.status} ${bar.value}`))).toEqual(['match 1', 'not_invoiced 1', 'over_invoiced 1']);
    expect(html).toMatch(/<strong>1 of 3<\/strong> lines match/);
  });

  it('lists the run history, newest first', () => {
    const runs = [...html.matchAll(/<section id="runs">[\s\S]*?<\/section>/g)][0]?.[0] ?? '';
    expect([...runs.matchAll(/<tr><td class="num">(\d+)<\/td><td class="">build<\/td>/g)].map((match) => match[1])).toEqual(['2', '1']);
  });

  it('is one self-contained page: no script, no URL, print styles', () => {
    expect(html.replaceAll('xmlns="http://www.w3.org/2000/svg"', '')).not.toMatch(/http/i);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|src=/i);
    expect(html).toContain('@media print');
    expect(html).toMatch(/^<!doctype html>/);
  });

  it('refuses a database with no facts', async () => {
    const empty = join(tempDir(), 'empty.duckdb');
    (await Warehouse.open(empty)).close();
    await expect(renderReport(empty)).rejects.toThrow(ConfigError);
    await expect(renderReport(join(tempDir(), 'missing.duckdb'))).rejects.toThrow(/does not exist/);
  });

  it('renders in headless Chromium with the same bars, and a screenshot', (context) => {
    if (CHROMIUM === undefined) {
      if (IN_CI) throw new Error(`The report's browser test cannot run: ${NO_CHROMIUM}. CI is set, so this fails instead of skipping.`);
      process.stderr.write(`\n*** SKIPPED: report browser test: ${NO_CHROMIUM}; CI=1 makes this a failure ***\n\n`);
      context.skip();
      return;
    }
    const browser = CHROMIUM;
    // kept after the run, for a person to look at
    const keep = join(tmpdir(), 'convbill-report-test');
    mkdirSync(keep, { recursive: true });
    const page = join(keep, 'report.html');
    copyFileSync(out, page);
    const profile = tempDir('convbill-chromium-');
    const chromium = (...args: string[]) =>
      spawnSync(browser, ['--headless', '--no-sandbox', '--disable-gpu', `--user-data-dir=${profile}`, ...args, pathToFileURL(page).href], {
        encoding: 'utf8',
        timeout: 90_000,
      });
    const dump = chromium('--dump-dom');
    expect(dump.status, dump.stderr).toBe(0);
    const rendered = bars(dump.stdout);
    expect(rendered.cycles).toEqual(bars(html).cycles);
    expect(rendered.integrations).toEqual(bars(html).integrations);
    expect(rendered.accounts).toHaveLength(20);
    expect(dump.stdout).toContain('data-chart="reconcile"');

    const screenshot = join(keep, 'report.png');
    const shot = chromium(`--screenshot=${screenshot}`, '--window-size=1280,2000', '--hide-scrollbars');
    expect(shot.status, shot.stderr).toBe(0);
    expect(readFileSync(screenshot).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(statSync(screenshot).size).toBeGreaterThan(20_000);
    console.log(`report screenshot: ${screenshot} (page: ${page})`);
  }, 200_000);
});
