/**
 * `convbill report` escapes every value from data: org, integration, cycle
 * and account ids (shown and masked), platforms, the integrations' names,
 * currencies, file paths, the reconcile's lines, the run history's errors and
 * the --org asked for, in HTML text, in attributes and in SVG titles. Markup
 * in the data never becomes markup.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { esc } from '../src/read/report-html.js';
import { reconcile } from '../src/read/reconcile.js';
import { buildFacts, tempDir, writeCsv } from './helpers.js';

const SCRIPT = '<script>alert(1)</script>';
const IMG = '"><img src=x onerror=alert(1)>';
const AMP = 'a&amp;b';
const QUOTE = "o'neil";
const PAYLOADS = [SCRIPT, IMG, AMP, QUOTE];

/** Everything the page may hold: its own tags, never one from the data. */
const TAGS = new Set([
  'html', 'head', 'meta', 'title', 'style', 'body', 'header', 'h1', 'h2', 'p', 'small', 'code', 'strong', 'div', 'span', 'b', 'i',
  'section', 'figure', 'figcaption', 'svg', 'g', 'line', 'rect', 'text', 'table', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'footer',
  'h3', 'nav', 'ul', 'li', 'a',
]);

const pages: Record<string, string> = {};
let workingDb = '';

beforeAll(async () => {
  const dir = join(tempDir(), `${IMG} ${AMP} ${QUOTE}`);
  mkdirSync(dir, { recursive: true });
  const rows = [
    { org_id: SCRIPT, interaction_id: 'i1', integration_id: IMG, customer_account_id: `${QUOTE} ${IMG}`, started_at: '2024-01-10T10:00:00Z', ended_at: '2024-01-10T11:00:00Z' },
    { org_id: `${AMP} ${QUOTE}`, interaction_id: 'i2', integration_id: SCRIPT, customer_account_id: SCRIPT, started_at: '2024-01-11T10:00:00Z', ended_at: '2024-01-11T11:00:00Z' },
    { org_id: SCRIPT, interaction_id: 'i3', integration_id: IMG, customer_account_id: '', started_at: '2024-01-12T10:00:00Z', ended_at: SCRIPT },
  ];
  const input = writeCsv(dir, `${IMG} ${QUOTE}.csv`, rows);
  const options = {
    dir,
    inputs: [input],
    integrations: writeCsv(dir, `${IMG}-integrations.csv`, [
      { integration_id: IMG, platform: `<b>${AMP}</b>`, org_id: SCRIPT, name: SCRIPT },
      { integration_id: SCRIPT, platform: QUOTE, name: IMG },
    ]),
    cycles: { calendar: writeCsv(dir, `${QUOTE}-calendar.csv`, [{ org_id: SCRIPT, cycle_start: '2024-01-01', cycle_end: '2024-02-01', cycle_id: `${IMG} c1` }]) },
    // the cycle has ended at the as-of, so it is invoiced
    asOf: '2024-02-10T00:00:00Z',
    prices: [{ org_id: SCRIPT, currency: IMG, unit_price: '0.5' }],
  };
  const built = await buildFacts(options);
  workingDb = built.db;
  await reconcile({
    db: built.db,
    invoices: writeCsv(dir, `${IMG}-invoices.csv`, [{ invoice_id: SCRIPT, org_id: SCRIPT, cycle_id: `${IMG} c1`, integration_id: IMG, quantity: 99 }]),
  });
  // a failed build puts its error, which names the nasty folder, into the run history
  const failed = await runCli(['build', '--db', built.db, '--input', input, '--as-of', '2024-02-10T00:00:00Z', '--max-reject-rate', '0'], {
    out: () => undefined,
    err: () => undefined,
  });
  expect(failed).toBe(1);
  const published = built.result.publishedDb;
  const renders: [string, string[]][] = [
    ['working', ['--db', built.db, '--show-accounts']],
    ['published', ['--db', published]],
    ['one org', ['--db', published, '--org', SCRIPT, '--show-accounts']],
  ];
  for (const [name, flags] of renders) {
    const out = join(dir, `${IMG} ${name}.html`);
    expect(await runCli(['report', ...flags, '--out', out], { out: () => undefined, err: () => undefined })).toBe(0);
    pages[name] = readFileSync(out, 'utf8');
  }
}, 120_000);

