/**
 * `convbill report`: one self-contained HTML page of the published facts for
 * finance and people who will not write SQL. A section per org (the invoice
 * of its latest complete cycle, its cycles with local dates, trends in
 * counts and amounts, reconciliation, rejects, top accounts), then what
 * concerns the whole warehouse: data quality and the run history. Nothing is
 * added up across orgs: their currencies and cycles differ.
 *
 * Self-contained because it is mailed, archived next to invoices and opened
 * offline: inline CSS and inline SVG only, no script, no font or URL to
 * fetch. Bars, table rows and cells carry their values in data-* attributes,
 * so a test (or a curious reader of the source) can check the page against
 * the database.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PALETTE, barList } from './report-charts.js';
import { type ReportScope, type Row, readFacts } from './report-facts.js';

export type { ReportScope };
import { empty, esc, fmt, table } from './report-html.js';
import { orgSection } from './report-org.js';
import { CSS } from './report-style.js';

export interface ReportOptions extends ReportScope {
  /** the database to read, read-only: normally the published copy */
  db: string;
  /** the HTML file to write */
  out: string;
}

/** Writes the report and returns its path. */
export async function writeReport(options: ReportOptions): Promise<string> {
  const html = await renderReport(options.db, options);
  mkdirSync(dirname(options.out), { recursive: true });
  writeFileSync(options.out, html);
  return options.out;
}

/** The page for the database `db`, as one HTML string; `org` renders that org alone, `showAccounts` unmasks account ids. */
export async function renderReport(db: string, options: ReportScope = {}): Promise<string> {
  const facts = await readFacts(db, options);
  const platforms = [...new Set(facts.cyclePlatforms.map((row) => row.platform as string))].sort();
  const colour = (platform: string) => PALETTE[Math.max(0, platforms.indexOf(platform)) % PALETTE.length] as string;
  const orgs = [...new Set(facts.cycles.map((row) => row.org_id as string))];
  const anchors = new Map(orgs.map((org, i) => [org, `org-${i + 1}`]));
  const sections = orgs.map((org) => orgSection(org, anchors.get(org) as string, { facts, colour, showAccounts: options.showAccounts === true }));
  // rows that do not fit their file's header carry no org: they belong to no org's section
  const orgless = facts.rejects.filter((row) => row.org_id === null);

  const cards: [string, string][] = [
    ['orgs', fmt(orgs.length)],
    ['as of', facts.build.as_of_text as string],
    ['build', String(facts.build.run_id)],
  ];
  const runStatus = (row: Row) => `status ${row.status === 'success' ? 'ok' : row.status === 'running' ? '' : 'bad'}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(options.org === undefined ? 'convbill report' : `convbill report: ${options.org}`)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
<h1>Billable conversations${options.org === undefined ? '' : `: ${esc(options.org)}`}</h1>
<p class="meta">${facts.publication ? `Build ${esc(facts.publication.run_id)}, published ${esc(facts.publication.published_at)}` : `Working database, build ${esc(facts.build.run_id)}`} · <code>${esc(db)}</code></p>
<div class="cards">${cards.map(([name, value]) => `<div class="card"><span>${esc(name)}</span><b>${esc(value)}</b></div>`).join('')}</div>
${orgs.length > 1 ? `<nav><ul>${orgs.map((org) => `<li><a href="#${esc(anchors.get(org))}">${esc(org)}</a></li>`).join('')}</ul></nav>` : ''}
</header>
${sections.length ? sections.join('\n') : `<section class="org">${empty('No billing cycles yet: no billable conversation has been loaded.')}</section>`}
<section id="quality"><h2>Data quality <small>whole warehouse</small></h2>
${table('quality', [
  { head: 'check', key: 'check_name' },
  { head: 'affected', key: 'affected_count', kind: 'num', classes: (row) => `status ${(row.affected_count as number) > 0 ? 'bad' : 'ok'}` },
  { head: 'what it counts', key: 'description' },
], facts.dataQuality, { attributes: (row) => ({ check: row.check_name }) })}
${orgless.length ? `<p>Rejected rows with no org (they do not fit their file's header):</p>${barList('rejects', orgless.map((row) => ({ label: row.reason as string, value: row.rows as number, colour: '#d55e00', attributes: { reason: row.reason as string } })))}` : ''}</section>
<section id="runs"><h2>Run history <small>last ${esc(facts.runs.length)}</small></h2>
${table('runs', [
  { head: 'run', key: 'run_id', kind: 'num' }, { head: 'command', key: 'command' }, { head: 'status', key: 'status', classes: runStatus },
  { head: 'started', key: 'started_at' }, { head: 'seconds', key: 'seconds', kind: 'num' }, { head: 'build', key: 'build' }, { head: 'as of', key: 'as_of' },
  { head: 'rows read', key: 'rows_read', kind: 'num' }, { head: 'rejected', key: 'rows_rejected', kind: 'num' }, { head: 'partitions', key: 'partitions', kind: 'num' },
  { head: 'error', key: 'error' },
], facts.runs, { attributes: (row) => ({ run: row.run_id }) })}</section>
<footer>Written by <code>convbill report</code>. Every number comes from the published tables; amounts are exact, never rounded. See docs/data-dictionary.md.</footer>
</body>
</html>
`;
}
