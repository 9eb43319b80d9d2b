-- int_interaction_cycle_spans
-- grain: one row per interaction that passed the account and as-of checks,
--        (org_id, integration_id, interaction_key).
-- purpose: the run of its org's cycles the interaction overlaps, as
--          [first_cycle_seq, last_cycle_seq]. Overlap is
--          start < cycle_end and effective_end >= cycle_start (rules §4).
--          Two as-of joins find the cycles holding the start and the
--          effective end, so the cost grows with interactions, not with
--          interactions x cycles. An empty run (first > last, or no cycle at
--          all) means the interaction falls outside the org's calendar.
with run as (
    select as_of
    from cfg_run
),

candidate_interactions as (
    select
        stg_interactions.org_id,
        stg_interactions.integration_id,
        stg_interactions.interaction_key,
        stg_interactions.customer_account_id,
        stg_interactions.started_at,
        stg_interactions.ended_at,
        least(coalesce(stg_interactions.ended_at, run.as_of), run.as_of) as effective_end
    from stg_interactions
    cross join run
    where not stg_interactions.has_conflicting_accounts
        and stg_interactions.started_at <= run.as_of
),

start_cycle as (
    select
        candidate_interactions.*,
        dim_billing_cycles.cycle_seq as start_cycle_seq,
        dim_billing_cycles.cycle_end as start_cycle_end
    from candidate_interactions
    asof left join dim_billing_cycles
        on candidate_interactions.org_id = dim_billing_cycles.org_id
        and candidate_interactions.started_at >= dim_billing_cycles.cycle_start
),

end_cycle as (
    select
        start_cycle.*,
        dim_billing_cycles.cycle_seq as end_cycle_seq
    from start_cycle
    asof left join dim_billing_cycles
        on start_cycle.org_id = dim_billing_cycles.org_id
        and start_cycle.effective_end >= dim_billing_cycles.cycle_start
)

select
    org_id,
    integration_id,
    interaction_key,
    customer_account_id,
    started_at,
    ended_at,
    effective_end,
    -- a start in a gap (or before the first cycle) begins at the next cycle
    case
        when start_cycle_seq is null then 1
        when started_at < start_cycle_end then start_cycle_seq
        else start_cycle_seq + 1
    end as first_cycle_seq,
    end_cycle_seq as last_cycle_seq
from end_cycle
