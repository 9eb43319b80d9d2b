-- materialized: incremental
-- unique_key: integration_sk, interaction_key
-- delete_by: int_interactions_delta.stored_rowid
-- int_interactions
-- grain: one row per interaction, (integration_sk, interaction_key),
--        merged from every row that passed the row checks, in every build
--        so far. integration_sk stands for (org_id, integration_id)
--        (int_integration_keys); the org is joined back only where the
--        cycles need it.
-- purpose: docs/billing-rules.md §4 and the interaction checks of §5, kept from build to
--          build. Each build rewrites only the interactions it touches:
--          those with newly staged rows (their partial state combined with
--          the stored one) and those whose result depends on as-of (open,
--          ending or starting after the previous as-of), since a later
--          as-of can carry them into further cycles or out of after_as_of.
--          * merge: start is the earliest start or occurrence; open when it
--            has an interaction row and none of its interaction rows has an
--            end; otherwise it ends at its latest activity, never before its
--            latest start;
--          * conflicts: a key carrying two different accounts. Within a
--            build's rows they are compared by 64-bit hashes (two accounts of
--            one interaction id sharing a hash, odds about 1 in 10^19, is the
--            only way one goes unseen); across builds, the stored account
--            against the staged one. Only the verdict is stored: two random
--            hashes per interaction were an eighth of this table's bytes and
--            could not be compressed;
--          * cycles: the run of its org's cycles it overlaps,
--            [first_cycle_seq, last_cycle_seq], where overlap is
--            start < cycle_end and effective_end >= cycle_start. The
--            segments holding the start and the effective end are found by
--            equality joins on (org, UTC day): the cost grows with
--            interactions, not interactions x cycles. The joins are left
--            joins so that an interaction no segment holds surfaces as a
--            null run, caught by audit_interactions_conserved;
--          * reject_reason: conflicting_customer_account, after_as_of or
--            outside_billing_cycles (an empty run, first > last), in the
--            rules' order; null for a billable interaction.
--          The new rows carry stored_rowid, the stored row each replaces
--          (null for a new interaction), which the build deletes by
--          (delete_by): a delete by key joined the night's keys with every
--          stored interaction a second time.
create table if not exists int_interactions (
    integration_sk integer not null,
    interaction_key varchar not null,
    customer_account_id varchar not null,
    has_account_conflict boolean not null,
    row_count bigint not null,
    interaction_rows bigint not null,
    ended_interaction_rows bigint not null,
    started_at timestamptz not null,
    latest_activity timestamptz not null,
    ended_at timestamptz,
    effective_end timestamptz not null,
    first_cycle_seq integer,
    last_cycle_seq integer,
    reject_reason varchar
);

with run as (
    select as_of, previous_as_of
    from cfg_run
),

-- The staged partial state combined with what the interaction had before.
-- A left join from the staged keys: DuckDB probes the stored keys alone and
-- reads the other stored columns only where a key matched. (One full join
-- with the branch below read all ten columns of every stored interaction.)
staged_touched as (
    select
        earlier.rowid as stored_rowid,
        staged.integration_sk,
        staged.interaction_key,
        coalesce(earlier.customer_account_id, staged.customer_account_id) as customer_account_id,
        coalesce(earlier.has_account_conflict, false)
            or coalesce(staged.account_hash_min <> staged.account_hash_max, false)
            or coalesce(earlier.customer_account_id <> staged.customer_account_id, false) as has_account_conflict,
        coalesce(earlier.row_count, 0) + staged.row_count as row_count,
        coalesce(earlier.interaction_rows, 0) + staged.interaction_rows as interaction_rows,
        coalesce(earlier.ended_interaction_rows, 0) + staged.ended_interaction_rows as ended_interaction_rows,
        least(earlier.started_at, staged.started_at) as started_at,
        greatest(earlier.latest_activity, staged.latest_activity) as latest_activity
    from int_scope_interactions as staged
    left join int_interactions as earlier
        on staged.integration_sk = earlier.integration_sk
        and staged.interaction_key = earlier.interaction_key
),

-- The stored interactions without new rows whose cycles or checks a later
-- as-of can change: open, or ended after the previous as-of. (One that
-- started after it has ended after it too, or is open: a stored end is its
-- latest activity, never before its start.) Literal bounds on one column,
-- so the filter is pushed into the scan and its zone maps.
as_of_touched as (
    select
        earlier.rowid as stored_rowid,
        earlier.integration_sk,
        earlier.interaction_key,
        earlier.customer_account_id,
        earlier.has_account_conflict,
        earlier.row_count,
        earlier.interaction_rows,
        earlier.ended_interaction_rows,
        earlier.started_at,
        earlier.latest_activity
    from int_interactions as earlier
    anti join int_scope_interactions as staged
        on earlier.integration_sk = staged.integration_sk
        and earlier.interaction_key = staged.interaction_key
    where {{ as_of }} > {{ previous_as_of }}
        and (earlier.ended_at is null or earlier.ended_at > {{ previous_as_of }})
),

touched as (
    select stored_rowid, integration_sk, interaction_key, customer_account_id, has_account_conflict, row_count,
        interaction_rows, ended_interaction_rows, started_at, latest_activity
    from staged_touched
    union all
    select stored_rowid, integration_sk, interaction_key, customer_account_id, has_account_conflict, row_count,
        interaction_rows, ended_interaction_rows, started_at, latest_activity
    from as_of_touched
),

closed as (
    select
        touched.*,
        case
            when interaction_rows > 0 and ended_interaction_rows = 0 then null
            else latest_activity
        end as ended_at
    from touched
),

bounded as (
    select
        closed.*,
        keys.org_id,
        least(coalesce(closed.ended_at, run.as_of), run.as_of) as effective_end,
        run.as_of
    from closed
    inner join int_integration_keys as keys on closed.integration_sk = keys.integration_sk
    cross join run
),

spanned as (
    select
        bounded.*,
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
)

select
    stored_rowid,
    integration_sk,
    interaction_key,
    customer_account_id,
    has_account_conflict,
    row_count,
    interaction_rows,
    ended_interaction_rows,
    started_at,
    latest_activity,
    ended_at,
    effective_end,
    first_cycle_seq,
    last_cycle_seq,
    case
        when has_account_conflict then 'conflicting_customer_account'
        when started_at > as_of then 'after_as_of'
        when first_cycle_seq > last_cycle_seq then 'outside_billing_cycles'
    end as reject_reason
from spanned
