-- audit_grain_fct_billable_conversations
-- returns: the keys of fct_billable_conversations held by more than one
--          row, among the conversations audited (audit_conversations: those
--          a build wrote, or all of them). A build deletes every stored
--          conversation of an account before writing that account's again,
--          so a repeated key can only be among the rows it wrote. No rows
--          means it passes.
--          Keys are first grouped by a 64-bit hash, several times cheaper
--          than grouping four text columns; only rows whose hash repeats
--          are compared in full.
with keyed_rows as (
    select
        org_id,
        cycle_start,
        integration_id,
        customer_account_id,
        hash(org_id, cycle_start, integration_id, customer_account_id) as key_hash
    from audit_conversations
),

repeated_hashes as (
    select key_hash
    from keyed_rows
    group by key_hash
    having count(*) > 1
)

select org_id, cycle_start, integration_id, customer_account_id, count(*) as rows_with_key
from keyed_rows
semi join repeated_hashes on keyed_rows.key_hash = repeated_hashes.key_hash
group by org_id, cycle_start, integration_id, customer_account_id
having count(*) > 1
