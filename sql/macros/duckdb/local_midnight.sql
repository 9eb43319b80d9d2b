-- local_midnight(local_date, tz): the instant a local calendar day starts (docs/billing-rules.md §3).
-- Where midnight happens twice (clocks go back at 01:00) it is the first
-- occurrence; where it does not happen (clocks jump forward at 00:00) it is the
-- first instant after the gap. ICU alone gives the second occurrence, so we try
-- the offsets in force a day either side and keep the earliest instant whose
-- local time really is midnight; when neither is, we are in a gap, and the
-- later candidate is the instant the gap ends.
create or replace macro local_utc_offset(instant, tz) as
    timezone(tz, instant) - instant::timestamp;

create or replace macro local_midnight(local_date, tz) as (
    with candidates as (
        select unnest([
            local_date::timestamp - local_utc_offset(timezone(tz, local_date::timestamp) - interval 1 day, tz),
            local_date::timestamp - local_utc_offset(timezone(tz, local_date::timestamp) + interval 1 day, tz)
        ])::timestamptz as instant
    )
    select coalesce(
        min(instant) filter (where timezone(tz, instant) = local_date::timestamp),
        max(instant)
    )
    from candidates
);
