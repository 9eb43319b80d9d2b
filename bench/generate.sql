-- bench/generate.sql
-- grain: one row per synthetic input row, written straight to Parquet.
-- purpose: a seeded, reproducible interaction log for benchmarks: 20 orgs,
--          about 400 integrations over 6 platforms, accounts that repeat with a
--          skewed distribution, a year of start times, durations from minutes
--          to weeks (a few percent cross a cycle boundary), about 0.5% open,
--          about 0.5% exact duplicates and 0.1% bad rows.
-- parameters: rows, seed, path, first (the first row number, so that a later
--             day's rows get interaction ids of their own), start and days
--             (the span of start times) — substituted by bench/generate.ts.
copy (
    with numbered as (
        select
            range as n,
            hash(range, {{seed}}) as h_org,
            hash(range, {{seed}} + 1) as h_integration,
            hash(range, {{seed}} + 2) as h_account,
            hash(range, {{seed}} + 3) as h_start,
            hash(range, {{seed}} + 4) as h_duration,
            hash(range, {{seed}} + 5) as h_flags
        from range({{first}}, {{first}} + {{rows}})
    ),

    -- about 0.5% of rows repeat the row before them exactly
    with_duplicates as (
        select
            case when h_flags % 200 = 1 and n > {{first}} then n - 1 else n end as source_n,
            h_flags
        from numbered
    ),

    regenerated as (
        select
            with_duplicates.h_flags,
            numbered.n,
            (numbered.h_org >> 11) % 20 as org_n,
            (numbered.h_integration >> 17) % 20 as integration_n,
            -- skewed: a few accounts come back very often
            floor(pow((numbered.h_account % 1000000) / 1000000.0, 3) * 2000000)::bigint as account_n,
            timestamptz '{{start}}'
                + to_microseconds((numbered.h_start % ({{days}} * 86400))::bigint * 1000000) as started_at,
            -- log-uniform from one minute to two weeks
            exp(ln(60) + (numbered.h_duration % 1000000) / 1000000.0 * (ln(14 * 86400) - ln(60)))::bigint as duration_s,
            numbered.h_duration % 200 = 7 as is_open
        from with_duplicates
        inner join numbered on with_duplicates.source_n = numbered.n
    )

    select
        'org-' || lpad(org_n::varchar, 2, '0') as org_id,
        case when h_flags % 1000 = 3 then null
             else 'int-' || lpad(org_n::varchar, 2, '0') || '-' || lpad(integration_n::varchar, 2, '0') end as integration_id,
        ['whatsapp', 'facebook', 'instagram', 'sms', 'line', 'twitter'][(1 + integration_n % 6)::bigint] as platform,
        'i-' || n as interaction_id,
        'acct-' || account_n as customer_account_id,
        started_at,
        case when is_open then null else started_at + to_seconds(duration_s) end as ended_at
    from regenerated
) to '{{path}}' (format parquet);
