-- changed_charge_partitions
-- grain: one row per export folder (org, cycle) whose charges differ from
--        those of the export version this build starts from.
-- purpose: the partitions of fct_conversation_charges the Parquet export
--          writes again (src/build/parquet-exports.ts); it links the others
--          from that version. A charge changes with its cycle's counts, but
--          also with the price book, which changes no count, so the rows
--          are compared rather than the causes listed: a row added, gone or
--          changed in any column puts its folder here. The folders are
--          encoded as the export names them (partition_folder), never
--          decoded.
-- parameters:
--   $previous_files: the glob of that version's charge files
-- columns:
--   org: the org folder's value, partition_folder(org_id)
--   cycle: the cycle folder's value, partition_folder(cycle_id)
with previous_charges as (
    select org_id, cycle_id, cycle_start, cycle_end, platform, integration_id, conversations,
        billable_conversations, currency, amount, price_scope, price_status
    from read_parquet($previous_files, hive_partitioning = false)
),

current_charges as (
    select org_id, cycle_id, cycle_start, cycle_end, platform, integration_id, conversations,
        billable_conversations, currency, amount, price_scope, price_status
    from fct_conversation_charges
),

-- every column compared, nulls alike (no price: no amount, no currency)
added_or_changed as (
    select * from current_charges
    except all
    select * from previous_charges
),

gone_or_changed as (
    select * from previous_charges
    except all
    select * from current_charges
),

differing_rows as (
    select org_id, cycle_id from added_or_changed
    union all
    select org_id, cycle_id from gone_or_changed
)

select distinct partition_folder(org_id) as org, partition_folder(cycle_id) as cycle
from differing_rows
