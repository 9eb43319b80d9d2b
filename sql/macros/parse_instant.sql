-- parse_instant(value, source_timezone): one input timestamp as a TIMESTAMPTZ,
-- null when it does not parse (the caller turns that into invalid_timestamp).
--   * integers are epoch milliseconds (beyond year 9999: null);
--   * ISO-8601 with an offset or Z is taken as written;
--   * anything else is wall-clock time in the source's timezone.
-- The session TimeZone is UTC (set by the warehouse), so for UTC sources one
-- cast handles offset and offset-less text alike: that fast path runs first,
-- and the regular expressions only see what it could not read.
create or replace macro epoch_ms_instant(value) as
    case
        -- beyond year 9999 is no plausible log time, and overflows the cast
        when abs(try_cast(value as bigint)) <= 253402300799999
            then epoch_ms(try_cast(value as bigint))::timestamptz
    end;

-- DuckDB reads "10:20+01:00" only with seconds: add them.
create or replace macro with_seconds(value) as
    regexp_replace(value, '([Tt ][0-9]{1,2}:[0-9]{2})\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$', '\1:00\2');

create or replace macro has_utc_offset(value) as
    regexp_matches(value, '[Tt ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$');

create or replace macro parse_instant(value, source_timezone) as
    case
        when value is null then null
        when source_timezone = 'UTC' then coalesce(
            try_cast(value as timestamptz),
            epoch_ms_instant(value),
            try_cast(with_seconds(value) as timestamptz)
        )
        when has_utc_offset(value) then coalesce(try_cast(value as timestamptz), try_cast(with_seconds(value) as timestamptz))
        else coalesce(epoch_ms_instant(value), timezone(source_timezone, try_cast(value as timestamp)))
    end;
