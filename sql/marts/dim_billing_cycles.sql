-- dim_billing_cycles
-- grain: one row per billing cycle of an org, (org_id, cycle_start).
-- purpose: docs/billing-rules.md §3 — each org's half-open cycles [cycle_start, cycle_end),
--          from the cycle holding its earliest billable interaction to the
--          cycle holding as-of (int_billing_cycles may start earlier, from
--          rows that turned out not to be billable). cycle_seq orders an org's
--          cycles; it need not start at 1.
-- columns:
--   org_id: the organisation ('default' when the input names none)
--   cycle_id: the cycle's name: the local date it starts (YYYY-MM-DD) for a rule, the calendar file's cycle_id for a calendar
--   cycle_start: the cycle's first instant, included (local midnight of its first day in timezone)
--   cycle_end: the instant after the cycle, excluded: the next cycle's start
--   timezone: the IANA timezone whose local midnights bound the cycle
--   cycle_source: where the cycle comes from: 'rule' (anchor day and timezone) or 'calendar' (the cycles file)
--   cycle_seq: orders the org's cycles in time; stable from build to build, need not start at 1
with billable_starts as (
    -- conflicts and interactions after as-of have no say; an interaction in
    -- a calendar's gap still shows where the org's history starts
    -- (int_integration_starts)
    select keys.org_id, min(int_integration_starts.earliest_start) as earliest_start
    from int_integration_starts
    inner join int_integration_keys as keys on int_integration_starts.integration_sk = keys.integration_sk
    group by keys.org_id
)

select
    int_billing_cycles.org_id,
    int_billing_cycles.cycle_id,
    int_billing_cycles.cycle_start,
    int_billing_cycles.cycle_end,
    int_billing_cycles.timezone,
    int_billing_cycles.cycle_source,
    int_billing_cycles.cycle_seq
from int_billing_cycles
inner join billable_starts on int_billing_cycles.org_id = billable_starts.org_id
where int_billing_cycles.cycle_end > billable_starts.earliest_start
