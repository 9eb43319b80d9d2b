-- materialized: temp
-- int_interaction_cycle_spans
-- grain: one row per interaction that passed the account and as-of checks,
--        (org_id, integration_id, interaction_key).
-- purpose: the run of its org's cycles the interaction overlaps, as
--          [first_cycle_seq, last_cycle_seq]: overlap is
--          start < cycle_end and effective_end >= cycle_start (rules §4), with
--          effective_end = least(coalesce(end, as_of), as_of). The segment
--          holding the start and the one holding the effective end are found
--          by equality joins on (org, UTC day), so the cost grows with
--          interactions, not with interactions x cycles. An empty run
--          (first > last) means the interaction falls outside the calendar.
--          The joins are left joins on purpose: the segments then form the
--          hash tables (a few thousand rows, not millions), and an
--          interaction no segment holds would surface as a null run, caught
--          by audit_interactions_conserved, instead of vanishing.
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
        least(coalesce(stg_interactions.ended_at, run.as_of), run.as_of) as effective_end
    from stg_interactions
    cross join run
    where not stg_interactions.has_conflicting_accounts
        and stg_interactions.started_at <= run.as_of
)

select
    candidate_interactions.org_id,
    candidate_interactions.integration_id,
    candidate_interactions.interaction_key,
    candidate_interactions.customer_account_id,
    candidate_interactions.started_at,
    candidate_interactions.effective_end,
    start_segment.first_cycle_seq,
    end_segment.last_cycle_seq
from candidate_interactions
left join int_cycle_segments as start_segment
    on candidate_interactions.org_id = start_segment.org_id
    and utc_day(candidate_interactions.started_at) = start_segment.utc_day
    and candidate_interactions.started_at >= start_segment.segment_start
    and candidate_interactions.started_at < start_segment.segment_end
left join int_cycle_segments as end_segment
    on candidate_interactions.org_id = end_segment.org_id
    and utc_day(candidate_interactions.effective_end) = end_segment.utc_day
    and candidate_interactions.effective_end >= end_segment.segment_start
    and candidate_interactions.effective_end < end_segment.segment_end
