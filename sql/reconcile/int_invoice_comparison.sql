-- materialized: temp
-- int_invoice_comparison
-- grain: one row per invoice line, (source_row), and one per (org, cycle,
--        integration) with usage that no line covers (source_row null).
-- purpose: each line against our counts at the grain the line gives (a
--          line per platform is compared with the sum of its
--          integrations), and its status within the tolerance: a line
--          matches when its difference is within the absolute tolerance or
--          within the relative one, whichever allows more. Amounts are
--          compared to the cent when both sides have one in the same
--          currency. Usage is "not invoiced" for the orgs the file
--          invoices, over the span of cycles it invoices for each.
with tolerance as (
    select absolute_tolerance, relative_tolerance
    from cfg_reconcile
),

line_usage as (
    select
        invoice_lines.source_row,
        coalesce(sum(charges.conversations), 0)::bigint as computed_conversations,
        sum(charges.amount) as computed_amount,
        case when count(distinct charges.currency) = 1 then any_value(charges.currency) end as computed_currency,
        count_if(charges.price_status = 'no_price') as unpriced_integrations
    from invoice_lines
    left join fct_conversation_charges as charges
        on invoice_lines.org_id = charges.org_id
        and invoice_lines.cycle_start = charges.cycle_start
        and in_line_scope(invoice_lines.platform, invoice_lines.integration_id, charges.platform, charges.integration_id)
    group by invoice_lines.source_row
),

invoiced_lines as (
    select
        invoice_lines.source_row,
        invoice_lines.line_label,
        invoice_lines.invoice_id,
        invoice_lines.org_id,
        invoice_lines.cycle_id,
        invoice_lines.cycle_start,
        invoice_lines.platform,
        invoice_lines.integration_id,
        invoice_lines.quantity as invoiced_conversations,
        line_usage.computed_conversations,
        invoice_lines.amount as invoiced_amount,
        case when line_usage.unpriced_integrations = 0 then line_usage.computed_amount end as computed_amount,
        coalesce(invoice_lines.currency, line_usage.computed_currency) as currency,
        invoice_lines.currency is not null and line_usage.computed_currency is not null
            and invoice_lines.currency <> line_usage.computed_currency as currency_differs,
        invoice_lines.invoice_date
    from invoice_lines
    inner join line_usage on invoice_lines.source_row = line_usage.source_row
),

invoiced_spans as (
    select org_id, min(cycle_start) as first_cycle_start, max(cycle_start) as last_cycle_start
    from invoice_lines
    group by org_id
),

uninvoiced_usage as (
    select
        null::bigint as source_row,
        null::varchar as line_label,
        null::varchar as invoice_id,
        charges.org_id,
        charges.cycle_id,
        charges.cycle_start,
        charges.platform,
        charges.integration_id,
        0::bigint as invoiced_conversations,
        charges.conversations as computed_conversations,
        null::decimal(38, 6) as invoiced_amount,
        charges.amount as computed_amount,
        charges.currency,
        false as currency_differs,
        null::timestamptz as invoice_date
    from fct_conversation_charges as charges
    inner join invoiced_spans
        on charges.org_id = invoiced_spans.org_id
        and charges.cycle_start between invoiced_spans.first_cycle_start and invoiced_spans.last_cycle_start
    anti join invoice_lines
        on charges.org_id = invoice_lines.org_id
        and charges.cycle_start = invoice_lines.cycle_start
        and in_line_scope(invoice_lines.platform, invoice_lines.integration_id, charges.platform, charges.integration_id)
    where charges.conversations > 0
),

compared as (
    select
        compared_lines.*,
        compared_lines.invoiced_conversations - compared_lines.computed_conversations as difference,
        within_tolerance(compared_lines.invoiced_conversations, compared_lines.computed_conversations,
            tolerance.absolute_tolerance, tolerance.relative_tolerance) as quantity_within,
        compared_lines.invoiced_amount is null or compared_lines.computed_amount is null or compared_lines.currency_differs
            or abs(compared_lines.invoiced_amount - compared_lines.computed_amount) <= 0.005 as amount_within
    from (select * from invoiced_lines union all select * from uninvoiced_usage) as compared_lines
    cross join tolerance
)

select
    source_row,
    line_label,
    invoice_id,
    org_id,
    cycle_id,
    cycle_start,
    platform,
    integration_id,
    invoiced_conversations,
    computed_conversations,
    difference,
    case when computed_conversations > 0 then round(difference / computed_conversations, 6) end as relative_difference,
    invoiced_amount,
    computed_amount,
    invoiced_amount - computed_amount as amount_difference,
    currency,
    currency_differs,
    invoice_date,
    quantity_within,
    case
        when source_row is null then 'not_invoiced'
        when quantity_within and amount_within then 'match'
        when quantity_within and invoiced_amount > computed_amount then 'over_invoiced'
        when quantity_within then 'under_invoiced'
        when computed_conversations = 0 then 'no_usage'
        when difference > 0 then 'over_invoiced'
        else 'under_invoiced'
    end as status
from compared
