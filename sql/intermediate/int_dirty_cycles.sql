-- materialized: temp
-- reads_previous: fct_conversation_counts
-- int_dirty_cycles
-- grain: one row per billing cycle whose facts this build changed,
--        (org_id, cycle_seq).
-- purpose: the (org, cycle) partitions of the facts that hold an added,
--          removed or changed conversation: the partitions the counts and
--          the Parquet exports update. Each partition of the detail export
--          keeps the conversations settled before as-of (their last
--          activity before it) in files of their own, which most nights
--          leave alone, since what changes from night to night is mostly
--          the conversations still active at as-of:
--          * settled_rewritten: a conversation settled at the last build
--            changed or went away, so the partition's settled files are
--            written again whole; so are those the export lists in
--            cfg_export_rewrites (too many settled files, or an active file
--            older than the last build: src/build/parquet-exports.ts);
--          * settled_added: otherwise, conversations settled now that were
--            not settled before (new, or no longer active), written in a
--            file of their own beside the partition's earlier ones;
--          * counts_changed: a conversation was added or removed, the only
--            change to a count.
--          A platform change (int_billed_platforms) relabels every
--          conversation of its integration, settled or not, in every cycle
--          the last build's counts list it in. A full refresh changes every
--          cycle, and everything in it.
with run as (
    select full_refresh
    from cfg_run
),

changed_partitions as (
    select
        org_id,
        cycle_start,
        bool_or(coalesce(was_settled, false)) as settled_rewritten,
        bool_or(coalesce(is_settled, false) and not coalesce(was_settled, false)) as settled_added,
        bool_or(added_or_removed) as counts_changed
    from int_changed_conversations
    group by org_id, cycle_start
),

repriced_integrations as (
    select org_id, integration_id
    from int_billed_platforms_delta
    where previous_platform is not null
),

repriced_partitions as (
    select distinct billed_counts.org_id, billed_counts.cycle_start
    from fct_conversation_counts as billed_counts
    semi join repriced_integrations
        on billed_counts.org_id = repriced_integrations.org_id
        and billed_counts.integration_id = repriced_integrations.integration_id
)

select
    int_billing_cycles.org_id,
    int_billing_cycles.cycle_seq,
    int_billing_cycles.cycle_id,
    int_billing_cycles.cycle_start,
    int_billing_cycles.cycle_end,
    coalesce(changed_partitions.settled_rewritten or repriced_partitions.org_id is not null, true)
        or export_rewrites.org_folder is not null as settled_rewritten,
    coalesce(changed_partitions.settled_added, true) as settled_added,
    coalesce(changed_partitions.counts_changed or repriced_partitions.org_id is not null, true) as counts_changed
from int_billing_cycles
left join changed_partitions
    on int_billing_cycles.org_id = changed_partitions.org_id
    and int_billing_cycles.cycle_start = changed_partitions.cycle_start
left join repriced_partitions
    on int_billing_cycles.org_id = repriced_partitions.org_id
    and int_billing_cycles.cycle_start = repriced_partitions.cycle_start
left join cfg_export_rewrites as export_rewrites
    on partition_folder(int_billing_cycles.org_id) = export_rewrites.org_folder
    and partition_folder(int_billing_cycles.cycle_id) = export_rewrites.cycle_folder
where (select full_refresh from run)
    or changed_partitions.org_id is not null
    or repriced_partitions.org_id is not null
