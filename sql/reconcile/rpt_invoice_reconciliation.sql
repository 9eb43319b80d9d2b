-- rpt_invoice_reconciliation
-- grain: one row per invoice line, (source_row), and one per (org, cycle,
--        integration) with usage no line covers (status not_invoiced).
-- purpose: the reconcile report: invoiced against computed, the status, the
--          first usual cause that explains a difference (see
--          rpt_reconciliation_alternatives) with every recount beside it,
--          and whether the cycle's counts changed since an earlier
--          reconcile compared them (a restatement finance should know of).
-- columns:
--   source_row: the invoice line's number in its file, from 1; null for usage no line covers
--   line_label: how the report names the line: 'line N' in a CSV (counting the header), 'record N' in JSON
--   invoice_id: the invoice the line belongs to
--   org_id: the organisation invoiced ('default' when the line names none)
--   cycle_id: the cycle invoiced, from the line's cycle_id or period_start
--   cycle_start: that cycle's first instant
--   platform: the platform the line invoices, when it invoices one
--   integration_id: the integration the line invoices, when it invoices one (neither: the org's whole cycle)
--   invoiced_conversations: the line's quantity; 0 for not_invoiced usage
--   computed_conversations: our conversations at the line's grain (fct_conversation_charges)
--   difference: invoiced_conversations - computed_conversations
--   relative_difference: difference / computed_conversations; null when we computed none
--   invoiced_amount: the line's amount, when it has one
--   computed_amount: our amount at the line's grain; null when part of it has no price
--   amount_difference: invoiced_amount - computed_amount
--   currency: the line's currency, else ours
--   status: match, over_invoiced, under_invoiced, no_usage (invoiced, nothing computed) or not_invoiced (usage no line covers)
--   explained_by: the first usual cause whose recount is within the tolerance of the invoice, or amount_differs; null for a match
--   explanation_detail: what that recount stands for, e.g. the build late_data means
--   recounts: every recount as 'cause count', '*' marking the ones that explain the line
--   restated_since_reconciled: a build changed the cycle's counts after an earlier reconcile compared them
--   restatement: which runs changed them, after which reconcile
with explained_lines as (
    select
        source_row,
        arg_min(cause, cause_order) filter (where explains) as explained_by,
        arg_min(detail, cause_order) filter (where explains) as explanation_detail,
        string_agg(cause || ' ' || coalesce(recomputed_conversations::varchar, '-') || case when explains then ' *' else '' end,
            ', ' order by cause_order) as recounts
    from rpt_reconciliation_alternatives
    group by source_row
),

last_reconciles as (
    select
        reconciled.org_id,
        reconciled.cycle_start,
        max(reconciled.reconcile_id) as reconcile_id,
        arg_max(convbill_reconciliations.run_id, reconciled.reconcile_id) as run_id
    from convbill_reconciled_cycles as reconciled
    inner join convbill_reconciliations
        on reconciled.reconcile_id = convbill_reconciliations.reconcile_id
    group by reconciled.org_id, reconciled.cycle_start
),

restated_cycles as (
    select
        last_reconciles.org_id,
        last_reconciles.cycle_start,
        any_value(last_reconciles.reconcile_id) as last_reconcile_id,
        string_agg(distinct changes.run_id::varchar, ', ' order by changes.run_id::varchar) as restating_runs
    from last_reconciles
    inner join convbill_count_changes as changes
        on last_reconciles.org_id = changes.org_id
        and last_reconciles.cycle_start = changes.cycle_start
        and changes.run_id > last_reconciles.run_id
    group by last_reconciles.org_id, last_reconciles.cycle_start
)

select
    comparison.source_row,
    comparison.line_label,
    comparison.invoice_id,
    comparison.org_id,
    comparison.cycle_id,
    comparison.cycle_start,
    comparison.platform,
    comparison.integration_id,
    comparison.invoiced_conversations,
    comparison.computed_conversations,
    comparison.difference,
    comparison.relative_difference,
    comparison.invoiced_amount,
    comparison.computed_amount,
    comparison.amount_difference,
    comparison.currency,
    comparison.status,
    case
        when comparison.status = 'match' then null
        when comparison.quantity_within and comparison.status <> 'not_invoiced' then 'amount_differs'
        else explained_lines.explained_by
    end as explained_by,
    explained_lines.explanation_detail,
    explained_lines.recounts,
    restated_cycles.org_id is not null as restated_since_reconciled,
    case when restated_cycles.org_id is not null
        then 'counts changed by run(s) ' || restated_cycles.restating_runs
            || ' after reconcile ' || restated_cycles.last_reconcile_id || ' compared this cycle'
    end as restatement
from int_invoice_comparison as comparison
left join explained_lines on comparison.source_row = explained_lines.source_row
left join restated_cycles
    on comparison.org_id = restated_cycles.org_id
    and comparison.cycle_start = restated_cycles.cycle_start
