-- materialized: temp
-- int_billing_cycles
-- grain: one row per billing cycle of an org, (org_id, cycle_start).
-- purpose: docs/billing-rules.md §3 — each org's half-open cycles [cycle_start, cycle_end),
--          from the cycle holding its earliest activity (a lower bound for
--          its earliest billable interaction, see int_org_activity_spans) to
--          the cycle holding as-of. Orgs in the calendar file get exactly its
--          cycles; the others follow their anchor-day rule (or the default
--          rule). cycle_seq numbers an org's cycles in time order for the
--          joins, and never changes from build to build: for a rule it counts
--          months (year * 12 + month of the cycle's local start), for a
--          calendar it is the cycle's place in the whole calendar. Stored
--          interactions keep their cycle numbers when late rows move an
--          org's history back. dim_billing_cycles keeps the billable cycles.
with run as (
    select as_of, default_anchor_day, default_timezone
    from cfg_run
),

dated_orgs as (
    select int_org_activity_spans.org_id, int_org_activity_spans.earliest_start
    from int_org_activity_spans
    cross join run
    where int_org_activity_spans.earliest_start <= run.as_of
),

org_rules as (
    select
        dated_orgs.org_id,
        dated_orgs.earliest_start,
        coalesce(cfg_cycle_rules.anchor_day, run.default_anchor_day) as anchor_day,
        coalesce(cfg_cycle_rules.timezone, run.default_timezone) as timezone,
        run.as_of
    from dated_orgs
    cross join run
    left join cfg_cycle_rules on dated_orgs.org_id = cfg_cycle_rules.org_id
    where dated_orgs.org_id not in (select org_id from cfg_calendar)
),

-- One month either side of the span, so the cycle holding the earliest
-- interaction and the end of the as-of cycle are always generated.
rule_months as (
    select
        org_id,
        earliest_start,
        as_of,
        anchor_day,
        timezone,
        unnest(generate_series(
            date_trunc('month', timezone(timezone, earliest_start)) - interval 1 month,
            date_trunc('month', timezone(timezone, as_of)) + interval 1 month,
            interval 1 month
        ))::date as month_start
    from org_rules
),

-- Each start is anchor + n months, clamped to the month's last day: never
-- derived from the previous cycle, which would drift after a short month.
rule_cycle_starts as (
    select
        org_id,
        timezone,
        make_date(year(month_start), month(month_start), least(anchor_day, day(last_day(month_start)))) as local_start_date
    from rule_months
),

rule_cycle_instants as (
    select
        org_id,
        timezone,
        strftime(local_start_date, '%Y-%m-%d') as cycle_id,
        local_midnight(local_start_date, timezone) as cycle_start,
        (year(local_start_date) * 12 + month(local_start_date))::integer as cycle_seq
    from rule_cycle_starts
),

-- a calendar's cycle_seq is its place in the whole calendar, so it is
-- numbered before the cycles outside the org's span are dropped
all_cycles as (
    select
        org_id,
        cycle_id,
        cycle_start,
        lead(cycle_start) over (partition by org_id order by cycle_start) as cycle_end,
        timezone,
        'rule' as cycle_source,
        cycle_seq
    from rule_cycle_instants
    union all
    select
        org_id,
        cycle_id,
        cycle_start,
        cycle_end,
        timezone,
        'calendar' as cycle_source,
        row_number() over (partition by org_id order by cycle_start)::integer as cycle_seq
    from cfg_calendar
)

-- the cycles that overlap the org's span, from its earliest activity to as-of
select all_cycles.*
from all_cycles
semi join dated_orgs
    on all_cycles.org_id = dated_orgs.org_id
    and all_cycles.cycle_end > dated_orgs.earliest_start
where all_cycles.cycle_start <= (select as_of from run)
