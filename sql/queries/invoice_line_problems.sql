-- invoice_line_problems
-- grain: at most one row: the first invoice line (invoice_text) that is not valid.
-- purpose: checks each invoice line on its own: a bad line is a usage error
--          naming it, since a reconcile over half a file would be a wrong
--          answer, not a partial one.
-- columns:
--   line_label: the line, as errors name it ("line 3", "record 2")
--   problem: what is wrong with it
select line_label, case
        when invoice_id is null then 'invoice_id is missing'
        when quantity is null then 'quantity is missing'
        when not regexp_full_match(quantity, '\d{1,15}') then 'quantity "' || quantity || '" is not a whole number of conversations'
        when amount is not null and not regexp_full_match(amount, '-?\d{1,20}(\.\d{1,6})?')
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
limit 1
