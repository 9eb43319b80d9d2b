/**
 * `convbill reconcile`: invoice lines against the facts, the usual causes of
 * a difference tried one by one, and a record of what was compared so the
 * next reconcile can flag cycles restated since.
 *
 * It works on the working database, not the published copy: the recounts
 * read the stored interactions, which are not published, and the report
 * and its history are written beside the facts (the next build publishes
 * them). The SQL lives in sql/reconcile/, run by the model runner.
 */
import { join } from 'node:path';
import { ConfigError, DifferencesFound } from './errors.js';
import { loadInvoices } from './invoices.js';
import { installMacros, loadModels, runModels, sqlDirectory } from './models.js';
import { type QueryResult, formatResult } from './query.js';
import { createRestatementTables } from './restatements.js';
import { plainValue } from './values.js';
import { Warehouse } from './warehouse.js';
import type { DuckDBValue } from '@duckdb/node-api';

export interface Tolerance {
  /** conversations */
  absolute: number | null;
  /** a share of the computed count, 0.02 = 2% */
  relative: number | null;
}

export interface ReconcileOptions {
  db: string;
  invoices: string;
  tolerance?: Tolerance;
}

export interface ReconcileResult {
  reconcileId: number;
  /** the build whose facts were compared */
  runId: number;
  lines: QueryResult;
  alternatives: QueryResult;
  /** lines whose status is not match */
  differences: number;
}

export const RECONCILE_FORMATS = ['table', 'csv', 'json', 'markdown'] as const;
export type ReconcileFormat = (typeof RECONCILE_FORMATS)[number];

/** "5" (conversations), "2%" (of the computed count), or both: "5,2%". */
export function parseTolerance(text: string): Tolerance {
  const tolerance: Tolerance = { absolute: null, relative: null };
  for (const part of text.split(',').map((item) => item.trim())) {
    const percent = /^(\d+(?:\.\d+)?)%$/.exec(part);
    if (percent && tolerance.relative === null) tolerance.relative = Number(percent[1]) / 100;
    else if (/^\d+$/.test(part) && tolerance.absolute === null) tolerance.absolute = Number(part);
    else throw new ConfigError(`Option --tolerance must be conversations ("5"), a percentage ("2%") or both ("5,2%"), not "${text}".`);
  }
  return tolerance;
}

export async function reconcile(options: ReconcileOptions): Promise<ReconcileResult> {
  const warehouse = await Warehouse.open(options.db);
  try {
    const built = await warehouse.value<bigint>(
      `select count(*) from duckdb_tables() where database_name = current_database() and table_name = 'fct_conversation_charges'`,
    );
    if (built === 0n) throw new ConfigError(`Database ${options.db} has no facts to reconcile against; run "convbill build" first.`);
    const runId = await warehouse.value<number | null>(
      `select max(run_id) from convbill_runs where command = 'build' and status = 'success'`,
    );
    await installMacros(warehouse);
    await createRestatementTables(warehouse);
    await createReconcileTables(warehouse);
    return await warehouse.transaction(async () => {
      await warehouse.run(
        `create or replace temp table cfg_reconcile as
         select $absolute::bigint as absolute_tolerance, $relative::double as relative_tolerance`,
        { absolute: options.tolerance?.absolute ?? null, relative: options.tolerance?.relative ?? null },
      );
      await loadInvoices(warehouse, options.invoices);
      await runModels(warehouse, { fullRefresh: false }, loadModels(join(sqlDirectory(), 'reconcile')));
      const reconcileId = await warehouse.value<number>(`select coalesce(max(reconcile_id), 0) + 1 from convbill_reconciliations`);
      await warehouse.run(
        `insert into convbill_reconciliations
         select $id, now(), $file, $run_id, count(source_row), count_if(status <> 'match')
         from rpt_invoice_reconciliation`,
        { id: reconcileId, file: options.invoices, run_id: runId ?? 0 },
      );
      await warehouse.run(
        `insert into convbill_reconciled_cycles
         select distinct $id, org_id, cycle_id, cycle_start
         from rpt_invoice_reconciliation
         where source_row is not null and cycle_start is not null`,
        { id: reconcileId },
      );
      const lines = await warehouse.table(`select * from rpt_invoice_reconciliation order by source_row nulls last, org_id, cycle_start, integration_id`);
      const alternatives = await warehouse.table(
        `select source_row, invoice_id, cause, invoiced_conversations, recomputed_conversations, explains, detail
         from rpt_reconciliation_alternatives order by source_row, cause_order`,
      );
      const plain = ({ columns, rows }: { columns: string[]; rows: DuckDBValue[][] }): QueryResult => ({ columns, rows: rows.map((row) => row.map(plainValue)) });
      const result = { reconcileId, runId: runId ?? 0, lines: plain(lines), alternatives: plain(alternatives), differences: 0 };
      const status = result.lines.columns.indexOf('status');
      result.differences = result.lines.rows.filter((row) => row[status] !== 'match').length;
      return result;
    });
  } finally {
    warehouse.close();
  }
}

