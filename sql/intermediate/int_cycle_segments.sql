-- materialized: temp
-- int_cycle_segments
-- grain: one row per org, UTC day and timeline segment overlapping that day,
--        (org_id, utc_day, segment_start).
-- purpose: each org's timeline cut into segments — its cycles and the gaps
--          before, between and after them — so that the cycles an interaction
--          overlaps can be found with two equality joins on (org, day) instead
--          of comparing every interaction with every cycle. A segment says
--          which cycle an interaction starting in it counts from
--          (first_cycle_seq) and which it counts up to when it ends in it
--          (last_cycle_seq); in a gap these cross (first = last + 1).
--          Days run from the org's earliest activity to as-of.
with run as (
    select as_of
    from cfg_run
),

org_spans as (
    select int_org_activity_spans.org_id, int_org_activity_spans.earliest_start as span_start
    from int_org_activity_spans
    cross join run
    where int_org_activity_spans.earliest_start <= run.as_of
),

cycles as (
    select
        org_id,
        cycle_seq,
        cycle_start,
        cycle_end,
        lead(cycle_start) over (partition by org_id order by cycle_start) as next_cycle_start
    from int_billing_cycles
),

segments as (
    select org_id, cycle_start as segment_start, cycle_end as segment_end,
        cycle_seq as first_cycle_seq, cycle_seq as last_cycle_seq
    from cycles
    union all
    -- the gap after a cycle, up to the next one or for ever
    select org_id, cycle_end, coalesce(next_cycle_start, 'infinity'::timestamptz),
        cycle_seq + 1, cycle_seq
    from cycles
    where next_cycle_start is null or next_cycle_start > cycle_end
    union all
    -- before the first cycle (an org with no cycle at all is one such gap)
    select org_spans.org_id, '-infinity'::timestamptz, coalesce(min(cycles.cycle_start), 'infinity'::timestamptz),
        coalesce(min(cycles.cycle_seq), 1), coalesce(min(cycles.cycle_seq), 1) - 1
    from org_spans
    left join cycles on org_spans.org_id = cycles.org_id
    group by org_spans.org_id
),

clipped_segments as (
    select
        segments.org_id,
        segments.segment_start,
        segments.segment_end,
        segments.first_cycle_seq,
        segments.last_cycle_seq,
        greatest(segments.segment_start, org_spans.span_start) as clip_start,
        least(segments.segment_end, run.as_of) as clip_end
    from segments
    inner join org_spans on segments.org_id = org_spans.org_id
    cross join run
    where segments.segment_start <= run.as_of
        and segments.segment_end > org_spans.span_start
)

select
    org_id,
    unnest(range(utc_day(clip_start), utc_day(clip_end) + 1)) as utc_day,
    segment_start,
    segment_end,
    first_cycle_seq,
    last_cycle_seq
from clipped_segments
