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
import { ConfigError, DifferencesFound } from '../engine/errors.js';
import { loadInvoices } from '../reference/invoices.js';
import { loadModels, sqlDirectory } from '../project/load-models.js';
import { installMacros, runModels } from '../project/run-models.js';
import { createStateTables } from '../project/state-tables.js';
import { type QueryResult, formatResult } from './query.js';
import { createRestatementTables } from '../build/restatements.js';
import { Kysely, sql } from 'kysely';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database, RptInvoiceReconciliation, RptReconciliationAlternatives } from '../typed/schema.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';

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
  lines: RptInvoiceReconciliation[];
  alternatives: RptReconciliationAlternatives[];
  /** lines whose status is not match */
  differences: number;
}

/** The published tables, and the one reconcile keeps for itself in the working database. */
interface WorkingTables extends Database {
  convbill_reconciled_cycles: { reconcile_id: number; org_id: string | null; cycle_id: string | null; cycle_start: string | null };
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
      return record(new Kysely<WorkingTables>({ dialect: new DuckDBDialect({ connection: warehouse }) }), options.invoices, runId ?? 0);
    });
  } finally {
    warehouse.close();
  }
}

/** Reads the report back and records what this reconcile compared, through the typed API. */
async function record(db: Kysely<WorkingTables>, invoiceFile: string, runId: number): Promise<ReconcileResult> {
  const lines = await db
    .selectFrom('rpt_invoice_reconciliation')
    .selectAll()
    .orderBy(sql`source_row nulls last`)
    .orderBy('org_id')
    .orderBy('cycle_start')
    .orderBy('integration_id')
    .execute();
  const alternatives = await db.selectFrom('rpt_reconciliation_alternatives').selectAll().orderBy('source_row').orderBy('cause_order').execute();
  const previous = await db.selectFrom('convbill_reconciliations').select(({ fn }) => fn.max('reconcile_id').as('id')).executeTakeFirst();
  const reconcileId = (previous?.id ?? 0) + 1;
  const differences = lines.filter((line) => line.status !== 'match').length;
  await db
    .insertInto('convbill_reconciliations')
    .values({
      reconcile_id: reconcileId,
      reconciled_at: new Date().toISOString(),
      invoice_file: invoiceFile,
      run_id: runId,
      lines: lines.filter((line) => line.source_row !== null).length,
      differences,
    })
    .execute();
  // the cycles compared, so the next reconcile can flag those restated since
  await db
    .insertInto('convbill_reconciled_cycles')
    .columns(['reconcile_id', 'org_id', 'cycle_id', 'cycle_start'])
    .expression(
      db
        .selectFrom('rpt_invoice_reconciliation')
        .select([sql.lit(reconcileId).as('reconcile_id'), 'org_id', 'cycle_id', 'cycle_start'])
        .distinct()
        .where('source_row', 'is not', null)
        .where('cycle_start', 'is not', null),
    )
    .execute();
  return { reconcileId, runId, lines, alternatives, differences };
}

async function createReconcileTables(warehouse: Warehouse): Promise<void> {
  await createStateTables(warehouse, ['convbill_reconciliations', 'convbill_reconciled_cycles']);
}

export function formatReconciliation(result: ReconcileResult, format: ReconcileFormat): string {
  const { lines, alternatives } = result;
  if (format === 'json') {
    const withRecounts = lines.map((line) => ({
      ...line,
      alternatives: alternatives.filter((alternative) => line.source_row !== null && alternative.source_row === line.source_row),
    }));
    return JSON.stringify({ reconcile_id: result.reconcileId, run_id: result.runId, differences: result.differences, lines: withRecounts }, null, 2);
  }
  if (format === 'csv') {
    return formatResult({ columns: CSV_COLUMNS, rows: lines.map((line) => CSV_COLUMNS.map((column) => line[column])) }, 'csv');
  }
  // table and markdown: one short row per line, then the recounts and restatements of the lines they concern
  const amount = (line: RptInvoiceReconciliation) =>
    line.invoiced_amount === null && line.computed_amount === null
      ? ''
      : `${line.invoiced_amount ?? '-'} / ${line.computed_amount ?? '-'} ${line.currency ?? ''}`.trim();
  const short: QueryResult = {
    columns: ['line', 'invoice', 'org', 'cycle', 'scope', 'invoiced', 'computed', 'difference', 'amount (invoiced / computed)', 'status', 'explained_by'],
    rows: lines.map((line) => [
      line.line_label ?? '-', line.invoice_id, line.org_id, line.cycle_id, line.integration_id ?? line.platform ?? 'all',
      line.invoiced_conversations, line.computed_conversations, line.difference, amount(line), line.status, line.explained_by,
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

const CSV_COLUMNS: (keyof RptInvoiceReconciliation)[] = [
  'line_label', 'invoice_id', 'org_id', 'cycle_id', 'platform', 'integration_id', 'invoiced_conversations', 'computed_conversations',
  'difference', 'relative_difference', 'invoiced_amount', 'computed_amount', 'currency', 'status', 'explained_by', 'recounts',
  'restated_since_reconciled', 'restatement',
];

function markdownTable({ columns, rows }: QueryResult): string {
  const cell = (value: unknown) => (value === null ? '' : String(value).replaceAll('|', '\\|'));
  return [`| ${columns.join(' | ')} |`, `|${columns.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
}

/** Exit 3 when differences remain: what nightly jobs key on. */
export function assertReconciled(result: ReconcileResult): void {
  if (result.differences > 0) {
    throw new DifferencesFound(
      `${result.differences} of ${result.lines.length} reconciliation lines differ beyond the tolerance (see table rpt_invoice_reconciliation).`,
    );
  }
}
