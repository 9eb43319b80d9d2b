-- rpt_reconciliation_alternatives
-- grain: one row per invoice line whose quantity differs beyond the
--        tolerance and per usual cause of such a difference,
--        (source_row, cause).
-- purpose: the count each usual mistake would have produced, next to the
--          invoiced one; a cause explains the line when its count is
--          within the tolerance of the invoice.
--          * utc_cycle_boundaries: the org's cycles cut at the same wall
--            clock in UTC instead of its timezone;
--          * inclusive_cycle_end: an interaction starting exactly at the
--            cycle's end counted in it too;
--          * late_data: the count as the builds before the invoice date
--            published it (without an invoice date: the latest earlier
--            build whose count was the invoiced one, if any);
--          * rejected_conflicting_customer_account, rejected_after_as_of:
--            the interactions we rejected for that reason counted;
--          * rejected_ended_before_started, rejected_invalid_timestamp:
--            the input rows we rejected for that reason counted where their
--            start can be read (an unreadable end), as the vendor might;
--          * interactions_counted, duplicate_rows_counted: every merged
--            interaction, or every input row, billed as a conversation.
--          Counts are recomputed from int_interactions with the rules'
--          overlap test; the line's own window gives back our count.
-- columns:
--   source_row: the invoice line's number in its file (rpt_invoice_reconciliation)
--   invoice_id: the invoice the line belongs to
--   org_id: the organisation invoiced
--   cycle_id: the cycle invoiced
--   cause_order: the order the causes are tried in, 1 (late_data) to 9 (duplicate_rows_counted)
--   cause: the usual mistake recounted (see purpose)
--   invoiced_conversations: the line's quantity
--   computed_conversations: our conversations at the line's grain
--   recomputed_conversations: the count under this cause; null when late_data finds no such build
--   explains: recomputed_conversations is within the tolerance of the invoiced quantity
--   detail: for late_data, the build whose published count is meant
with tolerance as (
    select absolute_tolerance, relative_tolerance
    from cfg_reconcile
),

mismatched_lines as (
    select
        comparison.source_row, comparison.invoice_id, comparison.org_id, comparison.cycle_id,
        comparison.cycle_start, billing_cycles.cycle_end, billing_cycles.timezone,
        comparison.platform, comparison.integration_id,
        comparison.invoiced_conversations, comparison.computed_conversations, comparison.invoice_date
    from int_invoice_comparison as comparison
    inner join dim_billing_cycles as billing_cycles
        on comparison.org_id = billing_cycles.org_id
        and comparison.cycle_start = billing_cycles.cycle_start
    where comparison.source_row is not null
        and not comparison.quantity_within
),

alternative_windows as (
    select source_row, org_id, platform, integration_id, 'as_computed' as cause,
        cycle_start as window_start, cycle_end as window_end, false as inclusive_end, null::varchar as also_rejected
    from mismatched_lines
    union all
    select source_row, org_id, platform, integration_id, 'utc_cycle_boundaries',
        timezone('UTC', timezone(timezone, cycle_start)), timezone('UTC', timezone(timezone, cycle_end)), false, null
    from mismatched_lines
    where timezone <> 'UTC'
    union all
    select source_row, org_id, platform, integration_id, 'inclusive_cycle_end', cycle_start, cycle_end, true, null
    from mismatched_lines
    union all
    select source_row, org_id, platform, integration_id, 'rejected_' || reason, cycle_start, cycle_end, false, reason
    from mismatched_lines
    cross join (values ('conflicting_customer_account'), ('after_as_of'), ('ended_before_started'), ('invalid_timestamp')) as reasons (reason)
),

-- rows rejected one by one never became interactions: read them back from their raw values
rejected_rows as (
    select
        alternative_windows.source_row,
        alternative_windows.cause,
        rejects.integration_id,
        clean_text(rejects.raw ->> 'customer_account_id') as customer_account_id,
        1 as row_count
    from alternative_windows
    inner join rejected_interactions as rejects
        on alternative_windows.also_rejected = rejects.reason
        and rejects.reason in ('ended_before_started', 'invalid_timestamp')
        and alternative_windows.org_id = rejects.org_id
    inner join cfg_loads on rejects.load_id = cfg_loads.load_id
    left join dim_integrations
        on rejects.org_id = dim_integrations.org_id
        and rejects.integration_id = dim_integrations.integration_id
    where in_line_scope(alternative_windows.platform, alternative_windows.integration_id, dim_integrations.platform, rejects.integration_id)
        and clean_text(rejects.raw ->> 'customer_account_id') is not null
        and parse_instant(clean_text(coalesce(rejects.raw ->> 'started_at', rejects.raw ->> 'occurred_at')), cfg_loads.source_timezone, cfg_loads.epoch_unit)
            >= alternative_windows.window_start
        and (alternative_windows.window_end is null
            or parse_instant(clean_text(coalesce(rejects.raw ->> 'started_at', rejects.raw ->> 'occurred_at')), cfg_loads.source_timezone, cfg_loads.epoch_unit)
                < alternative_windows.window_end)
),

