/**
 * Invoice lines (CSV or JSON) into the temp table `invoice_lines`, checked
 * line by line: a bad line is a usage error naming it, since a reconcile
 * over half a file would be a wrong answer, not a partial one.
 *
 * A line names its cycle by `cycle_id` or by `period_start` and
 * `period_end`. Invoices write periods either half-open (end = the next
 * cycle's start) or inclusive (end = the cycle's last day); both find the
 * cycle that starts at `period_start`.
 */
import { ConfigError } from '../engine/errors.js';
import { formatOf } from '../ingest/ingest.js';
import { readReferenceFile } from './reference-files.js';
import type { Engine } from '../engine/engine.js';
import { namedQuery } from '../project/named-queries.js';

const OPTIONAL = ['org_id', 'cycle_id', 'period_start', 'period_end', 'platform', 'integration_id', 'amount', 'currency', 'invoice_date'];

export async function loadInvoices(warehouse: Engine, file: string): Promise<number> {
  const columns = await readReferenceFile(warehouse, {
    label: 'Invoice file',
    file,
    table: 'invoice_rows',
    required: ['invoice_id', 'quantity'],
    optional: OPTIONAL,
  });
  const pick = (name: string) => (columns.includes(name) ? `clean_text(${name}::varchar)` : 'null::varchar');
  // a CSV's first data row is its line 2; a JSON file's records count from 1
  const where = formatOf(file) === 'json' ? `'record ' || source_row` : `'line ' || (source_row + 1)`;
  await warehouse.run(`
    create or replace temp table invoice_text as
    select source_row, ${where} as line_label, clean_text(invoice_id::varchar) as invoice_id,
        coalesce(${pick('org_id')}, 'default') as org_id, ${pick('cycle_id')} as cycle_id,
        ${pick('period_start')} as period_start, ${pick('period_end')} as period_end,
        lower(${pick('platform')}) as platform, ${pick('integration_id')} as integration_id,
        clean_text(quantity::varchar) as quantity, ${pick('amount')} as amount,
        upper(${pick('currency')}) as currency, ${pick('invoice_date')} as invoice_date
    from invoice_rows`);
  const [bad] = await warehouse.rows<{ line_label: string; problem: string }>(namedQuery('invoice_line_problems'));
  if (bad) throw new ConfigError(`Invoice file ${file}, ${bad.line_label}: ${bad.problem}.`);
  await warehouse.run(namedQuery('invoice_lines'));
  return Number(await warehouse.value<bigint>(`select count(*) from invoice_lines`));
}
