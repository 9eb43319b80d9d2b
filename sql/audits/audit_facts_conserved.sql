-- audit_facts_conserved
-- returns: the offending counts, when the conversations do not account for
--          every (billable interaction, cycle) pair. No rows means it passes.
--          Pairs are counted from the spans' lengths, without expanding them.
with assigned_pairs as (
    select coalesce(sum(last_cycle_seq - first_cycle_seq + 1), 0) as pairs
    from int_interactions
    where reject_reason is null
),

billed_pairs as (
    select coalesce(sum(interaction_count), 0) as pairs
    from fct_billable_conversations
)

select assigned_pairs.pairs as assigned_pairs, billed_pairs.pairs as billed_pairs
from assigned_pairs, billed_pairs
where assigned_pairs.pairs <> billed_pairs.pairs
