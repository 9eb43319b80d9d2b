-- parse_instant(value, source_timezone): one input timestamp as a TIMESTAMPTZ,
-- null when it does not parse (the caller turns that into invalid_timestamp).
--   * integers are epoch milliseconds;
--   * ISO-8601 with an offset or Z is taken as written;
--   * anything else is wall-clock time in the source's timezone.
-- The session TimeZone is UTC (set by the warehouse), so for UTC sources one
-- cast handles both offset and offset-less text without a regular expression.
create or replace macro parse_instant(value, source_timezone) as
    case
        when value is null then null
        when regexp_full_match(value, '-?[0-9]+') then epoch_ms(try_cast(value as bigint))::timestamptz
        when source_timezone = 'UTC' then try_cast(value as timestamptz)
        when regexp_matches(value, '[Tt ][0-9]{1,2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?\s*([zZ]|[+-][0-9]{2}(:?[0-9]{2})?)$')
            then try_cast(value as timestamptz)
        else timezone(source_timezone, try_cast(value as timestamp))
    end;
