/** The report's stylesheet, inlined into the page: on screen and printed on A4. */
export const CSS = `
:root { color-scheme: light; --ink: #1d2329; --muted: #5f6b76; --rule: #dde2e6; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 24px 32px 48px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 0 0 10px; }
h2 small, h3 small { font-weight: normal; color: var(--muted); font-size: 13px; margin-left: 6px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
nav ul { list-style: none; padding: 0; margin: 0 0 12px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
nav a { color: #0060a0; }
.meta, .note, .empty, footer { color: var(--muted); }
.empty { font-style: italic; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
section { border-top: 1px solid var(--rule); padding: 18px 0 8px; }
section.org { border-top: 3px solid var(--ink); margin-top: 12px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 10px; margin: 16px 0 20px; }
.card { border: 1px solid var(--rule); border-radius: 6px; padding: 8px 12px; min-width: 0; overflow-wrap: anywhere; }
.card span { display: block; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card b { font-size: 20px; font-variant-numeric: tabular-nums; }
figure { margin: 0 0 12px; }
figcaption { font-weight: 600; margin-bottom: 2px; }
svg.chart { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--rule); stroke-width: 1; }
svg text { font-size: 12px; fill: var(--ink); }
svg .tick, svg .value, svg .total { fill: var(--muted); font-variant-numeric: tabular-nums; }
svg .bar.pending { fill-opacity: .35; }
svg .pending-outline { fill: none; stroke: var(--ink); stroke-width: 1.5; stroke-dasharray: 4 3; }
.legend { margin: 0 0 8px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.legend i { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin-right: 6px; vertical-align: -1px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 8px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td[data-col="cycle_id"], td[data-col="first_day"], td[data-col="last_day"], td[data-col="status"], td[data-col="amount"] { white-space: nowrap; }
td.status.ok { color: #007a5a; }
td.status.bad { color: #b34700; font-weight: 600; }
td.status.pending { color: #8a5a00; font-weight: 600; font-style: italic; }
tfoot th, tfoot td { border-top: 2px solid var(--ink); font-weight: 600; color: var(--ink); }
table[data-table="invoice"] { max-width: 900px; }
.reconcile-status[data-status="not_reconciled"] strong { color: #b34700; }
footer { margin-top: 24px; font-size: 12px; }
@media (max-width: 700px) { body { padding: 16px; } }
@media print {
  @page { size: A4; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  section.org + section.org { break-before: page; }
  figure, table tr { break-inside: avoid; }
  nav { display: none; }
  h2 { break-after: avoid; }
  .cards { grid-template-columns: repeat(6, minmax(0, 1fr)); }
  .card { border-color: #999; }
  .card b { font-size: 13pt; }
  table { font-size: 8.5pt; }
  th, td { padding: 2px 4px; }
  footer { break-before: avoid; }
}
`;
