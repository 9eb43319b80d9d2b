/** The short human summary `build` ends with, read back from the marts. */
import { relative } from 'node:path';
import { Kysely, type NotNull } from 'kysely';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database } from '../typed/schema.js';
import type { Warehouse } from '../engine/duckdb/warehouse.js';
import { displayText } from '../read/display-text.js';

export interface FileCounts {
  sourceFile: string;
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
  rowsFiltered: number;
}

export interface BuildSummary {
  files: FileCounts[];
  rejectsByReason: { reason: string; rows: number }[];
  cyclesByOrg: { orgId: string; cycles: number; firstCycle: string; lastCycle: string }[];
  conversations: { orgId: string; cycleId: string; conversations: number }[];
  dataQuality: { check: string; count: number }[];
  /** amounts per org, cycle and currency; empty without a price book */
  charges: { orgId: string; cycleId: string; currency: string; amount: string }[];
}

/** Runs on the build's own connection (the working database), through the typed API. */
export async function readSummary(warehouse: Warehouse): Promise<BuildSummary> {
  const db = new Kysely<Database>({ dialect: new DuckDBDialect({ connection: warehouse }) });
  try {
    const files = await db
      .selectFrom('rpt_source_files')
      .select(['source_file', 'rows_read', 'rows_accepted', 'rows_rejected', 'rows_filtered'])
      .where('counted', '=', true)
      .orderBy('source_file')
      .$narrowType<{ source_file: NotNull }>()
      .execute();
    const rejects = await db
      .selectFrom('rejected_interactions')
      .select(({ fn }) => ['reason', fn.countAll<number>().as('n')])
      .groupBy('reason')
      .orderBy('n', 'desc')
      .orderBy('reason')
      .$narrowType<{ reason: NotNull }>()
      .execute();
    const cycles = await db
      .selectFrom('dim_billing_cycles')
      .select(({ fn }) => [
        'org_id',
        fn.countAll<number>().as('n'),
        fn<string>('arg_min', ['cycle_id', 'cycle_start']).as('first_cycle'),
        fn<string>('arg_max', ['cycle_id', 'cycle_start']).as('last_cycle'),
      ])
      .groupBy('org_id')
      .orderBy('org_id')
      .$narrowType<{ org_id: NotNull }>()
      .execute();
    // every cycle of every org, with no conversations too
    const conversations = await db
      .selectFrom('dim_billing_cycles as cycle')
      .leftJoin('fct_conversation_counts as counts', (join) =>
        join.onRef('cycle.org_id', '=', 'counts.org_id').onRef('cycle.cycle_start', '=', 'counts.cycle_start'),
      )
      .select(({ fn, lit }) => ['cycle.org_id', 'cycle.cycle_id', fn.coalesce(fn.sum<number>('counts.conversations'), lit(0)).as('n')])
      .groupBy(['cycle.org_id', 'cycle.cycle_id'])
      .orderBy('cycle.org_id')
      .orderBy(({ fn }) => fn.min('cycle.cycle_start'))
      .$narrowType<{ org_id: NotNull; cycle_id: NotNull }>()
      .execute();
    const quality = await db
      .selectFrom('rpt_data_quality')
      .select(['check_name', 'affected_count'])
      .where('affected_count', '>', 0)
      .orderBy('check_name')
      .$narrowType<{ check_name: NotNull; affected_count: NotNull }>()
      .execute();
    // DECIMAL sums come back as exact text
    const charges = await db
      .selectFrom('fct_conversation_charges')
      .select(({ fn }) => ['org_id', 'cycle_id', 'currency', fn.sum<string>('amount').as('amount')])
      .where('price_status', '=', 'priced')
      .groupBy(['org_id', 'cycle_id', 'cycle_start', 'currency'])
      .orderBy('org_id')
      .orderBy('cycle_start')
      .orderBy('currency')
      .$narrowType<{ org_id: NotNull; cycle_id: NotNull; currency: NotNull }>()
      .execute();
    return {
      charges: charges.map((row) => ({ orgId: row.org_id, cycleId: row.cycle_id, currency: row.currency, amount: row.amount })),
      files: files.map((row) => ({
        sourceFile: row.source_file,
        rowsRead: row.rows_read ?? 0,
        rowsAccepted: row.rows_accepted ?? 0,
        rowsRejected: row.rows_rejected ?? 0,
        rowsFiltered: row.rows_filtered ?? 0,
      })),
      rejectsByReason: rejects.map((row) => ({ reason: row.reason, rows: row.n })),
      cyclesByOrg: cycles.map((row) => ({ orgId: row.org_id, cycles: row.n, firstCycle: row.first_cycle, lastCycle: row.last_cycle })),
      conversations: conversations.map((row) => ({ orgId: row.org_id, cycleId: row.cycle_id, conversations: row.n })),
      dataQuality: quality.map((row) => ({ check: row.check_name, count: row.affected_count })),
    };
  } finally {
    await db.destroy(); // leaves the build's connection open
  }
}

