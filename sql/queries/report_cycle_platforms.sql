-- report_cycle_platforms
-- grain: one row per org, billing cycle and platform with conversations, (org_id, cycle_start, platform).
-- purpose: convbill report's count trend: each cycle's conversations,
--          stacked by the platform their integrations bill under.
-- parameters:
--   $org: the org to report, or null for every org
-- columns:
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant, ISO-8601 UTC
--   platform: the platform (dim_integrations)
--   conversations: billable conversations
select
    org_id,
    any_value(cycle_id) as cycle_id,
    strftime(cycle_start, '%Y-%m-%dT%H:%M:%SZ') as cycle_start,
    platform,
    sum(conversations)::bigint as conversations
from fct_conversation_counts
where $org::varchar is null or org_id = $org::varchar
group by org_id, cycle_start, platform
order by org_id, cycle_start, platform
