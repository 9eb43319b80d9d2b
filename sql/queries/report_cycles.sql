-- report_cycles
-- grain: one row per org and billing cycle, (org_id, cycle_start).
-- purpose: convbill report's cycle table and count trend: each cycle's
--          first and last local day in its timezone, whether it is complete
--          or still in progress at the as-of (its counts can still grow, so
--          the page never draws it as a finished cycle), and its
--          conversations. Amounts are per currency in report_cycle_amounts.
-- parameters:
--   $org: the org to report, or null for every org
--   $as_of: the as-of of the build whose facts are read
-- columns:
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant, ISO-8601 UTC
--   cycle_end: the instant after the cycle, ISO-8601 UTC
--   first_day: the cycle's first local day (YYYY-MM-DD) in its timezone
--   last_day: its last local day: the day of the instant before cycle_end
--   timezone: the IANA timezone of the cycle's boundaries
--   status: complete (ends at or before the as-of), in_progress (holds the as-of) or upcoming
--   latest_complete: the org's last complete cycle, the one the invoice table shows
--   conversations: billable conversations (fct_conversation_charges), 0 for a cycle without any
--   billable_conversations: conversations left to pay after the allowances, over the priced counts; null when none is priced
--   unpriced_conversations: conversations no price matches
with cycles as (
    select
        org_id,
        cycle_id,
        cycle_start,
        cycle_end,
        timezone,
        case
            when cycle_end <= $as_of::timestamptz then 'complete'
            when cycle_start <= $as_of::timestamptz then 'in_progress'
            else 'upcoming'
        end as status
    from dim_billing_cycles
    where $org::varchar is null or org_id = $org::varchar
),

cycle_charges as (
    select
        org_id,
        cycle_start,
        sum(conversations) as conversations,
        sum(billable_conversations) as billable_conversations,
        coalesce(sum(conversations) filter (where price_status = 'no_price'), 0) as unpriced_conversations
    from fct_conversation_charges
    where $org::varchar is null or org_id = $org::varchar
    group by org_id, cycle_start
),

latest_complete as (
    select org_id, max(cycle_start) as cycle_start
    from cycles
    where status = 'complete'
    group by org_id
)

select
    cycles.org_id,
    cycles.cycle_id,
    strftime(cycles.cycle_start, '%Y-%m-%dT%H:%M:%SZ') as cycle_start,
    strftime(cycles.cycle_end, '%Y-%m-%dT%H:%M:%SZ') as cycle_end,
    strftime(timezone(cycles.timezone, cycles.cycle_start), '%Y-%m-%d') as first_day,
    strftime(timezone(cycles.timezone, cycles.cycle_end - interval 1 microsecond), '%Y-%m-%d') as last_day,
    cycles.timezone,
    cycles.status,
    latest_complete.cycle_start is not null as latest_complete,
    coalesce(cycle_charges.conversations, 0)::bigint as conversations,
    cycle_charges.billable_conversations::bigint as billable_conversations,
    coalesce(cycle_charges.unpriced_conversations, 0)::bigint as unpriced_conversations
from cycles
left join cycle_charges
    on cycles.org_id = cycle_charges.org_id
    and cycles.cycle_start = cycle_charges.cycle_start
left join latest_complete
    on cycles.org_id = latest_complete.org_id
    and cycles.cycle_start = latest_complete.cycle_start
order by cycles.org_id, cycles.cycle_start
