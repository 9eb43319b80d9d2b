/**
 * One org's part of the report: its headline, the invoice of its latest
 * complete cycle, every cycle with its local dates, the trends in counts and
 * amounts, its reconciliation, rejects and top accounts. Everything here is
 * the org's own: amounts stay in their currency and nothing is summed across
 * orgs, whose currencies and cycles differ.
 */
import { AMOUNT_COLOURS, PALETTE, STATUS_COLOURS, barList, columnChart, legend } from './report-charts.js';
import type { ReportFacts, Row } from './report-facts.js';
import { type Column, dataAttributes, empty, esc, fmt, money, table } from './report-html.js';

export interface OrgContext {
  facts: ReportFacts;
  colour: (platform: string) => string;
  showAccounts: boolean;
}

const STATUS_TEXT: Record<string, string> = { complete: 'complete', in_progress: 'in progress', upcoming: 'not started' };
const days = (cycle: Row) => (cycle.first_day === cycle.last_day ? String(cycle.first_day) : `${cycle.first_day} – ${cycle.last_day}`);
/** Adds up a column of the few aggregated rows a section shows (never fact rows). */
const sum = (rows: Row[], key: string) => rows.reduce((total, row) => total + (row[key] as number), 0);
const amountText = (amounts: Row[]) => amounts.map((row) => `${money(row.amount)} ${row.currency}`).join('; ');

export function orgSection(org: string, anchor: string, { facts, colour, showAccounts }: OrgContext): string {
  const mine = (rows: Row[]) => rows.filter((row) => row.org_id === org);
  const cycles = mine(facts.cycles);
  const amounts = mine(facts.amounts);
  const amountsOf = (cycle: Row) => amounts.filter((row) => row.cycle_start === cycle.cycle_start);
  const invoiced = cycles.find((cycle) => cycle.latest_complete === true);
  const current = cycles.find((cycle) => cycle.status === 'in_progress');
  const rejects = mine(facts.rejects);
  const rejected = sum(rejects, 'rows');
  const currencies = [...new Set(amounts.map((row) => row.currency as string))].sort();

  const cards: [string, string, string][] = [
    ['invoiced', 'latest complete cycle', invoiced ? `${invoiced.cycle_id}` : 'none yet'],
    ['conversations', 'conversations', invoiced ? fmt(invoiced.conversations as number) : '-'],
    ['billable', 'billable after allowance', invoiced?.billable_conversations == null ? '-' : fmt(invoiced.billable_conversations as number)],
    ...(invoiced && amountsOf(invoiced).length
      ? amountsOf(invoiced).map((row): [string, string, string] => ['amount', `amount ${row.currency}`, money(row.amount)])
      : [['amount', 'amount', invoiced ? 'no price' : '-'] as [string, string, string]]),
    ['in-progress', 'in progress', current ? `${current.cycle_id}: ${fmt(current.conversations as number)} so far` : 'none'],
    ['rejected', 'rejected rows', fmt(rejected)],
  ];

  return `<section class="org" id="${esc(anchor)}" data-org="${esc(org)}">
<h2>${esc(org)}${currencies.length ? ` <small>${esc(currencies.join(', '))}</small>` : ''}</h2>
<div class="cards">${cards.map(([key, name, value]) => `<div class="card" data-card="${esc(key)}"><span>${esc(name)}</span><b>${esc(value)}</b></div>`).join('')}</div>
<h3>Invoice${invoiced ? `: cycle ${esc(invoiced.cycle_id)} <small>${esc(days(invoiced))} (${esc(invoiced.timezone)}), complete</small>` : ''}</h3>
${invoiceTable(org, invoiced, current, mine(facts.invoiceLines), invoiced ? amountsOf(invoiced) : [])}
<h3>Cycles <small>local dates in each cycle's timezone; as of ${esc(facts.build.as_of_text)}</small></h3>
${cycleTable(org, cycles, amountsOf, mine(facts.reconcile?.cycles ?? []), facts.reconcile !== undefined)}
<h3>Trend</h3>
${trend(org, cycles, mine(facts.cyclePlatforms), amounts, currencies, colour)}
<h3>Reconciliation</h3>
${reconciliation(org, facts, mine(facts.reconcile?.cycles ?? []), mine(facts.reconcile?.lines ?? []))}
<h3>Rejected rows, by reason</h3>
${rejects.length ? barList('rejects', rejects.map((row) => ({ label: row.reason as string, value: row.rows as number, colour: '#d55e00', attributes: { org, reason: row.reason as string } }))) : empty('No rejected rows.')}
<h3>Top ${esc(mine(facts.accounts).length || 20)} accounts by conversations <small>all cycles${showAccounts ? '' : '; ids masked (last 4 characters and a tag), --show-accounts shows them'}</small></h3>
${accounts(org, mine(facts.accounts))}
</section>`;
}

