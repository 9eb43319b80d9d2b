-- utc_day(instant): the UTC day number of an instant (days since 1970-01-01),
-- by integer arithmetic: a bucket key for equality joins on time, far cheaper
-- per row than any timezone-aware date function.
create or replace macro utc_day(instant) as
    epoch_us(instant) // 86400000000 - (epoch_us(instant) % 86400000000 < 0)::bigint;
