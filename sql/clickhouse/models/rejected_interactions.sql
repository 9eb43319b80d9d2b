-- rejected_interactions (into rejected_interactions_local, this run's partition)
-- grain: one row per rejected input row, (load_id, source_row).
-- purpose: docs/billing-rules.md §5: the row rejects DuckDB's staging found and every row of an
--          interaction rejected whole (its verdict in int_interactions, on this shard), with
--          the path that names the load now (cfg_counting_loads).
-- columns: as the mart, with run_id
insert into {database}.rejected_interactions_local
select
    {run_id} as run_id,
    source_file,
    source_row,
    reason,
    raw,
    load_id,
    org_id,
    integration_id,
    interaction_key
from (
    select load_id, source_row, reason, raw, org_id, integration_id, interaction_key
    from {database}.int_row_rejects_local
    where load_id in (select load_id from {database}.cfg_counting_loads_local)
    union all
    select
        load_id,
        source_row,
        assumeNotNull(verdict) as reason,
        raw,
        toNullable(org_id) as org_id,
        toNullable(integration_id) as integration_id,
        toNullable(interaction_key) as interaction_key
    from (
        select load_id, source_row, raw, org_id, integration_id, interaction_key
        from {database}.stg_rows_local
        where load_id in (select load_id from {database}.cfg_counting_loads_local)
    ) as shipped
    all inner join (
        select org_id, integration_id, interaction_key, reject_reason as verdict
        from {database}.int_interactions_local
        where reject_reason is not null
    ) as verdicts using (org_id, integration_id, interaction_key)
) as rejects
any left join (
    select load_id, source_file from {database}.cfg_counting_loads_local
) as loads using load_id;
