-- materialized: temp
-- int_interactions
-- grain: one row per interaction, (org_id, integration_id, interaction_key),
--        merged from the rows that passed the row checks.
-- purpose: rules §4 in one pass over the rows —
--          * merge: start is the earliest start or occurrence; the interaction
--            is open when it has an interaction row and none of its
--            interaction rows has an end; otherwise it ends at its latest
--            activity, never before its latest start;
--          * conflicts: a key carrying two different accounts, compared by
--            64-bit hashes (min/max over the strings cost more than the rest
--            of the merge; two different accounts of one interaction id
--            sharing a hash, odds about 1 in 10^19, is the only way a
--            conflict could go unseen);
--          * cycles: the run of its org's cycles it overlaps,
--            [first_cycle_seq, last_cycle_seq], where overlap is
--            start < cycle_end and effective_end >= cycle_start with
--            effective_end = least(coalesce(end, as_of), as_of). The segments
--            holding the start and the effective end are found by equality
--            joins on (org, UTC day), so the cost grows with interactions,
--            not interactions x cycles. An empty run (first > last) means the
--            interaction falls outside the calendar. The joins are left joins
--            so that the segments (thousands of rows) form the hash tables,
--            and so that an interaction no segment holds surfaces as a null
--            run, caught by audit_interactions_conserved, instead of
--            vanishing.
with run as (
    select as_of
    from cfg_run
),

accepted_rows as (
    select
        org_id,
        integration_id,
        interaction_key,
        customer_account_id,
        row_kind,
        activity_start,
        activity_end
    from stg_rows
    where row_reject_reason is null
),

merged as (
    select
        org_id,
        integration_id,
        interaction_key,
        any_value(customer_account_id) as customer_account_id,
        min(hash(customer_account_id)) <> max(hash(customer_account_id)) as has_conflicting_accounts,
        count(*) as row_count,
        min(activity_start) as started_at,
        case
            when count_if(row_kind = 'interaction') > 0
                and count_if(row_kind = 'interaction' and activity_end is not null) = 0
                then null
            else greatest(max(activity_end), max(activity_start))
        end as ended_at
    from accepted_rows
    group by org_id, integration_id, interaction_key
),

bounded as (
    select
        merged.*,
        least(coalesce(merged.ended_at, run.as_of), run.as_of) as effective_end,
        not merged.has_conflicting_accounts and merged.started_at <= run.as_of as is_candidate
    from merged
    cross join run
)

select
    bounded.org_id,
    bounded.integration_id,
    bounded.interaction_key,
    bounded.customer_account_id,
    bounded.has_conflicting_accounts,
    bounded.row_count,
    bounded.started_at,
    bounded.ended_at,
    bounded.effective_end,
    bounded.is_candidate,
    start_segment.first_cycle_seq,
    end_segment.last_cycle_seq
from bounded
left join int_cycle_segments as start_segment
    on bounded.org_id = start_segment.org_id
    and utc_day(bounded.started_at) = start_segment.utc_day
    and bounded.started_at >= start_segment.segment_start
    and bounded.started_at < start_segment.segment_end
left join int_cycle_segments as end_segment
    on bounded.org_id = end_segment.org_id
    and utc_day(bounded.effective_end) = end_segment.utc_day
    and bounded.effective_end >= end_segment.segment_start
    and bounded.effective_end < end_segment.segment_end
