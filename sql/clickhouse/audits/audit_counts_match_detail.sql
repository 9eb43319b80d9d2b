-- audit_counts_match_detail
-- grain: one row per (org_id, cycle_start, integration_id) whose count is not its detail's.
-- purpose: every count is its detail's number of rows, and no count is zero or without detail.
select org_id, cycle_start, integration_id, counted, detail_rows
from (
    select org_id, cycle_start, integration_id, sum(counted) as counted, sum(detail_rows) as detail_rows
    from (
        select org_id, cycle_start, integration_id, conversations as counted, toUInt64(0) as detail_rows
        from {database}.{counts}
        union all
        select org_id, cycle_start, integration_id, toUInt64(0) as counted, count() as detail_rows
        from {database}.{detail}
        group by org_id, cycle_start, integration_id
    )
    group by org_id, cycle_start, integration_id
)
where counted != detail_rows or counted = 0
limit 5;
