-- materialized: incremental
-- unique_key: org_id, integration_id
-- int_integration_keys
-- grain: one row per (org_id, integration_id) any build has staged a row
--        for.
-- purpose: a small integer standing for the pair, so that the two largest
--          tables (int_interactions, int_conversations) store and group by
--          one integer instead of two strings: writing the two text columns
--          was a quarter of each table's write, spent on compressing values
--          that repeat on every row. A pair keeps its integer from build to
--          build; a full refresh numbers them afresh, as it rewrites every
--          table that holds them. Readers join back to the pair after
--          aggregating, where there are few rows left.
create table if not exists int_integration_keys (
    org_id varchar not null,
    integration_id varchar not null,
    integration_sk integer not null
);

with staged_integrations as (
    select distinct org_id, integration_id
    from int_integration_platforms_delta
),

new_integrations as (
    select staged_integrations.org_id, staged_integrations.integration_id
    from staged_integrations
    anti join int_integration_keys as known
        on staged_integrations.org_id = known.org_id
        and staged_integrations.integration_id = known.integration_id
),

numbered_so_far as (
    select coalesce(max(integration_sk), 0) as last_sk
    from int_integration_keys
)

select
    new_integrations.org_id,
    new_integrations.integration_id,
    (numbered_so_far.last_sk
        + row_number() over (order by new_integrations.org_id, new_integrations.integration_id))::integer as integration_sk
from new_integrations
cross join numbered_so_far
