-- int_interaction_rejects
-- grain: one row per merged interaction rejected as a whole,
--        (org_id, integration_id, interaction_key).
-- purpose: the interaction checks of rules §5, in the rules' order:
--          conflicting_customer_account, after_as_of, outside_billing_cycles.
--          Every row of such an interaction is rejected with its reason.
with run as (
    select as_of
    from cfg_run
),

empty_spans as (
    select org_id, integration_id, interaction_key
    from int_interaction_cycle_spans
    where last_cycle_seq is null
        or first_cycle_seq > last_cycle_seq
)

select
    stg_interactions.org_id,
    stg_interactions.integration_id,
    stg_interactions.interaction_key,
    case
        when stg_interactions.has_conflicting_accounts then 'conflicting_customer_account'
        when stg_interactions.started_at > run.as_of then 'after_as_of'
        else 'outside_billing_cycles'
    end as reason
from stg_interactions
cross join run
left join empty_spans
    on stg_interactions.org_id = empty_spans.org_id
    and stg_interactions.integration_id = empty_spans.integration_id
    and stg_interactions.interaction_key = empty_spans.interaction_key
where stg_interactions.has_conflicting_accounts
    or stg_interactions.started_at > run.as_of
    or empty_spans.interaction_key is not null
