/**
 * `convbill report`: one self-contained HTML page of the published facts for
 * people who will not write SQL: conversations per cycle by platform, per
 * integration, the top accounts, rejects, the last reconcile and the run
 * history.
 *
 * Self-contained because it is mailed, archived next to invoices and opened
 * offline: inline CSS and inline SVG only, no script, no font or URL to
 * fetch. Each bar carries its numbers in data-* attributes, so a test (or a
 * curious reader of the source) can check the picture against the database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PALETTE, STATUS_COLOURS, barList, legend, stackedChart } from './report-charts.js';
import { type Row, readFacts } from './report-facts.js';
import { empty, esc, fmt, table } from './report-html.js';
import { CSS } from './report-style.js';

export interface ReportOptions {
  /** the database to read, read-only: normally the published copy */
  db: string;
  /** the HTML file to write */
  out: string;
}

/** Writes the report and returns its path. */
export async function writeReport(options: ReportOptions): Promise<string> {
  const html = await renderReport(options.db);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, html);
  return options.out;
}

/** The page for the database `db`, as one HTML string. */
export async function renderReport(db: string): Promise<string> {
  const facts = await readFacts(db);
  const platforms = [...new Set(facts.cycles.flatMap((row) => (row.platform === null ? [] : [row.platform as string])))].sort();
  const colour = (platform: string) => PALETTE[Math.max(0, platforms.indexOf(platform)) % PALETTE.length] as string;
  const orgs = [...new Set(facts.cycles.map((row) => row.org_id as string))];
  const total = facts.integrations.reduce((sum, row) => sum + (row.conversations as number), 0);
  const lastBuild = facts.runs.find((run) => run.command === 'build' && run.status === 'success');
  const rejected = facts.rejects.reduce((sum, row) => sum + (row.rows as number), 0);

  const cycleCharts = orgs.map((org) => {
    const cycles: { cycle: string; parts: [string, number][] }[] = [];
    for (const row of facts.cycles.filter((candidate) => candidate.org_id === org)) {
      let cycle = cycles[cycles.length - 1];
      if (!cycle || cycle.cycle !== row.cycle_id) {
        cycle = { cycle: row.cycle_id as string, parts: [] };
        cycles.push(cycle);
      }
      if (row.platform !== null) cycle.parts.push([row.platform as string, row.conversations as number]);
    }
    return `<figure>${orgs.length > 1 ? `<figcaption>${esc(org)}</figcaption>` : ''}${stackedChart(org, cycles, colour)}</figure>`;
  });

  const shownIntegrations = facts.integrations.slice(0, 40);
  const hidden = facts.integrations.slice(shownIntegrations.length);
  const several = orgs.length > 1;
  const integrationChart = barList(
    'integrations',
    shownIntegrations.map((row) => ({
      label: `${several ? `${row.org_id} · ` : ''}${row.integration_id} (${row.platform})`,
      value: row.conversations as number,
      colour: colour(row.platform as string),
      attributes: { org: row.org_id as string, integration: row.integration_id as string, platform: row.platform as string },
    })),
  );
  const accountChart = barList(
    'accounts',
    facts.accounts.map((row) => ({
      label: `${several ? `${row.org_id} · ` : ''}${row.customer_account_id}`,
      value: row.conversations as number,
      colour: PALETTE[0] as string,
      attributes: { org: row.org_id as string, account: row.customer_account_id as string, integrations: row.integrations as number, cycles: row.cycles as number },
    })),
  );
  const rejectChart = barList(
    'rejects',
    facts.rejects.map((row) => ({ label: row.reason as string, value: row.rows as number, colour: '#d55e00', attributes: { reason: row.reason as string } })),
  );

  let reconcile = empty('No reconcile yet: run "convbill reconcile --invoices FILE"; the next build publishes its result.');
  if (facts.reconcile) {
    const { last, statuses, differing } = facts.reconcile;
    const lines = statuses.reduce((sum, row) => sum + (row.lines as number), 0);
    const matched = (statuses.find((row) => row.status === 'match')?.lines as number | undefined) ?? 0;
    reconcile = [
      `<p>${last ? `Reconcile ${esc(last.reconcile_id)} of <code>${esc(last.invoice_file)}</code> at ${esc(last.reconciled_at)}, against build ${esc(last.run_id)}: ` : ''}<strong>${esc(fmt(matched))} of ${esc(fmt(lines))}</strong> lines match.</p>`,
      barList(
        'reconcile',
        statuses.map((row) => ({
          label: row.status as string,
          value: row.lines as number,
          colour: STATUS_COLOURS[row.status as string] ?? '#d55e00',
          attributes: { status: row.status as string },
        })),
      ),
      differing.length
        ? table(['line', 'org', 'cycle', 'scope', 'invoiced', 'computed', 'difference', 'status', 'explained by'], differing,
            ['line', 'org_id', 'cycle_id', 'scope', 'invoiced', 'computed', 'difference', 'status', 'explained_by'])
        : '',
    ].join('');
  }

  const cards: [string, string][] = [
    ['conversations', fmt(total)],
    ['orgs', fmt(orgs.length)],
    ['integrations', fmt(facts.integrations.length)],
    ['rejected rows', fmt(rejected)],
    ['as of', (lastBuild?.as_of as string | undefined) ?? '-'],
  ];
  const runStatus = (row: Row) => `status ${row.status === 'success' ? 'ok' : row.status === 'running' ? '' : 'bad'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>convbill report</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Billable conversations</h1>
<p class="meta">${facts.publication ? `Build ${esc(facts.publication.run_id)}, published ${esc(facts.publication.published_at)}` : 'Working database'} · <code>${esc(db)}</code></p>
<div class="cards">${cards.map(([name, value]) => `<div class="card"><span>${esc(name)}</span><b>${esc(value)}</b></div>`).join('')}</div>
</header>
<section id="cycles"><h2>Conversations per cycle, by platform</h2>
${platforms.length ? legend(platforms, colour) : ''}${total > 0 ? cycleCharts.join('\n') : empty('No conversations yet.')}</section>
<section id="integrations"><h2>Conversations per integration <small>all cycles</small></h2>
${facts.integrations.length ? integrationChart : empty('No conversations yet.')}${hidden.length ? `<p class="note">and ${esc(fmt(hidden.length))} more integrations with ${esc(fmt(hidden.reduce((sum, row) => sum + (row.conversations as number), 0)))} conversations.</p>` : ''}</section>
<section id="accounts"><h2>Top ${esc(facts.accounts.length || 20)} accounts by conversations <small>all cycles</small></h2>
${facts.accounts.length ? accountChart : empty('No conversations yet.')}</section>
<section id="rejects"><h2>Rejected rows, by reason</h2>
${facts.rejects.length ? rejectChart : empty('No rejected rows.')}</section>
<section id="reconcile"><h2>Last reconcile</h2>
${reconcile}</section>
<section id="runs"><h2>Run history <small>last ${esc(facts.runs.length)}</small></h2>
${table(['run', 'command', 'status', 'started', 'seconds', 'build', 'as of', 'rows read', 'rejected', 'partitions', 'error'], facts.runs,
  ['run_id', 'command', 'status', 'started_at', 'seconds', 'build', 'as_of', 'rows_read', 'rows_rejected', 'partitions', 'error'], { status: runStatus })}</section>
<footer>Written by <code>convbill report</code>. Every number comes from the published tables; see docs/data-dictionary.md.</footer>
</body>
</html>
`;
}
