-- materialized: temp
-- int_interaction_rejects
-- grain: one row per merged interaction rejected as a whole,
--        (org_id, integration_id, interaction_key).
-- purpose: the interaction checks of rules §5, in the rules' order:
--          conflicting_customer_account, after_as_of, outside_billing_cycles.
--          Every row of such an interaction is rejected with its reason.
with run as (
    select as_of
    from cfg_run
)

select
    stg_interactions.org_id,
    stg_interactions.integration_id,
    stg_interactions.interaction_key,
    case
        when stg_interactions.has_conflicting_accounts then 'conflicting_customer_account'
        else 'after_as_of'
    end as reason
from stg_interactions
cross join run
where stg_interactions.has_conflicting_accounts
    or stg_interactions.started_at > run.as_of
union all
select
    org_id,
    integration_id,
    interaction_key,
    'outside_billing_cycles' as reason
from int_interaction_cycle_spans
where first_cycle_seq > last_cycle_seq
