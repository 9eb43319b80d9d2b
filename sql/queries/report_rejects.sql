-- report_rejects
-- grain: one row per org and reject reason, (org_id, reason); org_id is null for rows no org could be read from.
-- purpose: convbill report's rejected rows, per org: rows that do not fit
--          their file's header carry no org and are shown once for the
--          whole warehouse.
-- parameters:
--   $org: the org to report, or null for every org
-- columns:
--   org_id: the rejected row's organisation, or null
--   reason: the reject reason (docs/billing-rules.md §5)
--   rows: rejected input rows
select
    org_id,
    reason,
    count(*)::bigint as rows
from rejected_interactions
where $org::varchar is null or org_id = $org::varchar or org_id is null
group by org_id, reason
order by org_id nulls last, rows desc, reason
