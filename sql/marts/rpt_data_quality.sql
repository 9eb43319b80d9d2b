-- rpt_data_quality
-- grain: one row per check, (check_name).
-- purpose: the run's data-quality summary for what is not a reject (docs/billing-rules.md §5):
--          rows whose platform differs from the one their integration bills
--          under, integrations billed as 'unknown', rows
--          superseded by a newer version of their file, and, once a price
--          book is given, conversations it has no price for.
-- columns:
--   check_name: platform_conflict_rows, unknown_platform_integrations, superseded_rows or conversations_without_price
--   affected_count: the rows, integrations or conversations the check found; 0 when there is nothing to look at
--   description: what the check counts, in words
with platform_conflicts as (
    select coalesce(sum(int_integration_platforms.row_count), 0) as affected
    from int_integration_platforms
    inner join dim_integrations
        on int_integration_platforms.org_id = dim_integrations.org_id
        and int_integration_platforms.integration_id = dim_integrations.integration_id
    where int_integration_platforms.platform <> dim_integrations.platform
),

unknown_platforms as (
    select count(*) as affected
    from dim_integrations
    where platform = 'unknown'
),

unpriced_conversations as (
    select coalesce(sum(conversations), 0) as affected
    from fct_conversation_charges
    where price_status = 'no_price'
        and exists (select 1 from cfg_prices)
),

superseded_rows as (
    select coalesce(sum(rows_read), 0) as affected
    from raw_files
    where superseded_by is not null
)

select 'platform_conflict_rows' as check_name, affected::bigint as affected_count,
    'rows whose platform differs from the one their integration bills under' as description
from platform_conflicts
union all
select 'unknown_platform_integrations', affected::bigint,
    'integrations with no platform in the reference or the rows'
from unknown_platforms
union all
select 'superseded_rows', affected::bigint,
    'rows of file versions replaced by a newer version at the same path'
from superseded_rows
union all
select 'conversations_without_price', affected::bigint,
    'conversations the price book has no price for (fct_conversation_charges, price_status no_price)'
from unpriced_conversations