describe('convbill report escapes every value', () => {
  for (const name of ['working', 'published', 'one org']) {
    it(`${name}: only the page's own tags, no event handler, no script`, () => {
      const html = pages[name] as string;
      for (const [, tag, attributes] of html.matchAll(/<\/?([a-zA-Z][\w-]*)([^>]*)>/g)) {
        expect(TAGS, `<${tag}>`).toContain((tag as string).toLowerCase());
        // attribute names, once quoted values are set aside (a value holds no raw quote)
        const names = [...(attributes as string).replace(/"[^"]*"/g, '""').matchAll(/([^\s=/]+)=/g)].map((match) => match[1]);
        for (const attribute of names) expect(attribute, `<${tag} ${attribute}=…>`).not.toMatch(/^on/i);
      }
      expect(html).not.toMatch(/<script|<img/i);
    });

    it(`${name}: every payload is there in its escaped form, none raw`, () => {
      const html = pages[name] as string;
      for (const payload of PAYLOADS) {
        expect(html, payload).toContain(esc(payload));
        expect(html.split(payload).length - 1, payload).toBe(0);
      }
      expect(esc(SCRIPT)).toBe('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(esc(IMG)).toBe('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
      expect(esc(AMP)).toBe('a&amp;amp;b');
      expect(esc(QUOTE)).toBe('o&#39;neil');
    });
  }

  it('the values are where they belong: bars, titles, the reconcile table, the run history, the file path', () => {
    const html = pages.working as string;
    expect(html).toContain(`data-org="${esc(SCRIPT)}"`);
    expect(html).toContain(`data-integration="${esc(IMG)}"`);
    expect(html).toContain(`data-account="${esc(`${QUOTE} ${IMG}`)}"`);
    expect(html).toContain(`data-cycle="${esc(`${IMG} c1`)}"`);
    expect(html).toContain(`data-platform="${esc(`<b>${AMP}</b>`)}"`);
    expect(html).toMatch(new RegExp(`<title>[^<]*${esc(IMG).replace(/[()]/g, '\\$&')}`));
    expect(html).toContain(`<td data-col="integration_id">${esc(`${IMG} · ${SCRIPT}`)}</td>`);
    // the price book upper-cases currency codes, markup and all
    expect(html).toContain(`<td data-col="currency">${esc(IMG.toUpperCase())}</td>`);
    expect(html).toContain(`<tr data-total="${esc(IMG.toUpperCase())}"><th colspan="2">Total ${esc(IMG.toUpperCase())}</th>`);
    expect(html).toContain(`<td data-col="scope">${esc(IMG)}</td>`);
    expect(html).toMatch(/<td data-col="error">[^<]*more than --max-reject-rate 0[^<]*&quot;&gt;&lt;img src=x onerror=alert\(1\)&gt;/);
    expect(html).toContain(`<code>${esc(workingDb)}</code>`);
    expect(pages['one org']).toContain(`<h1>Billable conversations: ${esc(SCRIPT)}</h1>`);
    expect(pages['one org']).toContain(`<title>convbill report: ${esc(SCRIPT)}</title>`);
  });

  it('masks the nasty account ids too, and the masks are plain text', () => {
    const html = pages.published as string;
    expect(html).not.toContain(esc(`${QUOTE} ${IMG}`));
    for (const account of [`${QUOTE} ${IMG}`, SCRIPT]) {
      expect(html).toMatch(new RegExp(`data-account="${esc(`••••${account.slice(-4)}`).replace(/[()]/g, '\\$&')} #[0-9a-f]{4}"`));
    }
  });
});
