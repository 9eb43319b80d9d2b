-- materialized: incremental
-- unique_key: org_id, cycle_start
-- replaces: int_dirty_cycles
-- fct_conversation_counts
-- grain: one row per org, cycle and integration, (org_id, cycle_start, integration_id).
-- purpose: the number of billable conversations each org owes per cycle and
--          integration — what an invoice line is checked against. Each
--          build recounts the cycles it rewrote in fct_billable_conversations.
create table if not exists fct_conversation_counts (
    org_id varchar not null,
    cycle_id varchar not null,
    cycle_start timestamptz not null,
    cycle_end timestamptz,
    integration_id varchar not null,
    platform varchar not null,
    conversations bigint not null
);

select
    org_id,
    cycle_id,
    cycle_start,
    cycle_end,
    integration_id,
    platform,
    count(*) as conversations
from fct_billable_conversations
semi join int_dirty_cycles
    on fct_billable_conversations.org_id = int_dirty_cycles.org_id
    and fct_billable_conversations.cycle_start = int_dirty_cycles.cycle_start
group by org_id, cycle_id, cycle_start, cycle_end, integration_id, platform
