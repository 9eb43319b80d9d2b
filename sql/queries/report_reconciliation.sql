-- report_reconciliation
-- grain: one row per org, cycle and status of the last reconcile, (org_id, cycle_id, status).
-- purpose: convbill report's reconciliation status, from the last
--          convbill reconcile (rpt_invoice_reconciliation): how many of the
--          invoice's lines for each cycle have each status, and whether a
--          build has changed the cycle's counts since they were compared.
-- parameters:
--   $org: the org to report, or null for every org
-- columns:
--   org_id: the organisation
--   cycle_id: the cycle invoiced
--   status: match, over_invoiced, under_invoiced, no_usage or not_invoiced
--   lines: invoice lines (and usage no line covers) with that status
--   restated: a build changed the cycle's counts after the reconcile compared them
select
    org_id,
    cycle_id,
    status,
    count(*)::bigint as lines,
    bool_or(coalesce(restated_since_reconciled, false)) as restated
from rpt_invoice_reconciliation
where $org::varchar is null or org_id = $org::varchar
group by org_id, cycle_id, status
order by org_id, cycle_id, status = 'match' desc, status
