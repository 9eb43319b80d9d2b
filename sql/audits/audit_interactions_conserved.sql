-- audit_interactions_conserved
-- returns: the offending counts, when the staged rows are not all either
--          rejected by a row check or merged into an interaction, or when a
--          stored interaction is neither billable in some cycle nor rejected
--          (docs/billing-rules.md §5: no row is silently dropped). No rows means it passes.
with staged as (
    select coalesce(sum(rows_staged), 0) as row_count
    from int_load_stats
),

-- malformed rows were never staged: they are counted apart, in int_load_stats
row_rejected as (
    select count(*) as row_count
    from int_row_rejects
    where reason <> 'malformed_row'
),

merged as (
    select
        coalesce(sum(row_count), 0) as row_count,
        count_if(reject_reason is null
            and not coalesce(first_cycle_seq <= last_cycle_seq, false)) as unplaced_interactions
    from int_interactions
)

select
    staged.row_count as staged_rows,
    row_rejected.row_count as row_rejected_rows,
    merged.row_count as merged_rows,
    merged.unplaced_interactions
from staged, row_rejected, merged
where staged.row_count <> row_rejected.row_count + merged.row_count
    or merged.unplaced_interactions > 0