function invoiceTable(org: string, cycle: Row | undefined, current: Row | undefined, lines: Row[], totals: Row[]): string {
  if (!cycle) {
    return empty(current
      ? `No complete cycle yet: ${current.cycle_id} (${days(current)}, ${current.timezone}) is in progress; it is invoiced once it ends.`
      : 'No complete cycle yet.');
  }
  if (!lines.length) return empty(`No conversations in cycle ${cycle.cycle_id}.`);
  const columns: Column[] = [
    { head: 'integration', key: 'integration_id', text: (row) => (row.integration_name ? `${row.integration_id} · ${row.integration_name}` : String(row.integration_id)) },
    { head: 'platform', key: 'platform' },
    { head: 'conversations', key: 'conversations', kind: 'num' },
    { head: 'billable after allowance', key: 'billable_conversations', kind: 'num' },
    { head: 'amount', key: 'amount', kind: 'money', text: (row) => (row.price_status === 'priced' ? money(row.amount) : 'no price') },
    { head: 'currency', key: 'currency' },
  ];
  const unpriced = sum(lines.filter((row) => row.price_status !== 'priced'), 'conversations');
  const foot = [
    ...totals.map((row) => `<tr data-total="${esc(row.currency)}"><th colspan="2">Total ${esc(row.currency)}</th><td data-col="conversations" class="num">${esc(fmt(row.conversations as number))}</td><td data-col="billable_conversations" class="num">${esc(fmt(row.billable_conversations as number))}</td><td data-col="amount" class="num">${esc(money(row.amount))}</td><td data-col="currency">${esc(row.currency)}</td></tr>`),
    unpriced ? `<tr data-total="no_price"><th colspan="2">No price</th><td data-col="conversations" class="num">${esc(fmt(unpriced))}</td><td colspan="3">not charged: the price book has no price for these</td></tr>` : '',
  ].join('');
  return table('invoice', columns, lines, {
    attributes: (row) => ({ org, cycle: cycle.cycle_id, integration: row.integration_id, platform: row.platform, status: row.price_status }),
    foot: `<tfoot>${foot}</tfoot>`,
  });
}

function cycleTable(org: string, cycles: Row[], amountsOf: (cycle: Row) => Row[], reconciled: Row[], hasReconcile: boolean): string {
  const reconcileText = (cycle: Row) => {
    const statuses = reconciled.filter((row) => row.cycle_id === cycle.cycle_id);
    if (!statuses.length) return 'not reconciled';
    const lines = sum(statuses, 'lines');
    const matching = sum(statuses.filter((row) => row.status === 'match'), 'lines');
    const others = statuses.filter((row) => row.status !== 'match').map((row) => `${row.status} ${fmt(row.lines as number)}`);
    const match = others.length ? `${fmt(matching)} of ${fmt(lines)} lines match (${others.join(', ')})` : `all ${fmt(lines)} lines match`;
    return `${match}${statuses.some((row) => row.restated === true) ? '; restated since' : ''}`;
  };
  const columns: Column[] = [
    { head: 'cycle', key: 'cycle_id' },
    { head: 'first day', key: 'first_day' },
    { head: 'last day', key: 'last_day' },
    { head: 'timezone', key: 'timezone' },
    { head: 'status', key: 'status', text: (row) => STATUS_TEXT[row.status as string] ?? String(row.status), classes: (row) => `status ${row.status === 'complete' ? 'ok' : 'pending'}` },
    { head: 'conversations', key: 'conversations', kind: 'num' },
    { head: 'billable', key: 'billable_conversations', kind: 'num', text: (row) => (row.billable_conversations === null ? '-' : fmt(row.billable_conversations as number)) },
    {
      head: 'amount',
      key: 'amount',
      kind: 'money',
      text: (row) => [amountText(amountsOf(row)), (row.unpriced_conversations as number) > 0 ? `${fmt(row.unpriced_conversations as number)} without price` : ''].filter(Boolean).join('; ') || '-',
    },
    { head: 'reconciliation', key: 'reconciliation', text: hasReconcile ? reconcileText : () => 'not reconciled' },
  ];
  return table('cycles', columns, cycles, {
    attributes: (row) => ({ org, cycle: row.cycle_id, status: row.status, start: row.cycle_start, end: row.cycle_end }),
  });
}

