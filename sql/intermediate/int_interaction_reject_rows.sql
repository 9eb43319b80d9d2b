-- materialized: incremental
-- unique_key: org_id, integration_id, interaction_key
-- replaces: int_touched_interactions
-- int_interaction_reject_rows
-- grain: one row per row of an interaction rejected as a whole,
--        (load_id, source_row).
-- purpose: the interaction checks of docs/billing-rules.md §5 reject every row of the
--          interaction that passed the row checks. For each interaction this
--          build touched, its rows are rewritten: the ones stored before
--          (their reason may change, say from after_as_of to a conflict) and
--          its newly staged ones; an interaction now billable drops them.
--          A billable interaction whose late row brings a conflict also has
--          rows no stored table holds; audit_rejected_rows_complete notices
--          and the build falls back to a full refresh.
create table if not exists int_interaction_reject_rows (
    load_id integer not null,
    source_row bigint not null,
    reason varchar not null,
    org_id varchar not null,
    integration_id varchar not null,
    interaction_key varchar not null,
    raw varchar not null
);

with rejected_now as (
    select keys.org_id, keys.integration_id, rejected.interaction_key, rejected.reject_reason
    from int_interactions_delta as rejected
    inner join int_integration_keys as keys on rejected.integration_sk = keys.integration_sk
    where rejected.reject_reason is not null
),

stored_rows as (
    select
        earlier.load_id,
        earlier.source_row,
        rejected_now.reject_reason as reason,
        earlier.org_id,
        earlier.integration_id,
        earlier.interaction_key,
        earlier.raw
    from int_interaction_reject_rows as earlier
    inner join rejected_now
        on earlier.org_id = rejected_now.org_id
        and earlier.integration_id = rejected_now.integration_id
        and earlier.interaction_key = rejected_now.interaction_key
),

staged_rows as (
    select
        stg_rows.load_id,
        stg_rows.source_row,
        rejected_now.reject_reason as reason,
        stg_rows.org_id,
        stg_rows.integration_id,
        stg_rows.interaction_key
    from stg_rows
    inner join rejected_now
        on stg_rows.org_id = rejected_now.org_id
        and stg_rows.integration_id = rejected_now.integration_id
        and stg_rows.interaction_key = rejected_now.interaction_key
    where stg_rows.row_reject_reason is null
)

select load_id, source_row, reason, org_id, integration_id, interaction_key, raw
from stored_rows
union all
select
    staged_rows.load_id,
    staged_rows.source_row,
    staged_rows.reason,
    staged_rows.org_id,
    staged_rows.integration_id,
    staged_rows.interaction_key,
    raw_json(raw_rows) as raw
from staged_rows
inner join raw_scope_rows as raw_rows
    on staged_rows.load_id = raw_rows.load_id
    and staged_rows.source_row = raw_rows.source_row
