-- int_interactions
-- grain: one row per interaction, (org_id, integration_id, interaction_key), on the shard of its rows.
-- purpose: docs/billing-rules.md §4 and the interaction checks of §5, as the DuckDB model of
--          the same name: merged from every row of the loads that count; open when it has
--          an interaction row and none with an end; cut at as-of; the run of cycles it
--          overlaps, [first_cycle_seq, last_cycle_seq], where overlap is
--          start < cycle_end and effective_end >= cycle_start, found in its org's
--          cycles, sorted by start, as array positions; reject_reason in the rules' order.
-- aliases differ from level to level: ClickHouse's are global within a select; every joined
-- subquery is named (current releases refuse a join of unnamed subqueries: joined_subquery_requires_alias)
-- columns: as the DuckDB model, with org_id and integration_id for its integration_sk
--          and instants in epoch milliseconds
insert into {database}.int_interactions_local
select
    org_id,
    integration_id,
    interaction_key,
    customer_account_id,
    has_account_conflict,
    row_count,
    interaction_rows,
    ended_interaction_rows,
    started_at,
    latest_activity,
    ended_at,
    effective_end,
    if(first_position = 0 or first_position > last_position, null, cycle_seqs[first_position]) as first_cycle_seq,
    if(last_position = 0 or first_position > last_position, null, cycle_seqs[last_position]) as last_cycle_seq,
    multiIf(
        has_account_conflict, 'conflicting_customer_account',
        started_at > run_as_of, 'after_as_of',
        first_position = 0 or first_position > last_position, 'outside_billing_cycles',
        null
    ) as reject_reason
from (
    select
        org_id,
        integration_id,
        interaction_key,
        account_any as customer_account_id,
        account_conflict as has_account_conflict,
        rows_merged as row_count,
        interaction_row_count as interaction_rows,
        ended_row_count as ended_interaction_rows,
        earliest_start as started_at,
        latest_instant as latest_activity,
        if(interaction_rows > 0 and ended_interaction_rows = 0, null, latest_activity) as ended_at,
        (select any(as_of) from {database}.cfg_run_local) as run_as_of,
        least(ifNull(ended_at, run_as_of), run_as_of) as effective_end,
        cycle_seqs,
        arrayFirstIndex(end_instant -> end_instant > started_at, cycle_ends) as first_position,
        arrayCount(start_instant -> start_instant <= effective_end, cycle_starts) as last_position
    from (
        select
            org_id,
            integration_id,
            interaction_key,
            any(customer_account_id) as account_any,
            -- two accounts are told apart by their 64-bit hashes, as in DuckDB's model:
            -- two per interaction where uniqExact kept a set of them (the merge's memory)
            min(cityHash64(customer_account_id)) != max(cityHash64(customer_account_id)) as account_conflict,
            count() as rows_merged,
            countIf(row_kind = 'interaction') as interaction_row_count,
            countIf(row_kind = 'interaction' and activity_end is not null) as ended_row_count,
            min(activity_start) as earliest_start,
            -- the latest start or end: a missing end has no say
            max(greatest(activity_start, ifNull(activity_end, activity_start))) as latest_instant
        from {database}.stg_rows_local
        where load_id in (select load_id from {database}.cfg_counting_loads_local)
        group by org_id, integration_id, interaction_key
    ) as merged_rows
    any left join (
        select
            org_id,
            groupArray(cycle_start) as cycle_starts,
            groupArray(ifNull(cycle_end, toInt64(9223372036854775807))) as cycle_ends,
            groupArray(cycle_seq) as cycle_seqs
        from (select org_id, cycle_start, cycle_end, cycle_seq from {database}.cfg_billing_cycles_local order by org_id, cycle_start)
        group by org_id
    ) as org_cycles using org_id
);