const MAX_LINES = 40;

function table(headers: string[], rows: (string | number)[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (typeof cell === 'number' ? String(cell) : displayText(cell))))];
  const widths = headers.map((_, column) => Math.max(...cells.map((row) => (row[column] ?? '').length)));
  const numeric = headers.map((_, column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  const line = (row: string[]) =>
    row.map((cell, column) => (numeric[column] ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd();
  const shown = cells.slice(0, MAX_LINES + 1).map((row) => `  ${line(row)}`);
  if (cells.length > MAX_LINES + 1) shown.push(`  … and ${cells.length - MAX_LINES - 1} more`);
  return shown;
}

export function formatSummary(result: {
  db: string;
  /** empty for a ClickHouse build, whose facts are publishedDb's */
  parquetDir: string;
  publishedDb?: string;
  asOf: string;
  summary: BuildSummary;
  ingest: { files: { file: string; status: string; rows: number }[]; skipped: string[]; warnings?: string[]; dropped?: string[] };
  plan?: { fullRefresh: boolean; reason: string; partitionsRebuilt: number };
}): string {
  const { summary } = result;
  const show = (path: string) => (path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path);
  const total = (pick: (file: FileCounts) => number) => summary.files.reduce((sum, file) => sum + pick(file), 0);
  const loaded = result.ingest.files.filter((file) => file.status === 'loaded').length;
  const already = result.ingest.files.length - loaded;
  const lines = [
    `convbill build — as of ${result.asOf}`,
    ...(result.plan
      ? [`Build: ${result.plan.fullRefresh ? `full refresh (${result.plan.reason})` : result.plan.reason}; ` +
        `${result.plan.partitionsRebuilt} (org, cycle) partition(s) rewritten.`]
      : []),
    `Input: ${loaded} file(s) loaded now, ${already} already loaded (content unchanged)` +
      (result.ingest.skipped.length ? `, ${result.ingest.skipped.length} skipped (not .csv/.json/.ndjson/.jsonl/.parquet)` : '') + '.',
    ...(result.ingest.warnings ?? []).map((warning) => `Warning: ${warning}`),
    ...((result.ingest.dropped ?? []).length
      ? [`No longer counted (under no configured source, or forgotten): ${(result.ingest.dropped ?? []).map(show).join(', ')}.`]
      : []),
    `Rows: ${total((f) => f.rowsRead)} read = ${total((f) => f.rowsAccepted)} accepted + ${total((f) => f.rowsRejected)} rejected` +
      `${total((f) => f.rowsFiltered) ? ` + ${total((f) => f.rowsFiltered)} filtered` : ''}, over ${summary.files.length} file(s):`,
    ...table(
      ['file', 'read', 'accepted', 'rejected', 'filtered'],
      summary.files.map((file) => [show(file.sourceFile), file.rowsRead, file.rowsAccepted, file.rowsRejected, file.rowsFiltered]),
    ),
  ];
  if (summary.rejectsByReason.length) {
    lines.push('Rejected rows by reason (see table rejected_interactions):');
    lines.push(...table(['reason', 'rows'], summary.rejectsByReason.map((r) => [r.reason, r.rows])));
  }
  if (summary.dataQuality.length) {
    lines.push('Data quality (not rejects; see table rpt_data_quality):');
    lines.push(...table(['check', 'count'], summary.dataQuality.map((q) => [q.check, q.count])));
  }
  lines.push(
    `Cycles: ${summary.cyclesByOrg.reduce((sum, org) => sum + org.cycles, 0)} across ${summary.cyclesByOrg.length} org(s).`,
    'Conversations per org and cycle:',
    ...table(['org_id', 'cycle_id', 'conversations'], summary.conversations.map((c) => [c.orgId, c.cycleId, c.conversations])),
  );
  if (summary.charges.length) {
    lines.push(
      'Charges per org and cycle (see table fct_conversation_charges):',
      ...table(['org_id', 'cycle_id', 'amount', 'currency'], summary.charges.map((c) => [c.orgId, c.cycleId, c.amount, c.currency])),
    );
  }
  lines.push(
    result.parquetDir
      ? `Database: ${show(result.db)}   Parquet: ${show(result.parquetDir)}/`
      : `Facts: ${result.publishedDb}   Working database: ${show(result.db)}`,
  );
  return lines.join('\n');
}
