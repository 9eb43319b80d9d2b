-- parse_instant(value, source_timezone, epoch_unit): an input timestamp as a
-- TIMESTAMPTZ, null when it does not parse (the caller's invalid_timestamp).
-- The grammar is docs/configuration.md's (Timestamps): an ISO-8601 date and time with seconds, or an
-- integer in the source's epoch unit ('s', 'ms', 'us').
--
-- Why a regular expression decides, not a cast: DuckDB's casts guess. They
-- read 'epoch', 'infinity', '2024-3-1', zone names and abbreviations, and the
-- text-to-TIMESTAMPTZ cast keeps the zone one row named for the naive rows
-- after it, so one odd value changed how its neighbours were read. Here the
-- casts only see text the expression accepted (they still reject Feb 30),
-- and naive text never reaches the text-to-TIMESTAMPTZ cast.
-- It runs on every timestamp of every row: one regular expression and one
-- cast on the common paths; the other tests are plain string functions.
create or replace macro parse_instant(value, source_timezone, epoch_unit) as
    case
        -- years 0001-9999; offsets up to 18 hours, as ISO-8601 writes them
        when regexp_full_match(value,
            '([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])'
            || '[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?'
            || '([Zz]|[+-](0[0-9]|1[0-7])(:?[0-5][0-9])?|[+-]18(:?00)?)?')
            then case
                -- in text of that shape a Z, a + or a - after a colon can only
                -- be the offset; the casts know T and Z in upper case only
                when suffix(value, 'Z') or suffix(value, 'z') or contains(value, '+') or value like '%:%-%'
                    then try_cast(upper(value) as timestamptz)
                -- UTC wall-clock time is the instant: taken as is, where
                -- ::timestamptz would ask ICU about the session zone per row
                when source_timezone = 'UTC' then make_timestamptz(epoch_us(try_cast(upper(value) as timestamp)))
                else timezone(source_timezone, try_cast(upper(value) as timestamp))
            end
        -- beyond the ISO years an epoch is a unit mistake, and multiplying it
        -- could overflow
        when regexp_full_match(value, '-?[0-9]+') then make_timestamptz(
            case epoch_unit
                when 's' then if(try_cast(value as bigint) between -62135596800 and 253402300799,
                    try_cast(value as bigint) * 1000000, null)
                when 'ms' then if(try_cast(value as bigint) between -62135596800000 and 253402300799999,
                    try_cast(value as bigint) * 1000, null)
                when 'us' then if(try_cast(value as bigint) between -62135596800000000 and 253402300799999999,
                    try_cast(value as bigint), null)
            end)
    end;

-- parse_instant_or_date(value, timezone): a run option or config value
-- (--as-of, invoice periods) as parse_instant reads it with epoch
-- milliseconds, or a date: local midnight in `timezone`, found as
-- local_midnight finds it (the first occurrence; after a gap, its end). Not
-- local_midnight itself: its subquery cannot stand in a join condition.
-- Input rows never take a bare date: the rules want a time of day on every
-- timestamp.
create or replace macro midnight_candidates(local_date, tz) as [
    local_date::timestamp - local_utc_offset(timezone(tz, local_date::timestamp) - interval 1 day, tz),
    local_date::timestamp - local_utc_offset(timezone(tz, local_date::timestamp) + interval 1 day, tz)
]::timestamptz[];

create or replace macro parse_instant_or_date(value, timezone) as
    case
        when regexp_full_match(value, '([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-[0-9]{2}-[0-9]{2}')
            then coalesce(
                list_min(list_filter(midnight_candidates(try_cast(value as date), timezone),
                    lambda instant: timezone(timezone, instant) = try_cast(value as date)::timestamp)),
                list_max(midnight_candidates(try_cast(value as date), timezone)))
        else parse_instant(value, timezone, 'ms')
    end;
