-- materialized: temp
-- full_refresh: empty
-- int_touched_interactions
-- grain: one row per interaction this build rewrote,
--        (org_id, integration_id, interaction_key).
-- purpose: int_interactions_delta keyed by the integration's own ids, which
--          the reject rows store, so that int_interaction_reject_rows can
--          replace the rows of exactly the interactions this build touched.
--          Empty in a full refresh (full_refresh: empty), which replaces
--          nothing: every table starts empty.
select keys.org_id, keys.integration_id, touched.interaction_key
from int_interactions_delta as touched
inner join int_integration_keys as keys on touched.integration_sk = keys.integration_sk
