-- invoice_lines
-- grain: one row per invoice line, (source_row).
-- purpose: the checked invoice lines (invoice_text), typed and matched to
--          their cycle (dim_billing_cycles), into the temp table
--          invoice_lines. A line names its cycle by cycle_id or by its
--          period: the cycle starting on the period's first day (a date is
--          local midnight in the org's timezone) or at its first instant,
--          so a half-open period (end = the next cycle's start) and an
--          inclusive one (end = the cycle's last day) find the same cycle.
-- columns:
--   source_row: the line's row in the file
--   line_label: the line, as messages name it
--   invoice_id: the invoice
--   org_id: the organisation ('default' when the line names none)
--   cycle_id: the cycle's name, or the period's start when no cycle matches
--   cycle_start: the matched cycle's first instant; null when none matches
--   cycle_end: the instant after the matched cycle
--   platform: the platform the line invoices, or null
--   integration_id: the integration the line invoices, or null
--   quantity: the conversations invoiced
--   amount: the amount invoiced, or null
--   currency: the amount's currency
--   invoice_date: the invoice's date, as an instant
create or replace temp table invoice_lines as
with periods as (
    select invoice_text.*,
        regexp_full_match(period_start, '\d{4}-\d{2}-\d{2}') as start_is_date
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
from cycles_named
