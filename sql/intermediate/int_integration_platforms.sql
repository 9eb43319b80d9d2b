-- materialized: temp
-- int_integration_platforms
-- grain: one row per (org_id, integration_id, platform) named by the rows,
--        platform null where a row names none.
-- purpose: the platform evidence of every row that names an integration, in
--          one small table, for dim_integrations (which platform bills) and
--          rpt_data_quality (rows that disagree). Rejected rows count as
--          evidence too: platform is a reporting dimension only, and reading
--          just these columns spares this pass the row checks.
select
    org_id,
    integration_id,
    platform,
    count(*) as row_count
from stg_rows
where integration_id is not null
group by org_id, integration_id, platform
