-- bench/floor-counts.sql
-- grain: one row per (org_id, cycle_start, integration_id).
-- purpose: the engine floor for issue #2's tracked ratio — one hand-written
--          DuckDB query, no convbill code, computing only the conversation
--          counts straight from the Parquet file: calendar-month UTC cycles,
--          joined on org and the overlap predicate, distinct accounts counted.
-- parameters: path, as_of, out.
copy (
    with interactions as (
        select
            org_id,
            integration_id,
            customer_account_id,
            started_at,
            least(coalesce(ended_at, timestamptz '{{as_of}}'), timestamptz '{{as_of}}') as effective_end
        from read_parquet('{{path}}')
        where integration_id is not null
            and started_at <= timestamptz '{{as_of}}'
    ),

    cycles as (
        select
            orgs.org_id,
            months.month_start::timestamptz as cycle_start,
            (months.month_start + interval 1 month)::timestamptz as cycle_end
        from (select distinct org_id from interactions) as orgs
        cross join generate_series(timestamp '2024-12-01', timestamp '2026-12-01', interval 1 month) as months(month_start)
    )

    select
        interactions.org_id,
        cycles.cycle_start,
        interactions.integration_id,
        count(distinct interactions.customer_account_id) as conversations
    from interactions
    inner join cycles
        on interactions.org_id = cycles.org_id
        and interactions.started_at < cycles.cycle_end
        and interactions.effective_end >= cycles.cycle_start
    group by all
) to '{{out}}' (format parquet);
