-- audit_grain_fct_billable_conversations
-- returns: the keys of fct_billable_conversations held by more than one
--          row, among the keys audited (audit_conversations). No rows means
--          it passes.
--          * An incremental build audits the keys it wrote, against the
--            whole table: it deletes every stored conversation of an account
--            before writing that account's again, so a repeated key involves
--            a written row, whether it repeats another written row or one the
--            build kept.
--          * `convbill test` audits every key.
--          * A full refresh audits none. It writes every row from one GROUP
--            BY over (org, cycle_seq, integration, account), and the left
--            joins that label the groups match at most one row each
--            (audit_grain_dimensions, audit_no_cycle_overlaps), so its keys
--            are unique by construction; grouping them all again cost a
--            twentieth of a full build.
--          Keys are compared by a 64-bit hash first, several times cheaper
--          than four text columns; only rows whose hash repeats are compared
--          in full.
with audited_hashes as (
    select distinct hash(org_id, cycle_start, integration_id, customer_account_id) as key_hash
    from audit_conversations
),

keyed_rows as (
    select
        org_id,
        cycle_start,
        integration_id,
        customer_account_id,
        hash(org_id, cycle_start, integration_id, customer_account_id) as key_hash
    from fct_billable_conversations
),

audited_rows as (
    select org_id, cycle_start, integration_id, customer_account_id, key_hash
    from keyed_rows
    semi join audited_hashes on keyed_rows.key_hash = audited_hashes.key_hash
),

repeated_hashes as (
    select key_hash
    from audited_rows
    group by key_hash
    having count(*) > 1
)

select org_id, cycle_start, integration_id, customer_account_id, count(*) as rows_with_key
from audited_rows
semi join repeated_hashes on audited_rows.key_hash = repeated_hashes.key_hash
group by org_id, cycle_start, integration_id, customer_account_id
having count(*) > 1