window_interactions as (
    select
        alternative_windows.source_row,
        alternative_windows.cause,
        keys.integration_id,
        interactions.customer_account_id,
        interactions.row_count
    from alternative_windows
    inner join int_integration_keys as keys
        on alternative_windows.org_id = keys.org_id
    inner join int_interactions as interactions
        on keys.integration_sk = interactions.integration_sk
        and (interactions.reject_reason is null or interactions.reject_reason = alternative_windows.also_rejected)
    left join dim_integrations
        on keys.org_id = dim_integrations.org_id
        and keys.integration_id = dim_integrations.integration_id
    where in_line_scope(alternative_windows.platform, alternative_windows.integration_id, dim_integrations.platform, keys.integration_id)
        and (alternative_windows.window_end is null
            or interactions.started_at < alternative_windows.window_end
            or (alternative_windows.inclusive_end and interactions.started_at = alternative_windows.window_end))
        -- an interaction after as-of has no effective end: its own end, or its start, stands in
        and case when interactions.reject_reason = 'after_as_of'
                then coalesce(interactions.ended_at, interactions.started_at)
                else interactions.effective_end
            end >= alternative_windows.window_start
    union all
    select source_row, cause, integration_id, customer_account_id, row_count
    from rejected_rows
),

window_counts as (
    select
        alternative_windows.source_row,
        alternative_windows.cause,
        count(distinct (window_interactions.integration_id, window_interactions.customer_account_id)) as conversations,
        count(window_interactions.customer_account_id) as interactions,
        coalesce(sum(window_interactions.row_count), 0)::bigint as input_rows
    from alternative_windows
    left join window_interactions
        on alternative_windows.source_row = window_interactions.source_row
        and alternative_windows.cause = window_interactions.cause
    group by alternative_windows.source_row, alternative_windows.cause
),

-- the line's count after each build, from the count changes of its scope
line_history as (
    select
        mismatched_lines.source_row,
        changes.run_id,
        (sum(sum(changes.conversations_after - changes.conversations_before)) over (
            partition by mismatched_lines.source_row order by changes.run_id
        ))::bigint as conversations
    from mismatched_lines
    inner join convbill_count_changes as changes
        on mismatched_lines.org_id = changes.org_id
        and mismatched_lines.cycle_start = changes.cycle_start
        and in_line_scope(mismatched_lines.platform, mismatched_lines.integration_id, changes.platform, changes.integration_id)
    group by mismatched_lines.source_row, changes.run_id
),

late_counts as (
    select
        mismatched_lines.source_row,
        case
            when mismatched_lines.invoice_date is not null then coalesce((
                select arg_max(line_history.conversations, line_history.run_id)
                from line_history
                inner join convbill_runs on line_history.run_id = convbill_runs.run_id
                where line_history.source_row = mismatched_lines.source_row
                    and convbill_runs.finished_at <= mismatched_lines.invoice_date
            ), 0)
            else (
                select max(line_history.conversations)
                from line_history
                where line_history.source_row = mismatched_lines.source_row
                    and line_history.conversations = mismatched_lines.invoiced_conversations
            )
        end as conversations,
        case
            when mismatched_lines.invoice_date is not null then (
                select 'as published by run ' || max(convbill_runs.run_id) || ', the last build before the invoice date'
                from convbill_runs
                where convbill_runs.command = 'build' and convbill_runs.status = 'success'
                    and convbill_runs.finished_at <= mismatched_lines.invoice_date
            )
            else (
                select 'as published by run ' || max(line_history.run_id)
                from line_history
                where line_history.source_row = mismatched_lines.source_row
                    and line_history.conversations = mismatched_lines.invoiced_conversations
            )
        end as detail
    from mismatched_lines
),

alternatives as (
    select source_row, 1 as cause_order, 'late_data' as cause, conversations, detail
    from late_counts
    union all
    select source_row,
        case cause when 'utc_cycle_boundaries' then 2 when 'inclusive_cycle_end' then 3
            when 'rejected_conflicting_customer_account' then 4 when 'rejected_after_as_of' then 5
            when 'rejected_ended_before_started' then 6 else 7 end,
        cause, conversations, null
    from window_counts
    where cause <> 'as_computed'
    union all
    select source_row, 8, 'interactions_counted', interactions, null
    from window_counts
    where cause = 'as_computed'
    union all
    select source_row, 9, 'duplicate_rows_counted', input_rows, null
    from window_counts
    where cause = 'as_computed'
)

select
    mismatched_lines.source_row,
    mismatched_lines.invoice_id,
    mismatched_lines.org_id,
    mismatched_lines.cycle_id,
    alternatives.cause_order,
    alternatives.cause,
    mismatched_lines.invoiced_conversations,
    mismatched_lines.computed_conversations,
    alternatives.conversations as recomputed_conversations,
    alternatives.conversations is not null
        and within_tolerance(mismatched_lines.invoiced_conversations, alternatives.conversations,
            tolerance.absolute_tolerance, tolerance.relative_tolerance) as explains,
    alternatives.detail
from mismatched_lines
inner join alternatives on mismatched_lines.source_row = alternatives.source_row
cross join tolerance
