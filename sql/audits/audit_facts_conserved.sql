-- audit_facts_conserved
-- returns: the offending counts, when the conversations do not account for
--          every (interaction, cycle) pair assigned, or the counts mart does
--          not add up to the detail mart. No rows means the audit passes.
--          Pairs are counted from the spans' lengths, without expanding them.
with assigned_pairs as (
    select coalesce(sum(last_cycle_seq - first_cycle_seq + 1), 0) as pairs
    from int_interactions
    where is_candidate
        and first_cycle_seq <= last_cycle_seq
),

billed_pairs as (
    select coalesce(sum(interaction_count), 0) as pairs, count(*) as conversations
    from fct_billable_conversations
),

counted as (
    select coalesce(sum(conversations), 0) as conversations
    from fct_conversation_counts
)

select assigned_pairs.pairs as assigned_pairs, billed_pairs.pairs as billed_pairs,
    billed_pairs.conversations as detail_conversations, counted.conversations as counted_conversations
from assigned_pairs, billed_pairs, counted
where assigned_pairs.pairs <> billed_pairs.pairs
    or billed_pairs.conversations <> counted.conversations
