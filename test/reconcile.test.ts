/**
 * Reconcile on small hand-built data: every status, every usual cause of a
 * difference found and shown, tolerances, amounts, restatements flagged,
 * bad invoice files refused naming the line, and the exit statuses.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/engine/errors.js';
import { type ReconcileResult, reconcile } from '../src/read/reconcile.js';
import { type InputRow, type TestBuild, buildFacts, rows, tempDir, writeCsv } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');

const talk = (org: string, integration: string, account: string, start: string, id = `${integration}-${account}-${start}`, minutes = 10): InputRow => ({
  org_id: org,
  interaction_id: id,
  integration_id: integration,
  customer_account_id: account,
  started_at: start,
  ended_at: new Date(Date.parse(start) + minutes * 60_000).toISOString(),
});

const INTEGRATIONS = [
  ['wa-1', 'whatsapp'], ['wa-2', 'whatsapp'], ['sms-1', 'sms'], ['sms-2', 'sms'], ['tg-1', 'telegram'], ['fb-1', 'messenger'],
  ['line-1', 'line'], ['line-2', 'line'], ['ig-1', 'instagram'],
].map(([integration_id, platform]) => ({ integration_id, platform }));

const LOGS: InputRow[] = [
  // acme bills in Europe/Paris: its January ends at 2024-01-31T23:00Z
  ...['a1', 'a2', 'a3'].map((a) => talk('acme', 'wa-1', a, '2024-01-10T10:00:00Z')),
  ...['b1', 'b2'].map((a) => talk('acme', 'wa-2', a, '2024-01-10T10:00:00Z')),
  talk('acme', 'wa-2', 'b3', '2024-01-31T23:30:00Z'),
  // beta bills in UTC
  talk('beta', 'sms-1', 's1', '2024-01-10T10:00:00Z'),
  talk('beta', 'sms-1', 's2', '2024-02-01T00:00:00Z'),
  talk('beta', 'sms-2', 'z1', '2024-01-10T10:00:00Z'),
  talk('beta', 'tg-1', 't1', '2024-01-10T10:00:00Z'),
  talk('beta', 'tg-1', 'u1', '2024-01-12T10:00:00Z', 'tc'),
  talk('beta', 'tg-1', 'u2', '2024-01-12T10:00:00Z', 'tc'),
  talk('beta', 'fb-1', 'f1', '2024-02-10T10:00:00Z'),
  talk('beta', 'fb-1', 'f2', '2024-02-20T10:00:00Z'),
  ...['05', '06', '07'].map((day) => talk('beta', 'line-1', 'l1', `2024-01-${day}T10:00:00Z`)),
  talk('beta', 'line-2', 'l2', '2024-01-08T10:00:00Z', 'd1'),
  talk('beta', 'line-2', 'l2', '2024-01-08T10:00:00Z', 'd1'),
  talk('beta', 'wa-1', 'w1', '2024-01-10T10:00:00Z'),
  talk('beta', 'ig-1', 'i1', '2024-01-10T10:00:00Z'),
  talk('beta', 'ig-1', 'i2', '2024-01-12T10:00:00Z', 'backwards', -30),
];

const INVOICE_COLUMNS = ['invoice_id', 'org_id', 'cycle_id', 'period_start', 'period_end', 'platform', 'integration_id', 'quantity', 'amount', 'currency', 'invoice_date'];

const INVOICES: InputRow[] = [
  { invoice_id: 'INV-1', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 3 },
  { invoice_id: 'INV-1', org_id: 'acme', period_start: '2024-01-01', period_end: '2024-01-31', integration_id: 'wa-2', quantity: 3 },
  { invoice_id: 'INV-1', org_id: 'acme', cycle_id: '2024-01-01', platform: 'whatsapp', quantity: 6 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-02-01', integration_id: 'sms-1', quantity: 1 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'sms-1', quantity: 2 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'tg-1', quantity: 2 },
  { invoice_id: 'INV-2', org_id: 'beta', period_start: '2024-02-01T00:00:00Z', period_end: '2024-03-01T00:00:00Z', integration_id: 'fb-1', quantity: 2 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'line-1', quantity: 3 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'line-2', quantity: 2 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'ghost', quantity: 4 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 2 },
  { invoice_id: 'INV-2', org_id: 'beta', cycle_id: '2024-01-01', integration_id: 'ig-1', quantity: 2 },
];

async function sharedBuild(): Promise<TestBuild> {
  const dir = tempDir();
  return buildFacts({
    dir,
    inputs: [writeCsv(dir, 'logs.csv', LOGS)],
    integrations: writeCsv(dir, 'integrations.csv', INTEGRATIONS),
    cycles: { orgRules: { acme: { anchorDay: 1, timezone: 'Europe/Paris' } } },
    asOf: '2024-02-15T00:00:00Z',
  });
}

function byLine(result: ReconcileResult) {
  return result.lines.map((line) => {
    return [line.line_label ?? `${line.org_id} ${line.cycle_id} ${line.integration_id}`, line.invoiced_conversations, line.computed_conversations, line.status, line.explained_by];
  });
}

describe('reconcile', () => {
  let built: TestBuild;
  beforeAll(async () => {
    built = await sharedBuild();
  });

  it('gives each line its status and the usual cause that explains its difference', async () => {
    const invoices = writeCsv(built.dir, 'invoices.csv', INVOICES, INVOICE_COLUMNS);
    const result = await reconcile({ db: built.db, invoices });
    expect(byLine(result)).toEqual([
      ['line 2', 3, 3, 'match', null],
      // b3 started at 00:30 on 1 February in Paris, 23:30 on 31 January in UTC
      ['line 3', 3, 2, 'over_invoiced', 'utc_cycle_boundaries'],
      // a line per platform is compared with the sum of its integrations
      ['line 4', 6, 5, 'over_invoiced', 'utc_cycle_boundaries'],
      ['line 5', 1, 1, 'match', null],
      // s2 started at the very first instant of February
      ['line 6', 2, 1, 'over_invoiced', 'inclusive_cycle_end'],
      ['line 7', 2, 1, 'over_invoiced', 'rejected_conflicting_customer_account'],
      ['line 8', 2, 1, 'over_invoiced', 'rejected_after_as_of'],
      ['line 9', 3, 1, 'over_invoiced', 'interactions_counted'],
      ['line 10', 2, 1, 'over_invoiced', 'duplicate_rows_counted'],
      ['line 11', 4, 0, 'no_usage', null],
      ['line 12', 2, 1, 'over_invoiced', null],
      // i2's row ended before it started: rejected, but its start can be read
      ['line 13', 2, 1, 'over_invoiced', 'rejected_ended_before_started'],
      ['beta 2024-01-01 sms-2', 0, 1, 'not_invoiced', null],
    ]);
    expect(result.differences).toBe(11);
  });

  it('shows every recount next to the invoiced count', async () => {
    const invoices = writeCsv(built.dir, 'invoices.csv', INVOICES, INVOICE_COLUMNS);
    const result = await reconcile({ db: built.db, invoices });
    const recounts = result.alternatives
      .filter((alternative) => alternative.source_row === 2)
      .map((alternative) => [alternative.cause, alternative.invoiced_conversations, alternative.recomputed_conversations, alternative.explains]);
    expect(recounts).toEqual([
      ['late_data', 3, null, false],
      ['utc_cycle_boundaries', 3, 3, true],
      ['inclusive_cycle_end', 3, 2, false],
      ['rejected_conflicting_customer_account', 3, 2, false],
      ['rejected_after_as_of', 3, 2, false],
      ['rejected_ended_before_started', 3, 2, false],
      ['rejected_invalid_timestamp', 3, 2, false],
      ['interactions_counted', 3, 2, false],
      ['duplicate_rows_counted', 3, 2, false],
    ]);
  });

  it('a tolerance turns small differences into matches: absolute, relative, or both', async () => {
    const invoices = writeCsv(built.dir, 'one.csv', [INVOICES[10] as InputRow], INVOICE_COLUMNS);
    const statusWith = async (absolute: number | null, relative: number | null) =>
      byLine(await reconcile({ db: built.db, invoices, tolerance: { absolute, relative } }))
        .filter((line) => line[0] === 'line 2')
        .map((line) => line[3]);
    expect(await statusWith(null, null)).toEqual(['over_invoiced']);
    expect(await statusWith(1, null)).toEqual(['match']);
    expect(await statusWith(null, 0.5)).toEqual(['over_invoiced']);
    expect(await statusWith(null, 1)).toEqual(['match']);
  });

  it('late data: the count as published before the invoice date, or by an earlier build', async () => {
    const dir = tempDir();
    const integrations = writeCsv(dir, 'integrations.csv', INTEGRATIONS);
    const early = writeCsv(dir, 'early.csv', [talk('gamma', 'wa-1', 'g1', '2024-01-10T10:00:00Z'), talk('gamma', 'wa-1', 'g2', '2024-01-11T10:00:00Z')]);
    await buildFacts({ dir, inputs: [early], integrations, asOf: '2024-02-15T00:00:00Z' });
    const invoiceDate = new Date().toISOString();
    const late = writeCsv(dir, 'late.csv', [talk('gamma', 'wa-1', 'g3', '2024-01-20T10:00:00Z')]);
    const built2 = await buildFacts({ dir, inputs: [late], integrations, asOf: '2024-02-15T00:00:00Z' });
    const line = { invoice_id: 'G', org_id: 'gamma', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 2 };
    for (const invoice_date of [invoiceDate, '']) {
      const invoices = writeCsv(dir, 'invoices.csv', [{ ...line, invoice_date }], INVOICE_COLUMNS);
      const result = await reconcile({ db: built2.db, invoices });
      expect(byLine(result)).toEqual([['line 2', 2, 3, 'under_invoiced', 'late_data']]);
    }
  });

  it('amounts: a line whose count matches but whose amount differs is over or under invoiced', async () => {
    const dir = tempDir();
    const prices = writeCsv(dir, 'prices.csv', [{ platform: 'whatsapp', currency: 'EUR', unit_price: '0.10' }]);
    const logs = writeCsv(dir, 'logs.csv', [talk('acme', 'wa-1', 'a1', '2024-01-10T10:00:00Z'), talk('acme', 'wa-1', 'a2', '2024-01-10T10:00:00Z')]);
    const facts = await buildFacts({ dir, inputs: [logs], integrations: writeCsv(dir, 'integrations.csv', INTEGRATIONS), priceBook: prices, asOf: '2024-02-15T00:00:00Z' });
    const line = { invoice_id: 'A', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 2, currency: 'EUR' };
    const invoices = writeCsv(dir, 'invoices.csv', [{ ...line, amount: '0.20' }, { ...line, amount: '0.25' }, { ...line, amount: '0.19' }], INVOICE_COLUMNS);
    expect(byLine(await reconcile({ db: facts.db, invoices })).map((l) => [l[3], l[4]])).toEqual([
      ['match', null],
      ['over_invoiced', 'amount_differs'],
      ['under_invoiced', 'amount_differs'],
    ]);
  });

  it('a cycle restated after a reconcile is flagged in the next one', async () => {
    const dir = tempDir();
    const integrations = writeCsv(dir, 'integrations.csv', INTEGRATIONS);
    const first = writeCsv(dir, 'first.csv', [talk('gamma', 'wa-1', 'g1', '2024-01-10T10:00:00Z')]);
    const facts = await buildFacts({ dir, inputs: [first], integrations, asOf: '2024-02-15T00:00:00Z' });
    const invoices = writeCsv(dir, 'invoices.csv', [{ invoice_id: 'G', org_id: 'gamma', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 1 }], INVOICE_COLUMNS);
    const restated = async () => {
      const result = await reconcile({ db: facts.db, invoices });
      return result.lines.map((line) => line.restated_since_reconciled);
    };
    expect(await restated()).toEqual([false]);
    expect(await restated()).toEqual([false]);
    const late = writeCsv(dir, 'late.csv', [talk('gamma', 'wa-1', 'g2', '2024-01-20T10:00:00Z')]);
    const rebuilt = await buildFacts({ dir, inputs: [late], integrations, asOf: '2024-02-15T00:00:00Z' });
    // the build after a reconcile publishes its report for analysts
    expect(await rows(rebuilt.result.publishedDb as string, `select status from rpt_invoice_reconciliation`)).toEqual([{ status: 'match' }]);
    expect(await restated()).toEqual([true]);
    expect(await restated()).toEqual([false]);
  });

  it.each([
    [{ invoice_id: 'X', org_id: 'beta', cycle_id: '2024-01-01', quantity: 'many' }, /Invoice file .*bad\.csv, line 2: quantity "many" is not a whole number/],
    [{ invoice_id: 'X', org_id: 'beta', quantity: 1 }, /line 2: the cycle is missing: give cycle_id, or period_start and period_end/],
    [{ invoice_id: 'X', org_id: 'beta', cycle_id: '2024-01-01', platform: 'sms', integration_id: 'sms-1', quantity: 1 }, /line 2: give a platform or an integration_id, not both/],
    [{ invoice_id: 'X', org_id: 'beta', period_start: 'soon', period_end: '2024-02-01', quantity: 1 }, /line 2: period_start "soon" is not a date/],
    [{ invoice_id: '', org_id: 'beta', cycle_id: '2024-01-01', quantity: 1 }, /line 2: invoice_id is missing/],
  ])('a bad invoice line is a usage error naming the line: %j', async (line, message) => {
    const invoices = writeCsv(built.dir, 'bad.csv', [line], INVOICE_COLUMNS);
    await expect(reconcile({ db: built.db, invoices })).rejects.toThrow(ConfigError);
    await expect(reconcile({ db: built.db, invoices })).rejects.toThrow(message);
  });

  it('reads invoice lines from JSON too, and names a bad record by its place', async () => {
    const good = join(built.dir, 'invoices.json');
    writeFileSync(good, JSON.stringify([{ invoice_id: 'J', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 3 }]));
    expect(byLine(await reconcile({ db: built.db, invoices: good })).filter((line) => line[0] === 'record 1')).toEqual([['record 1', 3, 3, 'match', null]]);
    const bad = join(built.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify([{ invoice_id: 'J', cycle_id: '2024-01-01', quantity: 1 }, { invoice_id: 'K', cycle_id: '2024-01-01', quantity: 1.5 }]));
    await expect(reconcile({ db: built.db, invoices: bad })).rejects.toThrow(/Invoice file .*bad\.json, record 2: quantity "1\.5" is not a whole number/);
  });

  it('the command exits 3 when differences remain, 0 when all match, 2 on a bad file; JSON and markdown reports', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [cliPath, 'reconcile', '--db', built.db, ...args], { encoding: 'utf8' });
    const all = writeCsv(built.dir, 'cli-all.csv', INVOICES, INVOICE_COLUMNS);
    const differing = run(['--invoices', all, '--format', 'json']);
    expect(differing.status).toBe(3);
    expect(differing.stderr.trim()).toBe('convbill: 11 of 13 reconciliation lines differ beyond the tolerance (see table rpt_invoice_reconciliation).');
    const report = JSON.parse(differing.stdout);
    expect(report.lines[1]).toMatchObject({ status: 'over_invoiced', explained_by: 'utc_cycle_boundaries' });
    expect(report.lines[1].alternatives).toHaveLength(9);
    const matching = writeCsv(
      built.dir,
      'cli-match.csv',
      [INVOICES[0] as InputRow, { invoice_id: 'INV-1', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-2', quantity: 2 }],
      INVOICE_COLUMNS,
    );
    const ok = run(['--invoices', matching, '--format', 'markdown']);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/^Reconcile \d+ against build 1: 2 of 2 lines match\.\n\n\| line \| invoice \| org \| cycle \| scope \|/);
    expect(ok.stdout).toMatch(/\| line 2 \| INV-1 \| acme \| 2024-01-01 \| wa-1 \| 3 \| 3 \| 0 \|  \| match \|/);
    const bad = run(['--invoices', writeCsv(built.dir, 'cli-bad.csv', [{ invoice_id: 'X', quantity: 'x' }], INVOICE_COLUMNS)]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^convbill: Invoice file .*, line 2: quantity "x" is not a whole number of conversations\.\n$/);
  });
});
