-- materialized: incremental
-- unique_key: org_id, integration_id, customer_account_id
-- replaces: int_dirty_accounts
-- fct_billable_conversations
-- grain: one row per billable conversation,
--        (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: rules §1 — the distinct (org, cycle, integration, account) tuples
--          with at least one interaction overlapping the cycle.
--          first_activity_at / last_activity_at are the earliest start and
--          latest effective end of the interactions behind it, not clipped to
--          the cycle. An incremental build replaces every conversation of
--          the accounts in int_dirty_accounts and leaves the others as they
--          are. The dimensions are left-joined so that they, not the millions
--          of conversations, form the hash tables; every (org, cycle_seq) and
--          (org, integration) exists in them.
-- columns:
--   org_id: the organisation ('default' when the input names none)
--   cycle_id: the billing cycle's name (dim_billing_cycles)
--   cycle_start: the cycle's first instant, included
--   cycle_end: the instant after the cycle, excluded
--   integration_id: the messaging integration
--   platform: the platform the integration bills under (dim_integrations)
--   customer_account_id: the end-customer account (phone number, user id), trimmed
--   interaction_count: interactions of the account on the integration that overlap the cycle
--   first_activity_at: the earliest start of those interactions, not clipped to the cycle
--   last_activity_at: the latest effective end of those interactions (as-of for one still open), not clipped
create table if not exists fct_billable_conversations (
    org_id varchar not null,
    cycle_id varchar not null,
    cycle_start timestamptz not null,
    cycle_end timestamptz,
    integration_id varchar not null,
    platform varchar not null,
    customer_account_id varchar not null,
    interaction_count bigint not null,
    first_activity_at timestamptz not null,
    last_activity_at timestamptz not null
);

with conversation_activity as (
    select
        org_id,
        cycle_seq,
        integration_id,
        customer_account_id,
        count(*) as interaction_count,
        min(started_at) as first_activity_at,
        max(effective_end) as last_activity_at
    from int_interaction_cycles
    group by org_id, cycle_seq, integration_id, customer_account_id
)

select
    conversation_activity.org_id,
    int_billing_cycles.cycle_id,
    int_billing_cycles.cycle_start,
    int_billing_cycles.cycle_end,
    conversation_activity.integration_id,
    dim_integrations.platform,
    conversation_activity.customer_account_id,
    conversation_activity.interaction_count,
    conversation_activity.first_activity_at,
    conversation_activity.last_activity_at
from conversation_activity
left join int_billing_cycles
    on conversation_activity.org_id = int_billing_cycles.org_id
    and conversation_activity.cycle_seq = int_billing_cycles.cycle_seq
left join dim_integrations
    on conversation_activity.org_id = dim_integrations.org_id
    and conversation_activity.integration_id = dim_integrations.integration_id
