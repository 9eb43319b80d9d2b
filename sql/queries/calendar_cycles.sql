-- calendar_cycles
-- grain: one row per row of the cycles file (calendar_rows), (source_row).
-- purpose: the explicit billing-cycle calendar (`--cycles`,
--          docs/billing-rules.md §3) into cfg_calendar, typed: a date alone
--          is local midnight in the org's timezone (its cycle rule's, or
--          $default_tz), and an offset-less date-time is read in that zone
--          too. A cycle without a cycle_id is named by its local start date.
--          Rows that do not parse keep a null instant, for
--          src/reference/cycles.ts to name.
-- parameters:
--   $default_tz: the default cycle rule's timezone
-- columns:
--   org_id: the organisation ('default' when the row names none)
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant; null when it does not parse
--   cycle_end: the instant after the cycle; null when it does not parse
--   timezone: the timezone its dates were read in
--   source_row: the row of the cycles file
insert into cfg_calendar
with typed as (
    select
        source_row,
        coalesce(clean_text(calendar_rows.org_id), 'default') as org_id,
        clean_text(cycle_start) as start_text,
        clean_text(cycle_end) as end_text,
        clean_text(cycle_id) as given_cycle_id
    from calendar_rows
),
zoned as (
    select typed.*, coalesce(cfg_cycle_rules.timezone, $default_tz) as timezone
    from typed left join cfg_cycle_rules on typed.org_id = cfg_cycle_rules.org_id
),
parsed as (
    select
        *,
        case when regexp_full_match(start_text, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            then local_midnight(try_cast(start_text as date), timezone)
            else parse_instant(start_text, timezone, 'ms') end as cycle_start,
        case when regexp_full_match(end_text, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            then local_midnight(try_cast(end_text as date), timezone)
            else parse_instant(end_text, timezone, 'ms') end as cycle_end
    from zoned
)
select
    org_id,
    coalesce(given_cycle_id, strftime(timezone(timezone, cycle_start), '%Y-%m-%d')),
    cycle_start, cycle_end, timezone, source_row
from parsed
