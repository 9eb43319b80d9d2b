-- materialized: view
-- int_interaction_cycles
-- grain: one row per billable interaction and cycle it overlaps,
--        (integration_sk, interaction_key, cycle_seq), for the
--        accounts this build recounts.
-- purpose: docs/billing-rules.md §4 — an interaction counts once in every cycle it touches.
--          A full refresh takes every billable interaction; an incremental
--          build only those of int_dirty_accounts. Most interactions touch
--          one cycle; only the others go through unnest, which costs more
--          per row than the rest of this model. Cycle labels are joined
--          after aggregation, in the marts.
with run as (
    select full_refresh
    from cfg_run
),

every_billable_span as (
    select integration_sk, customer_account_id, started_at, effective_end, first_cycle_seq, last_cycle_seq
    from int_interactions
    where reject_reason is null
        and (select full_refresh from run)
),

recounted_spans as (
    select integration_sk, customer_account_id, started_at, effective_end, first_cycle_seq, last_cycle_seq
    from int_interactions
    semi join int_dirty_accounts
        on int_interactions.integration_sk = int_dirty_accounts.integration_sk
        and int_interactions.customer_account_id = int_dirty_accounts.customer_account_id
    where int_interactions.reject_reason is null
        and not (select full_refresh from run)
),

billable_spans as (
    select * from every_billable_span
    union all
    select * from recounted_spans
)

select integration_sk, customer_account_id, started_at, effective_end,
    first_cycle_seq as cycle_seq
from billable_spans
where first_cycle_seq = last_cycle_seq
union all
select integration_sk, customer_account_id, started_at, effective_end,
    unnest(range(first_cycle_seq, last_cycle_seq + 1)) as cycle_seq
from billable_spans
where first_cycle_seq < last_cycle_seq