function trend(org: string, cycles: Row[], platforms: Row[], amounts: Row[], currencies: string[], colour: (platform: string) => string): string {
  if (!cycles.some((cycle) => (cycle.conversations as number) > 0)) return empty('No conversations yet.');
  const shown = [...new Set(platforms.map((row) => row.platform as string))].sort();
  const counts = columnChart('cycles', org, cycles.map((cycle) => ({
    cycle: cycle.cycle_id as string,
    status: cycle.status as string,
    total: fmt(cycle.conversations as number),
    parts: platforms
      .filter((row) => row.cycle_start === cycle.cycle_start)
      .map((row) => ({ name: row.platform as string, value: row.conversations as number, colour: colour(row.platform as string) })),
  })), { attribute: 'conversations', whole: true });
  const amountCharts = currencies.map((currency, i) => {
    const columns = cycles.map((cycle) => {
      const row = amounts.find((candidate) => candidate.cycle_start === cycle.cycle_start && candidate.currency === currency);
      const text = row ? money(row.amount) : '0.00';
      return { cycle: cycle.cycle_id as string, status: cycle.status as string, total: `${text} ${currency}`, parts: row ? [{ name: currency, value: Number(row.amount), text, colour: AMOUNT_COLOURS[i % AMOUNT_COLOURS.length] as string }] : [] };
    });
    return `<figure><figcaption>Amount per cycle, ${esc(currency)}</figcaption>${columnChart('amounts', org, columns, { attribute: 'amount', whole: false })}</figure>`;
  });
  const note = cycles.some((cycle) => cycle.status !== 'complete') ? '<p class="note">Pale, dashed columns are cycles still in progress at the as-of: their counts can still grow.</p>' : '';
  return `<figure><figcaption>Conversations per cycle, by platform</figcaption>${legend(shown, colour)}${counts}</figure>${amountCharts.join('')}${note}`;
}

function reconciliation(org: string, facts: ReportFacts, cycles: Row[], lines: Row[]): string {
  const reconcile = facts.reconcile;
  if (!reconcile) return `<p class="reconcile-status" data-status="not_reconciled"><strong>Not reconciled.</strong> No invoice file has been reconciled against these facts: run "convbill reconcile --invoices FILE"; the next build publishes its result.</p>`;
  const file = reconcile.last ? ` (<code>${esc(reconcile.last.invoice_file)}</code>)` : '';
  if (!cycles.length) return `<p class="reconcile-status" data-status="not_reconciled"><strong>Not reconciled.</strong> The last reconcile's invoice file${file} has no line for ${esc(org)}.</p>`;
  const total = sum(cycles, 'lines');
  const matching = sum(cycles.filter((row) => row.status === 'match'), 'lines');
  const restated = [...new Set(cycles.filter((row) => row.restated === true).map((row) => row.cycle_id))];
  const { last } = reconcile;
  const status = matching === total ? 'match' : 'differences';
  const head = `<p class="reconcile-status"${dataAttributes({ status, lines: total, matching })}>${last ? `Reconcile ${esc(last.reconcile_id)}${file} at ${esc(last.reconciled_at)}, against build ${esc(last.run_id)}: ` : ''}<strong>${esc(fmt(matching))} of ${esc(fmt(total))}</strong> lines match.${restated.length ? ` Cycles restated since: ${esc(restated.join(', '))}.` : ''}</p>`;
  const statuses = barList('reconcile', [...new Set(cycles.map((row) => row.status as string))].map((name) => ({
    label: name,
    value: sum(cycles.filter((row) => row.status === name), 'lines'),
    colour: STATUS_COLOURS[name] ?? '#d55e00',
    attributes: { org, status: name },
  })));
  const differing = lines.length
    ? table('reconcile-lines', [
        { head: 'line', key: 'line' }, { head: 'cycle', key: 'cycle_id' }, { head: 'scope', key: 'scope' },
        { head: 'invoiced', key: 'invoiced', kind: 'num' }, { head: 'computed', key: 'computed', kind: 'num' }, { head: 'difference', key: 'difference', kind: 'num' },
        { head: 'status', key: 'status' }, { head: 'explained by', key: 'explained_by' },
      ], lines, { attributes: (row) => ({ org, line: row.line }) })
    : '';
  return head + statuses + differing;
}

function accounts(org: string, rows: Row[]): string {
  if (!rows.length) return empty('No conversations yet.');
  return barList('accounts', rows.map((row) => ({
    label: row.account as string,
    value: row.conversations as number,
    colour: PALETTE[0] as string,
    attributes: { org, account: row.account as string, integrations: row.integrations as number, cycles: row.cycles as number },
  })));
}
