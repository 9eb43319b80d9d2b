-- materialized: incremental
-- unique_key: integration_sk
-- int_integration_starts
-- grain: one row per integration with an interaction, integration_sk.
-- purpose: the earliest start of the integration's interactions that show
--          where its org's billing history starts (billable, or in a gap
--          of a calendar: not a conflict, not after as-of), which
--          dim_billing_cycles starts each org's cycles from. Kept so that a
--          night reads only the interactions it rewrote, not every stored
--          one. Between incremental builds an interaction's start only moves
--          earlier and it can leave that set only by turning into a conflict
--          (as-of moving back rebuilds in full): the earliest start is the
--          least of the stored one and the rewritten interactions'. An
--          integration where a rewritten interaction is a conflict is
--          recounted from every stored interaction of it instead: a guard,
--          since a late row turning an interaction of earlier loads into a
--          conflict already restarts the build in full
--          (audit_rejected_rows_complete), and this model stays right
--          without relying on that.
--          earliest_start is null where none of them qualifies.
create table if not exists int_integration_starts (
    integration_sk integer not null,
    earliest_start timestamptz
);

with rewritten as (
    select
        integration_sk,
        min(started_at) filter (where reject_reason is null or reject_reason = 'outside_billing_cycles') as earliest_start,
        bool_or(reject_reason = 'conflicting_customer_account') as has_conflict
    from int_interactions_delta
    group by integration_sk
),

-- A full refresh's rewritten interactions are all of them: nothing to
-- recount. Only an incremental build has a previous as-of, and as a literal
-- the test folds away with the scan below (a full refresh's recount,
-- decided from cfg_run, scanned every interaction again: 0.4 s at 10M).
recounted_integrations as (
    select integration_sk
    from rewritten
    where has_conflict
        and {{ previous_as_of }} is not null
),

recounted as (
    select int_interactions.integration_sk, min(int_interactions.started_at) as earliest_start
    from int_interactions
    semi join recounted_integrations
        on int_interactions.integration_sk = recounted_integrations.integration_sk
    where int_interactions.reject_reason is null
        or int_interactions.reject_reason = 'outside_billing_cycles'
    group by int_interactions.integration_sk
)

select
    rewritten.integration_sk,
    case
        when recounted_integrations.integration_sk is not null then recounted.earliest_start
        else least(rewritten.earliest_start, earlier.earliest_start)
    end as earliest_start
from rewritten
left join recounted_integrations on rewritten.integration_sk = recounted_integrations.integration_sk
left join recounted on rewritten.integration_sk = recounted.integration_sk
left join int_integration_starts as earlier on rewritten.integration_sk = earlier.integration_sk
