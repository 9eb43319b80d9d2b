-- materialized: temp
-- int_org_activity_spans
-- grain: one row per org with a dated row not after as-of, (org_id).
-- purpose: a lower bound for where each org's billable history starts: the
--          earliest parseable activity among all its rows, billable or not.
--          Cycles are generated from the one holding it, and the timeline is
--          bucketed by day from it; dim_billing_cycles then drops the cycles
--          before the org's first billable interaction. Bounding from rows
--          rather than merged interactions lets the merge find each
--          interaction's cycles in the same pass (int_interactions).
select
    org_id,
    min(activity_start) as earliest_start
from stg_rows
where activity_start <= (select as_of from cfg_run)
group by org_id
