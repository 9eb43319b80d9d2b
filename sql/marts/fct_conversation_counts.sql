-- materialized: incremental
-- unique_key: org_id, cycle_start
-- replaces: int_dirty_cycles
-- fct_conversation_counts
-- grain: one row per org, cycle and integration, (org_id, cycle_start, integration_id).
-- purpose: the number of billable conversations each org owes per cycle and
--          integration — what an invoice line is checked against. Each
--          build rewrites the cycles of int_dirty_cycles: each count there is
--          the stored one, less the conversations replaced, plus the ones
--          written (in a full refresh, every conversation is written), so
--          the detail mart is never recounted whole.
-- columns:
--   org_id: the organisation ('default' when the input names none)
--   cycle_id: the billing cycle's name (dim_billing_cycles)
--   cycle_start: the cycle's first instant, included
--   cycle_end: the instant after the cycle, excluded
--   integration_id: the messaging integration
--   platform: the platform the integration bills under (dim_integrations)
--   conversations: billable conversations of the integration in the cycle: the rows of fct_billable_conversations
create table if not exists fct_conversation_counts (
    org_id varchar not null,
    cycle_id varchar not null,
    cycle_start timestamptz not null,
    cycle_end timestamptz,
    integration_id varchar not null,
    platform varchar not null,
    conversations bigint not null
);

with stored_counts as (
    select fct_conversation_counts.org_id, fct_conversation_counts.cycle_start,
        fct_conversation_counts.integration_id, fct_conversation_counts.conversations
    from fct_conversation_counts
    semi join int_dirty_cycles
        on fct_conversation_counts.org_id = int_dirty_cycles.org_id
        and fct_conversation_counts.cycle_start = int_dirty_cycles.cycle_start
),

replaced_counts as (
    select org_id, cycle_start, integration_id, -count(*) as conversations
    from int_replaced_conversations
    group by org_id, cycle_start, integration_id
),

-- counted by the stored key, then labelled: a full refresh writes every
-- conversation, and labelling them one by one cost as much as the count
written_counts_by_key as (
    select integration_sk, cycle_seq, count(*) as conversations
    from int_conversations_delta
    group by integration_sk, cycle_seq
),

written_counts as (
    select keys.org_id, cycles.cycle_start, keys.integration_id, written_counts_by_key.conversations
    from written_counts_by_key
    inner join int_integration_keys as keys
        on written_counts_by_key.integration_sk = keys.integration_sk
    left join int_billing_cycles as cycles
        on keys.org_id = cycles.org_id
        and written_counts_by_key.cycle_seq = cycles.cycle_seq
),

adjusted_counts as (
    select org_id, cycle_start, integration_id, sum(conversations) as conversations
    from (
        select org_id, cycle_start, integration_id, conversations from stored_counts
        union all
        select org_id, cycle_start, integration_id, conversations from replaced_counts
        union all
        select org_id, cycle_start, integration_id, conversations from written_counts
    )
    group by org_id, cycle_start, integration_id
    having sum(conversations) > 0
)

select
    adjusted_counts.org_id,
    int_dirty_cycles.cycle_id,
    adjusted_counts.cycle_start,
    int_dirty_cycles.cycle_end,
    adjusted_counts.integration_id,
    dim_integrations.platform,
    adjusted_counts.conversations::bigint as conversations
from adjusted_counts
inner join int_dirty_cycles
    on adjusted_counts.org_id = int_dirty_cycles.org_id
    and adjusted_counts.cycle_start = int_dirty_cycles.cycle_start
left join dim_integrations
    on adjusted_counts.org_id = dim_integrations.org_id
    and adjusted_counts.integration_id = dim_integrations.integration_id
