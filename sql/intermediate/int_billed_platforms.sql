-- materialized: incremental
-- unique_key: org_id, integration_id
-- int_billed_platforms
-- grain: one row per integration any build has written, (org_id, integration_id).
-- purpose: the platform each integration's facts were last written under,
--          so that a build can tell which integrations it repriced. The
--          stored conversations do not carry their platform
--          (fct_billable_conversations takes it from dim_integrations), so a
--          platform change recounts nothing: it only makes dirty the cycles
--          holding the integration's conversations (int_dirty_cycles), whose
--          counts and exports are then written again under the new platform.
--          A build writes the integrations that are new or whose platform
--          changed, with the platform they had before (null when new).
create table if not exists int_billed_platforms (
    org_id varchar not null,
    integration_id varchar not null,
    platform varchar not null,
    previous_platform varchar
);

select
    dim_integrations.org_id,
    dim_integrations.integration_id,
    dim_integrations.platform,
    billed.platform as previous_platform
from dim_integrations
left join int_billed_platforms as billed
    on dim_integrations.org_id = billed.org_id
    and dim_integrations.integration_id = billed.integration_id
where dim_integrations.platform is distinct from billed.platform
