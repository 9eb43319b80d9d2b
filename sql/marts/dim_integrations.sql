-- dim_integrations
-- grain: one row per integration seen in the input, (org_id, integration_id).
-- purpose: the platform each integration bills under. The integrations
--          reference wins (an org-specific line before an org-less one), then
--          what the rows say (the first in alphabetical order when they
--          disagree), then 'unknown'. Every row naming an integration is
--          evidence (see int_integration_platforms). Platform never merges or
--          splits conversations.
-- columns:
--   org_id: the organisation ('default' when the input names none)
--   integration_id: the messaging integration (a number, sender or page) as the input names it
--   platform: the platform it bills under, lower case; 'unknown' when neither the reference nor the rows say
--   integration_name: its name in the integrations reference, when the reference gives one
--   platform_source: where platform comes from: 'reference', 'input' (the rows) or 'unknown'
with observed as (
    select
        org_id,
        integration_id,
        min(platform) as observed_platform
    from int_integration_platforms
    group by org_id, integration_id
),

reference_for_org as (
    select org_id, integration_id, platform, name
    from cfg_integrations
    where org_id is not null
),

reference_for_any_org as (
    select integration_id, platform, name
    from cfg_integrations
    where org_id is null
)

select
    observed.org_id,
    observed.integration_id,
    coalesce(reference_for_org.platform, reference_for_any_org.platform, observed.observed_platform, 'unknown') as platform,
    coalesce(reference_for_org.name, reference_for_any_org.name) as integration_name,
    case
        when reference_for_org.platform is not null or reference_for_any_org.platform is not null then 'reference'
        when observed.observed_platform is not null then 'input'
        else 'unknown'
    end as platform_source
from observed
left join reference_for_org
    on observed.org_id = reference_for_org.org_id
    and observed.integration_id = reference_for_org.integration_id
left join reference_for_any_org
    on observed.integration_id = reference_for_any_org.integration_id
