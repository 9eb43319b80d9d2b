-- fct_billable_conversations (into fct_billable_conversations_next_local)
-- grain: one row per billable conversation, (org_id, cycle_seq, integration_id, customer_account_id).
-- purpose: docs/billing-rules.md §1: the distinct (org, cycle, integration, account) with at
--          least one billable interaction overlapping the cycle; an interaction counts once
--          in every cycle of its run (§4). Labelled with the cycle convbill computed and the
--          integration's platform (dim_integrations of this run).
-- columns: as the mart, with run_id and cycle_seq
insert into {database}.fct_billable_conversations_next_local
select
    {run_id} as run_id,
    org_id,
    cycle_seq,
    cycle_id,
    cycle_start,
    cycle_end,
    integration_id,
    ifNull(platform, 'unknown') as platform,
    customer_account_id,
    interaction_count,
    first_activity_at,
    last_activity_at
from (
    select
        org_id,
        cycle_seq,
        cycle_id,
        cycle_start,
        cycle_end,
        integration_id,
        customer_account_id,
        interaction_count,
        first_activity_at,
        last_activity_at
    from (
        select
            org_id,
            integration_id,
            customer_account_id,
            cycle_seq,
            count() as interaction_count,
            min(started_at) as first_activity_at,
            max(effective_end) as last_activity_at
        from (
            select
                org_id,
                integration_id,
                customer_account_id,
                started_at,
                effective_end,
                arrayJoin(arrayMap(step -> toInt32(assumeNotNull(first_cycle_seq) + step),
                    range(toUInt32(assumeNotNull(last_cycle_seq) - assumeNotNull(first_cycle_seq) + 1)))) as cycle_seq
            from {database}.int_interactions_local
            where reject_reason is null
        )
        group by org_id, integration_id, customer_account_id, cycle_seq
    ) as conversation_cycles
    any left join (
        select org_id, cycle_seq, cycle_id, cycle_start, cycle_end
        from {database}.cfg_billing_cycles_local
    ) as org_cycles using (org_id, cycle_seq)
) as labelled
any left join (
    select org_id, integration_id, platform
    from {database}.dim_integrations_local
    where run_id = {run_id}
) as platforms using (org_id, integration_id);
