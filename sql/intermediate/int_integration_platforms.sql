-- materialized: incremental
-- unique_key: org_id, integration_id, platform
-- int_integration_platforms
-- grain: one row per (org_id, integration_id, platform) named by the rows,
--        platform null where a row names none.
-- purpose: the platform evidence of every row that names an integration, in
--          one small table, for dim_integrations (which platform bills) and
--          rpt_data_quality (rows that disagree). Rejected rows count as
--          evidence too: platform is a reporting dimension only, and reading
--          just these columns spares this pass the row checks. Staged
--          counts add to the stored ones.
create table if not exists int_integration_platforms (
    org_id varchar not null,
    integration_id varchar not null,
    platform varchar,
    row_count bigint not null
);

with staged_counts as (
    select
        org_id,
        integration_id,
        platform,
        count(*) as row_count
    from stg_rows
    where integration_id is not null
    group by org_id, integration_id, platform
)

select
    staged_counts.org_id,
    staged_counts.integration_id,
    staged_counts.platform,
    staged_counts.row_count + coalesce(earlier.row_count, 0) as row_count
from staged_counts
left join int_integration_platforms as earlier
    on staged_counts.org_id = earlier.org_id
    and staged_counts.integration_id = earlier.integration_id
    and staged_counts.platform is not distinct from earlier.platform
