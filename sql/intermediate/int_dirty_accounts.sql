-- materialized: temp
-- full_refresh: empty
-- reads_previous: int_conversations
-- int_dirty_accounts
-- grain: one row per (org_id, integration_id, customer_account_id) whose
--        conversations this build rewrites.
-- purpose: what an incremental build must recount: every account of an
--          interaction the build touched (new rows, or an as-of that moved
--          its effective end), and every account of an integration whose
--          platform changed. All the conversations of such an account are
--          recomputed, in every cycle; no other conversation changes. Empty
--          in a full refresh (full_refresh: empty), which recomputes
--          everything.
with touched_accounts as (
    select org_id, integration_id, customer_account_id
    from int_interactions_delta
),

repriced_accounts as (
    select billed.org_id, billed.integration_id, billed.customer_account_id
    from int_conversations as billed
    inner join dim_integrations
        on billed.org_id = dim_integrations.org_id
        and billed.integration_id = dim_integrations.integration_id
    where billed.platform <> dim_integrations.platform
)

select org_id, integration_id, customer_account_id from touched_accounts
union
select org_id, integration_id, customer_account_id from repriced_accounts
