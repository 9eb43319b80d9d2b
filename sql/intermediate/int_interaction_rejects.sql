-- materialized: temp
-- int_interaction_rejects
-- grain: one row per merged interaction rejected as a whole,
--        (org_id, integration_id, interaction_key).
-- purpose: the interaction checks of rules §5, in the rules' order:
--          conflicting_customer_account, after_as_of, outside_billing_cycles.
--          Every row of such an interaction is rejected with its reason.
select
    org_id,
    integration_id,
    interaction_key,
    case
        when has_conflicting_accounts then 'conflicting_customer_account'
        when not is_candidate then 'after_as_of'
        else 'outside_billing_cycles'
    end as reason
from int_interactions
where not is_candidate
    or first_cycle_seq > last_cycle_seq
