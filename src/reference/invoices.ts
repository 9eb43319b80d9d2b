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
  const [bad] = await warehouse.rows<{ line_label: string; problem: string }>(`
    select line_label, case
            when invoice_id is null then 'invoice_id is missing'
            when quantity is null then 'quantity is missing'
            when not regexp_full_match(quantity, '\\d{1,15}') then 'quantity "' || quantity || '" is not a whole number of conversations'
            when amount is not null and not regexp_full_match(amount, '-?\\d{1,20}(\\.\\d{1,6})?')
                then 'amount "' || amount || '" is not a decimal number'
            when amount is not null and currency is null then 'amount is given without a currency'
            when platform is not null and integration_id is not null then 'give a platform or an integration_id, not both'
            when cycle_id is null and (period_start is null or period_end is null)
                then 'the cycle is missing: give cycle_id, or period_start and period_end'
            when cycle_id is null and parse_instant_or_date(period_start, 'UTC') is null
                then 'period_start "' || period_start || '" is not a date or an ISO-8601 instant'
            when cycle_id is null and parse_instant_or_date(period_end, 'UTC') is null
                then 'period_end "' || period_end || '" is not a date or an ISO-8601 instant'
            when cycle_id is null and parse_instant_or_date(period_end, 'UTC') < parse_instant_or_date(period_start, 'UTC')
                then 'period_end is before period_start'
            when invoice_date is not null and parse_instant_or_date(invoice_date, 'UTC') is null
                then 'invoice_date "' || invoice_date || '" is not a date or an ISO-8601 instant'
        end as problem
    from invoice_text
    where problem is not null
    order by source_row
    limit 1`);
  if (bad) throw new ConfigError(`Invoice file ${file}, ${bad.line_label}: ${bad.problem}.`);
  // A period names the cycle starting on its first day (a date is local
  // midnight in the org's timezone) or at its first instant.
  await warehouse.run(`
    create or replace temp table invoice_lines as
    with periods as (
        select invoice_text.*,
            regexp_full_match(period_start, '\\d{4}-\\d{2}-\\d{2}') as start_is_date
        from invoice_text
    ),
    cycles_named as (
        select periods.*, coalesce(by_id.cycle_start, by_period.cycle_start) as cycle_start,
            coalesce(by_id.cycle_end, by_period.cycle_end) as cycle_end,
            coalesce(periods.cycle_id, by_period.cycle_id, periods.period_start) as resolved_cycle_id
        from periods
        left join dim_billing_cycles as by_id
            on periods.cycle_id is not null
            and periods.org_id = by_id.org_id and periods.cycle_id = by_id.cycle_id
        left join dim_billing_cycles as by_period
            on periods.cycle_id is null
            and periods.org_id = by_period.org_id
            and case when periods.start_is_date
                then strftime(timezone(by_period.timezone, by_period.cycle_start), '%Y-%m-%d') = periods.period_start
                else by_period.cycle_start = parse_instant(periods.period_start, 'UTC', 'ms') end
    )
    select source_row, line_label, invoice_id, org_id, resolved_cycle_id as cycle_id, cycle_start, cycle_end,
        platform, integration_id, quantity::bigint as quantity, amount::decimal(38, 6) as amount, currency,
        parse_instant_or_date(invoice_date, 'UTC') as invoice_date
    from cycles_named`);
  return Number(await warehouse.value<bigint>(`select count(*) from invoice_lines`));
}
