-- report_reconciliation_lines
-- grain: one row per invoice line (or uncovered usage) of the last reconcile that does not match, (org_id, line).
-- purpose: convbill report's differing invoice lines, per org: invoiced
--          against computed, and the usual cause that explains each.
-- parameters:
--   $org: the org to report, or null for every org
-- columns:
--   org_id: the organisation
--   line: the invoice line as reconcile names it ('line N'), or 'usage' for usage no line covers
--   cycle_id: the cycle invoiced
--   scope: the integration or platform the line invoices, or 'all'
--   invoiced: the line's conversations
--   computed: ours at the line's grain
--   difference: invoiced - computed
--   status: over_invoiced, under_invoiced, no_usage or not_invoiced
--   explained_by: the first usual cause that explains the difference, if any
with differing_lines as (
    select
        org_id,
        coalesce(line_label, 'usage') as line,
        cycle_id,
        coalesce(integration_id, platform, 'all') as scope,
        invoiced_conversations::bigint as invoiced,
        computed_conversations::bigint as computed,
        difference::bigint as difference,
        status,
        explained_by,
        row_number() over (partition by org_id order by source_row nulls last, cycle_id, scope) as position
    from rpt_invoice_reconciliation
    where status <> 'match'
        and ($org::varchar is null or org_id = $org::varchar)
)

select org_id, line, cycle_id, scope, invoiced, computed, difference, status, explained_by
from differing_lines
where position <= 30
order by org_id, position
