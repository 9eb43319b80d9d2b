-- materialized: incremental
-- unique_key: integration_sk, customer_account_id
-- replaces: int_dirty_accounts
-- delete_by: int_replaced_conversations.stored_rowid
-- int_conversations
-- grain: one row per billable conversation,
--        (integration_sk, cycle_seq, customer_account_id), where
--        integration_sk stands for (org_id, integration_id)
--        (int_integration_keys).
-- purpose: docs/billing-rules.md §1 — the distinct (org, cycle, integration, account) tuples
--          with at least one interaction overlapping the cycle, as stored
--          from build to build. fct_billable_conversations labels them with
--          their cycle: the cycle's id, start and end follow from
--          (org_id, cycle_seq), and writing them into every row cost a fifth
--          of the build's largest write. The platform is left out too: it
--          follows from (org_id, integration_id), and a platform change then
--          rewrites no conversation, only the labels of the cycles holding
--          the integration's conversations (int_billed_platforms,
--          int_dirty_cycles).
--          first_activity_at / last_activity_at are the earliest start and
--          latest effective end of the interactions behind it, not clipped to
--          the cycle. An incremental build replaces every conversation of
--          the accounts in int_dirty_accounts and leaves the others as they
--          are.
create table if not exists int_conversations (
    integration_sk integer not null,
    cycle_seq integer not null,
    customer_account_id varchar not null,
    interaction_count bigint not null,
    first_activity_at timestamptz not null,
    last_activity_at timestamptz not null
);

select
    integration_sk,
    cycle_seq,
    customer_account_id,
    count(*) as interaction_count,
    min(started_at) as first_activity_at,
    max(effective_end) as last_activity_at
from int_interaction_cycles
group by integration_sk, cycle_seq, customer_account_id
