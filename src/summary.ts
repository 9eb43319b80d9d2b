/** The short human summary `build` ends with, read back from the marts. */
import { relative } from 'node:path';
import type { Warehouse } from './warehouse.js';

export interface FileCounts {
  sourceFile: string;
  rowsRead: number;
  rowsAccepted: number;
  rowsRejected: number;
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

export async function readSummary(warehouse: Warehouse): Promise<BuildSummary> {
  const files = await warehouse.rows<{ source_file: string; rows_read: bigint; rows_accepted: bigint; rows_rejected: bigint }>(
    `select source_file, rows_read, rows_accepted, rows_rejected from rpt_source_files
     where superseded_by is null order by source_file`,
  );
  const rejects = await warehouse.rows<{ reason: string; n: bigint }>(
    `select reason, count(*) as n from rejected_interactions group by reason order by n desc, reason`,
  );
  const cycles = await warehouse.rows<{ org_id: string; n: bigint; first_cycle: string; last_cycle: string }>(
    `select org_id, count(*) as n, arg_min(cycle_id, cycle_start) as first_cycle, arg_max(cycle_id, cycle_start) as last_cycle
     from dim_billing_cycles group by org_id order by org_id`,
  );
  const conversations = await warehouse.rows<{ org_id: string; cycle_id: string; n: bigint }>(
    `select dim_billing_cycles.org_id, dim_billing_cycles.cycle_id, coalesce(sum(fct_conversation_counts.conversations), 0) as n
     from dim_billing_cycles
     left join fct_conversation_counts
         on dim_billing_cycles.org_id = fct_conversation_counts.org_id
         and dim_billing_cycles.cycle_start = fct_conversation_counts.cycle_start
     group by all order by dim_billing_cycles.org_id, min(dim_billing_cycles.cycle_start)`,
  );
  const quality = await warehouse.rows<{ check_name: string; affected_count: bigint }>(
    `select check_name, affected_count from rpt_data_quality where affected_count > 0 order by check_name`,
  );
  const charges = await warehouse.rows<{ org_id: string; cycle_id: string; currency: string; amount: unknown }>(
    `select org_id, cycle_id, currency, sum(amount)::varchar as amount
     from fct_conversation_charges
     where price_status = 'priced'
     group by org_id, cycle_id, cycle_start, currency order by org_id, cycle_start, currency`,
  );
  return {
    charges: charges.map((row) => ({ orgId: row.org_id, cycleId: row.cycle_id, currency: row.currency, amount: String(row.amount) })),
    files: files.map((row) => ({
      sourceFile: row.source_file,
      rowsRead: Number(row.rows_read),
      rowsAccepted: Number(row.rows_accepted),
      rowsRejected: Number(row.rows_rejected),
    })),
    rejectsByReason: rejects.map((row) => ({ reason: row.reason, rows: Number(row.n) })),
    cyclesByOrg: cycles.map((row) => ({
      orgId: row.org_id,
      cycles: Number(row.n),
      firstCycle: row.first_cycle,
      lastCycle: row.last_cycle,
    })),
    conversations: conversations.map((row) => ({ orgId: row.org_id, cycleId: row.cycle_id, conversations: Number(row.n) })),
    dataQuality: quality.map((row) => ({ check: row.check_name, count: Number(row.affected_count) })),
  };
}

const MAX_LINES = 40;

function table(headers: string[], rows: (string | number)[][]): string[] {
  const cells = [headers, ...rows.map((row) => row.map(String))];
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
  parquetDir: string;
  asOf: string;
  summary: BuildSummary;
  ingest: { files: { file: string; status: string; rows: number }[]; skipped: string[] };
}): string {
  const { summary } = result;
  const show = (path: string) => (path.startsWith(process.cwd()) ? relative(process.cwd(), path) : path);
  const total = (pick: (file: FileCounts) => number) => summary.files.reduce((sum, file) => sum + pick(file), 0);
  const loaded = result.ingest.files.filter((file) => file.status === 'loaded').length;
  const already = result.ingest.files.length - loaded;
  const lines = [
    `convbill build — as of ${result.asOf}`,
    `Input: ${loaded} file(s) loaded now, ${already} already loaded (content unchanged)` +
      (result.ingest.skipped.length ? `, ${result.ingest.skipped.length} skipped (not .csv/.json/.ndjson/.jsonl/.parquet)` : '') + '.',
    `Rows: ${total((f) => f.rowsRead)} read = ${total((f) => f.rowsAccepted)} accepted + ${total((f) => f.rowsRejected)} rejected, over ${summary.files.length} file(s):`,
    ...table(
      ['file', 'read', 'accepted', 'rejected'],
      summary.files.map((file) => [show(file.sourceFile), file.rowsRead, file.rowsAccepted, file.rowsRejected]),
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
    `Database: ${show(result.db)}   Parquet: ${show(result.parquetDir)}/`,
  );
  return lines.join('\n');
}
