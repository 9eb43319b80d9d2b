-- materialized: incremental
-- unique_key: load_id
-- replaces: cfg_scope_loads
-- int_row_rejects
-- grain: one row per staged row that failed a row check, (load_id, source_row).
-- purpose: the row checks of docs/billing-rules.md §5 (first failing reason wins, decided in
--          stg_rows) and the rows no reader could fit (stg_malformed_rows),
--          with the row as read: a row's own checks never change,
--          so each load's rejects are written once, by the build that
--          stages it. raw is a JSON object of the contract's columns, from
--          the raw values stg_rows carries: joining the rows back by
--          (load_id, source_row) cost a second read of every staged file.
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
    load_id,
    source_row,
    row_reject_reason as reason,
    org_id,
    integration_id,
    interaction_key,
    raw_json(raw_row) as raw
from stg_rows
where row_reject_reason is not null
union all
select
    load_id,
    source_row,
    reason,
    null as org_id,
    null as integration_id,
    null as interaction_key,
    raw
from stg_malformed_rows
