-- materialized: temp
-- full_refresh: empty
-- int_dirty_accounts
-- grain: one row per (integration_sk, customer_account_id) whose
--        conversations this build rewrites.
-- purpose: what an incremental build must recount: every account of an
--          interaction the build touched (new rows, or an as-of that moved
--          its effective end). All the conversations of such an account are
--          recomputed, in every cycle; no other conversation changes. A
--          platform change recounts nothing: the stored conversations do not
--          carry it (int_billed_platforms). Empty in a full refresh
--          (full_refresh: empty), which recomputes everything.
select distinct integration_sk, customer_account_id
from int_interactions_delta
