-- bench/cycles.sql
-- grain: one row per (org_id, cycle_start) of the benchmark's orgs.
-- purpose: the billing cycles the hand-written floors and PostgreSQL use,
--          computed plainly: local midnight of the clamped anchor day of each
--          month (no DST edge falls on a midnight in the benchmark's zones).
-- parameters: org_rules (values: org_id, anchor_day, timezone).
create or replace table bench_cycles as
with org_rules(org_id, anchor_day, timezone) as (
    values
        {{org_rules}}
),

months as (
    select org_id, anchor_day, timezone, unnest(generate_series(date '2024-11-01', date '2026-02-01', interval 1 month))::date as month_start
    from org_rules
),

starts as (
    select
        org_id,
        timezone,
        make_date(year(month_start), month(month_start), least(anchor_day, day(last_day(month_start)))) as local_start
    from months
)

select
    org_id,
    strftime(local_start, '%Y-%m-%d') as cycle_id,
    timezone(timezone, local_start::timestamp) as cycle_start,
    lead(timezone(timezone, local_start::timestamp)) over (partition by org_id order by local_start) as cycle_end
from starts
qualify cycle_end is not null;
