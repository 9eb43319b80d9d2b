-- audit_interactions_conserved
-- grain: one row when the check fails.
-- purpose: every shipped row of a counting load is in exactly one merged interaction, and
--          every billable interaction has a run of cycles.
select 'rows merged' as what, rows_shipped, rows_merged, unspanned
from (
    select
        (select count() from {database}.stg_rows where load_id in (select load_id from {database}.cfg_counting_loads_local)) as rows_shipped,
        (select sum(row_count) from {database}.int_interactions) as rows_merged,
        (select count() from {database}.int_interactions where reject_reason is null and (first_cycle_seq is null or last_cycle_seq is null)) as unspanned
)
where rows_shipped != rows_merged or unspanned > 0;
