-- materialized: view
-- fct_billable_conversations
-- grain: one row per billable conversation,
--        (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: docs/billing-rules.md §1 — the stored conversations (int_conversations) with
--          their org and integration (int_integration_keys), their cycle's
--          labels and their integration's platform. A view:
--          the labels follow from (org_id, cycle_seq) and
--          (org_id, integration_id); dim_billing_cycles holds every cycle a
--          billable interaction overlaps and dim_integrations every
--          integration. They are left-joined so that they, not the millions
--          of conversations, form the hash tables; on keys that are unique
--          (audit_grain_dimensions), so the view has exactly the rows of
--          int_conversations.
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
select
    keys.org_id,
    dim_billing_cycles.cycle_id,
    dim_billing_cycles.cycle_start,
    dim_billing_cycles.cycle_end,
    keys.integration_id,
    dim_integrations.platform,
    int_conversations.customer_account_id,
    int_conversations.interaction_count,
    int_conversations.first_activity_at,
    int_conversations.last_activity_at
from int_conversations
left join int_integration_keys as keys
    on int_conversations.integration_sk = keys.integration_sk
left join dim_billing_cycles
    on keys.org_id = dim_billing_cycles.org_id
    and int_conversations.cycle_seq = dim_billing_cycles.cycle_seq
left join dim_integrations
    on keys.org_id = dim_integrations.org_id
    and keys.integration_id = dim_integrations.integration_id
