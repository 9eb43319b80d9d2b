-- bench/generate.sql
-- grain: one row per synthetic input row, written straight to Parquet.
-- purpose: a seeded, reproducible interaction log for benchmarks: 20 orgs,
--          about 400 integrations over 6 platforms, accounts that repeat with a
--          skewed distribution, start times over the file's span, durations
--          from minutes to weeks (a few percent cross a cycle boundary), about
--          0.5% exact duplicates and 0.1% bad rows.
--          Open interactions, as an export shows them (open = 'in_progress'):
--          those still running when the file's span ends (about 0.4% of a
--          year's rows, all started in its last two weeks). A later file (a
--          night) also carries the closing row of every interaction of the
--          file before it (close_*) that ended within its own span, as a
--          vendor's next export does. open = 'stale' is the worst case the
--          rules allow instead: 0.5% of rows open forever, whatever their start,
--          so that every later as-of changes conversations in every cycle.
-- parameters: rows, seed, path, first (the first row number, so that a later
--             day's rows get interaction ids of their own), start and days
--             (the span of start times), open, and close_first, close_rows,
--             close_start, close_days (the earlier file whose interactions
--             this one closes; close_rows 0 for none) — substituted by
--             bench/generate.ts.
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
            numbered.h_duration % 200 = 7 as is_stale
        from with_duplicates
        inner join numbered on with_duplicates.source_n = numbered.n
    ),

    this_file as (
        select
            h_flags,
            n,
            org_n,
            integration_n,
            account_n,
            started_at,
            case
                when '{{open}}' = 'stale' and is_stale then null
                when '{{open}}' = 'in_progress'
                    and started_at + to_seconds(duration_s) > timestamptz '{{start}}' + to_days({{days}}) then null
                else started_at + to_seconds(duration_s)
            end as ended_at
        from regenerated
    ),

    -- the interactions of the earlier file, regenerated from the same hashes
    earlier as (
        select
            range as n,
            hash(range, {{seed}} + 5) as h_flags,
            (hash(range, {{seed}}) >> 11) % 20 as org_n,
            (hash(range, {{seed}} + 1) >> 17) % 20 as integration_n,
            floor(pow((hash(range, {{seed}} + 2) % 1000000) / 1000000.0, 3) * 2000000)::bigint as account_n,
            timestamptz '{{close_start}}'
                + to_microseconds((hash(range, {{seed}} + 3) % ({{close_days}} * 86400))::bigint * 1000000) as started_at,
            exp(ln(60) + (hash(range, {{seed}} + 4) % 1000000) / 1000000.0 * (ln(14 * 86400) - ln(60)))::bigint as duration_s
        from range({{close_first}}, {{close_first}} + {{close_rows}})
    ),

    -- open when the earlier file ended (this file's start), ended within this file's span
    closing as (
        select h_flags, n, org_n, integration_n, account_n, started_at, started_at + to_seconds(duration_s) as ended_at
        from earlier
        where '{{open}}' = 'in_progress'
            and started_at + to_seconds(duration_s) > timestamptz '{{start}}'
            and started_at + to_seconds(duration_s) <= timestamptz '{{start}}' + to_days({{days}})
    ),

    every_row as (
        select h_flags, n, org_n, integration_n, account_n, started_at, ended_at from this_file
        union all
        select h_flags, n, org_n, integration_n, account_n, started_at, ended_at from closing
    )

    select
        'org-' || lpad(org_n::varchar, 2, '0') as org_id,
        case when h_flags % 1000 = 3 then null
             else 'int-' || lpad(org_n::varchar, 2, '0') || '-' || lpad(integration_n::varchar, 2, '0') end as integration_id,
        ['whatsapp', 'facebook', 'instagram', 'sms', 'line', 'twitter'][(1 + integration_n % 6)::bigint] as platform,
        'i-' || n as interaction_id,
        'acct-' || account_n as customer_account_id,
        started_at,
        ended_at
    from every_row
) to '{{path}}' (format parquet);