async function createReconcileTables(warehouse: Warehouse): Promise<void> {
  await warehouse.run(`
    create table if not exists convbill_reconciliations (
        reconcile_id integer primary key,
        reconciled_at timestamptz not null,
        invoice_file varchar not null,
        run_id integer not null,
        lines bigint not null,
        differences bigint not null
    )`);
  await warehouse.run(`
    create table if not exists convbill_reconciled_cycles (
        reconcile_id integer not null,
        org_id varchar not null,
        cycle_id varchar not null,
        cycle_start timestamptz not null
    )`);
}

export function formatReconciliation(result: ReconcileResult, format: ReconcileFormat): string {
  const objects = (q: QueryResult) => q.rows.map((row) => Object.fromEntries(q.columns.map((column, i) => [column, row[i] ?? null])));
  const lines = objects(result.lines);
  if (format === 'json') {
    const alternatives = objects(result.alternatives);
    const withRecounts = lines.map((line) => ({
      ...line,
      alternatives: alternatives.filter((alternative) => line.source_row !== null && alternative.source_row === line.source_row),
    }));
    return JSON.stringify({ reconcile_id: result.reconcileId, run_id: result.runId, differences: result.differences, lines: withRecounts }, null, 2);
  }
  if (format === 'csv') return formatResult(pick(result.lines, CSV_COLUMNS), 'csv');
  // table and markdown: one short row per line, then the recounts and restatements of the lines they concern
  const amount = (line: Record<string, unknown>) =>
    line.invoiced_amount === null && line.computed_amount === null
      ? ''
      : `${line.invoiced_amount ?? '-'} / ${line.computed_amount ?? '-'} ${line.currency ?? ''}`.trim();
  const short: QueryResult = {
    columns: ['line', 'invoice', 'org', 'cycle', 'scope', 'invoiced', 'computed', 'difference', 'amount (invoiced / computed)', 'status', 'explained_by'],
    rows: lines.map((line) => [
      (line.line_label as string | null) ?? '-', line.invoice_id as string | null, line.org_id as string, line.cycle_id as string,
      (line.integration_id ?? line.platform ?? 'all') as string, line.invoiced_conversations as number, line.computed_conversations as number,
      line.difference as number, amount(line), line.status as string, line.explained_by as string | null,
    ]),
  };
  const notes = lines.flatMap((line) => [
    ...(line.recounts ? [`${line.line_label}: recounted ${line.recounts} (invoiced ${line.invoiced_conversations}; * explains it)`] : []),
    ...(line.restatement ? [`${line.line_label ?? `${line.org_id} ${line.cycle_id}`}: restated since reconciled: ${line.restatement}`] : []),
  ]);
  const body = format === 'markdown' ? markdownTable(short) : formatResult(short, 'table');
  const summary = `Reconcile ${result.reconcileId} against build ${result.runId}: ${lines.length - result.differences} of ${lines.length} lines match.`;
  return [summary, '', body, ...(notes.length ? ['', ...notes.map((note) => (format === 'markdown' ? `- ${note}` : note))] : [])].join('\n');
}

const CSV_COLUMNS = [
  'line_label', 'invoice_id', 'org_id', 'cycle_id', 'platform', 'integration_id', 'invoiced_conversations', 'computed_conversations',
  'difference', 'relative_difference', 'invoiced_amount', 'computed_amount', 'currency', 'status', 'explained_by', 'recounts',
  'restated_since_reconciled', 'restatement',
];

function pick(result: QueryResult, columns: string[]): QueryResult {
  const indexes = columns.map((column) => result.columns.indexOf(column));
  return { columns, rows: result.rows.map((row) => indexes.map((i) => row[i] ?? null)) };
}

function markdownTable({ columns, rows }: QueryResult): string {
  const cell = (value: unknown) => (value === null ? '' : String(value).replaceAll('|', '\\|'));
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

/** Exit 3 when differences remain: what nightly jobs key on. */
export function assertReconciled(result: ReconcileResult): void {
  if (result.differences > 0) {
    throw new DifferencesFound(
      `${result.differences} of ${result.lines.rows.length} reconciliation lines differ beyond the tolerance (see table rpt_invoice_reconciliation).`,
    );
  }
}
