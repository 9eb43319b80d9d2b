-- materialized: incremental
-- unique_key: org_id
-- int_org_activity_spans
-- grain: one row per org with a dated row, (org_id).
-- purpose: a lower bound for where each org's billable history starts: the
--          earliest parseable activity among all its rows, billable or not,
--          in every build so far. Cycles are generated from the one holding
--          it (when it is not after as-of), and the timeline is bucketed by
--          day from it; dim_billing_cycles then drops the cycles before the
--          org's first billable interaction. Bounding from rows rather than
--          merged interactions lets the merge find each interaction's
--          cycles in the same pass (int_interactions). Only plausible
--          instants count (from valid_from on): a row dated 0001-01-01 is
--          rejected anyway, and must not make the build generate cycles
--          over two thousand years (docs/billing-rules.md §4).
create table if not exists int_org_activity_spans (
    org_id varchar not null,
    earliest_start timestamptz not null
);

with plausible_since as (
    select valid_from from cfg_run
),

staged_spans as (
    select
        stg_rows.org_id,
        min(stg_rows.activity_start) as earliest_start
    from stg_rows
    cross join plausible_since
    where stg_rows.activity_start >= plausible_since.valid_from
    group by stg_rows.org_id
)

select
    staged_spans.org_id,
    least(staged_spans.earliest_start, earlier.earliest_start) as earliest_start
from staged_spans
left join int_org_activity_spans as earlier on staged_spans.org_id = earlier.org_id
