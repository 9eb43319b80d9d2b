-- materialized: incremental
-- unique_key: load_id
-- replaces: cfg_scope_loads
-- int_row_rejects
-- grain: one row per staged row that failed a row check, (load_id, source_row).
-- purpose: the row checks of rules §5 (first failing reason wins, decided in
--          stg_rows), with the row as read: a row's own checks never change,
--          so each load's rejects are written once, by the build that
--          stages it. raw is a JSON object of the contract's columns.
create table if not exists int_row_rejects (
    load_id integer not null,
    source_row bigint not null,
    reason varchar not null,
    org_id varchar,
    integration_id varchar,
    interaction_key varchar,
    raw varchar not null
);

select
    stg_rows.load_id,
    stg_rows.source_row,
    stg_rows.row_reject_reason as reason,
    stg_rows.org_id,
    stg_rows.integration_id,
    stg_rows.interaction_key,
    raw_json(raw_rows) as raw
from stg_rows
inner join raw_scope_rows as raw_rows
    on stg_rows.load_id = raw_rows.load_id
    and stg_rows.source_row = raw_rows.source_row
where stg_rows.row_reject_reason is not null
