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
--          earlier, and it cannot leave that set: as-of moving back rebuilds
--          in full, and so does a late row turning an interaction of earlier
--          loads into a conflict (audit_rejected_rows_complete restarts the
--          build). The earliest start is therefore the least of the stored
--          one and the rewritten interactions'; a full refresh rewrites them
--          all. earliest_start is null where none of them qualifies.
create table if not exists int_integration_starts (
    integration_sk integer not null,
    earliest_start timestamptz
);

with rewritten as (
    select
        integration_sk,
        min(started_at) filter (where reject_reason is null or reject_reason = 'outside_billing_cycles') as earliest_start
    from int_interactions_delta
    group by integration_sk
)

select
    rewritten.integration_sk,
    least(rewritten.earliest_start, earlier.earliest_start) as earliest_start
from rewritten
left join int_integration_starts as earlier on rewritten.integration_sk = earlier.integration_sk
