-- materialized: temp
-- int_org_activity_spans
-- grain: one row per org with an interaction that passed the account and
--        as-of checks, (org_id).
-- purpose: where each org's billable history starts: its cycles are produced
--          from the one holding this instant (rules §3), and the cycle
--          timeline is bucketed by day from it.
select
    stg_interactions.org_id,
    min(stg_interactions.started_at) as earliest_start
from stg_interactions
where not stg_interactions.has_conflicting_accounts
    and stg_interactions.started_at <= (select as_of from cfg_run)
group by stg_interactions.org_id
