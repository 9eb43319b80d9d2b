-- materialized: temp
-- full_refresh: empty
-- int_exported_conversations
-- grain: one row per conversation the Parquet export writes in this build,
--        (org_id, cycle_start, integration_id, customer_account_id).
-- purpose: the detail rows of the partitions in int_dirty_cycles, with the
--          file of the partition each goes to (src/build/parquet-exports.ts):
--          * active: still going at as-of (its last activity is as-of), in
--            every partition written;
--          * settled: ended before as-of, where the partition's settled
--            files are written again whole (settled_rewritten);
--          * settled_added: ended before as-of and not settled at the last
--            build, where the partition's earlier settled files are kept:
--            new or changed since (int_changed_conversations), or unchanged
--            with its last activity at or after the last build's as-of,
--            which left it in the active file this build replaces. (The
--            export rewrites the settled files whole where that active file
--            is older than the last build.)
--          Settled conversations of a partition whose settled files are kept
--          are left out. Each branch reads only what it can export, by the
--          stored keys, before the rows are labelled as in
--          fct_billable_conversations: labelling every stored conversation
--          and then keeping a few cost most of a nightly export, since a
--          later as-of puts nearly every partition in int_dirty_cycles.
--          Empty in a full refresh, whose export is written whole from the
--          mart; a temp table, since the export reads it three times.
-- columns:
--   org_id, cycle_id, cycle_start, cycle_end, integration_id, platform,
--   customer_account_id, interaction_count, first_activity_at,
--   last_activity_at: as in fct_billable_conversations
--   export_file: active, settled or settled_added
with run as (
    select as_of, previous_as_of
    from cfg_run
),

exported_partitions as (
    select keys.integration_sk, int_dirty_cycles.cycle_seq, int_dirty_cycles.settled_rewritten
    from int_dirty_cycles
    inner join int_integration_keys as keys
        on int_dirty_cycles.org_id = keys.org_id
),

-- partitions whose settled files are written again: every conversation
rewritten_partition_rows as (
    select int_conversations.integration_sk, int_conversations.cycle_seq, int_conversations.customer_account_id,
        int_conversations.interaction_count, int_conversations.first_activity_at, int_conversations.last_activity_at
    from int_conversations
    inner join exported_partitions
        on int_conversations.integration_sk = exported_partitions.integration_sk
        and int_conversations.cycle_seq = exported_partitions.cycle_seq
    where exported_partitions.settled_rewritten
),

-- the others: what ends at or after the last build's as-of (active now, or
-- in the active file this build replaces), by a filter on the stored rows.
-- Kept apart from the branch above: the literal filter alone is pushed into
-- the scan of int_conversations, and an OR with the partition's flag is not
recent_rows as (
    select int_conversations.integration_sk, int_conversations.cycle_seq, int_conversations.customer_account_id,
        int_conversations.interaction_count, int_conversations.first_activity_at, int_conversations.last_activity_at
    from int_conversations
    inner join exported_partitions
        on int_conversations.integration_sk = exported_partitions.integration_sk
        and int_conversations.cycle_seq = exported_partitions.cycle_seq
    where not exported_partitions.settled_rewritten
        and int_conversations.last_activity_at >= {{ previous_as_of }}
),

-- and the conversations this build added or changed that ended before it
-- (in such a partition, none was settled before: that would rewrite it)
changed_keys as (
    select keys.integration_sk, cycles.cycle_seq, changed.customer_account_id
    from int_changed_conversations as changed
    inner join int_integration_keys as keys
        on changed.org_id = keys.org_id
        and changed.integration_id = keys.integration_id
    inner join int_billing_cycles as cycles
        on changed.org_id = cycles.org_id
        and changed.cycle_start = cycles.cycle_start
    where changed.is_settled
),

newly_settled_rows as (
    select written.integration_sk, written.cycle_seq, written.customer_account_id,
        written.interaction_count, written.first_activity_at, written.last_activity_at
    from int_conversations_delta as written
    semi join changed_keys
        on written.integration_sk = changed_keys.integration_sk
        and written.cycle_seq = changed_keys.cycle_seq
        and written.customer_account_id = changed_keys.customer_account_id
    inner join exported_partitions
        on written.integration_sk = exported_partitions.integration_sk
        and written.cycle_seq = exported_partitions.cycle_seq
    cross join run
    where not exported_partitions.settled_rewritten
        and written.last_activity_at < run.previous_as_of
),

exported_stored as (
    select integration_sk, cycle_seq, customer_account_id, interaction_count, first_activity_at, last_activity_at
    from rewritten_partition_rows
    union all
    select integration_sk, cycle_seq, customer_account_id, interaction_count, first_activity_at, last_activity_at
    from recent_rows
    union all
    select integration_sk, cycle_seq, customer_account_id, interaction_count, first_activity_at, last_activity_at
    from newly_settled_rows
),

labelled as (
    select
        keys.org_id,
        dim_billing_cycles.cycle_id,
        dim_billing_cycles.cycle_start,
        dim_billing_cycles.cycle_end,
        keys.integration_id,
        dim_integrations.platform,
        exported_stored.customer_account_id,
        exported_stored.interaction_count,
        exported_stored.first_activity_at,
        exported_stored.last_activity_at,
        exported_partitions.settled_rewritten
    from exported_stored
    inner join exported_partitions
        on exported_stored.integration_sk = exported_partitions.integration_sk
        and exported_stored.cycle_seq = exported_partitions.cycle_seq
    left join int_integration_keys as keys
        on exported_stored.integration_sk = keys.integration_sk
    left join dim_billing_cycles
        on keys.org_id = dim_billing_cycles.org_id
        and exported_stored.cycle_seq = dim_billing_cycles.cycle_seq
    left join dim_integrations
        on keys.org_id = dim_integrations.org_id
        and keys.integration_id = dim_integrations.integration_id
)

select
    labelled.org_id,
    labelled.cycle_id,
    labelled.cycle_start,
    labelled.cycle_end,
    labelled.integration_id,
    labelled.platform,
    labelled.customer_account_id,
    labelled.interaction_count,
    labelled.first_activity_at,
    labelled.last_activity_at,
    case
        when labelled.last_activity_at >= run.as_of then 'active'
        when labelled.settled_rewritten then 'settled'
        else 'settled_added'
    end as export_file
from labelled
cross join run
