-- audit_facts_conserved
-- returns: the offending counts, when the conversations do not account for
--          every (billable interaction, cycle) pair. No rows means it passes.
--          Pairs are counted from the spans' lengths, without expanding them,
--          and the conversations in int_conversations: the view over it
--          has its rows, one for one (left joins on unique keys,
--          audit_grain_dimensions), and summing through its joins was most
--          of this audit's time.
with assigned_pairs as (
    select coalesce(sum(last_cycle_seq - first_cycle_seq + 1), 0) as pairs
    from int_interactions
    where reject_reason is null
),

billed_pairs as (
    select coalesce(sum(interaction_count), 0) as pairs
    from int_conversations
)

select assigned_pairs.pairs as assigned_pairs, billed_pairs.pairs as billed_pairs
from assigned_pairs, billed_pairs
where assigned_pairs.pairs <> billed_pairs.pairs
