-- audit_counts_match_detail
-- grain: one row when the check fails.
-- purpose: the counts this run wrote add up to its detail rows, and no count is zero.
select detail_rows, counted, zero_counts
from (
    select
        (select count() from {database}.fct_billable_conversations_next) as detail_rows,
        (select sum(conversations) from {database}.fct_conversation_counts_next) as counted,
        (select count() from {database}.fct_conversation_counts_next where conversations = 0) as zero_counts
)
where detail_rows != counted or zero_counts > 0;
