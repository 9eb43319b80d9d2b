-- audit_grain_fct_billable_conversations
-- returns: the keys of fct_billable_conversations held by more than one
--          row, among the keys audited (audit_conversations). No rows means
--          it passes.
--          * An incremental build audits the keys it wrote, among the rows
--            it wrote (audit_stored_conversations is int_conversations_delta).
--            It deletes every stored conversation of an account before
--            writing that account's again, and the model runner fails the
--            build if a written row's account is not among those it deleted
--            (src/project/run-models.ts, `replaces`), so a key can only
--            repeat among the written rows. Looking each written key up in
--            the whole table cost a tenth of a nightly build at 10M rows, and
--            grew with the history.
--          * `convbill test` audits every key, against the whole table
--            (audit_stored_conversations is int_conversations).
--          * A full refresh audits none. It writes every row from one GROUP
--            BY over (integration_sk, cycle_seq, account), and the left
--            joins that label the groups match at most one row each
--            (audit_grain_dimensions, audit_no_cycle_overlaps), so its keys
--            are unique by construction; grouping them all again cost a
--            twentieth of a full build.
--          For the same reason a key repeats in the view exactly when its
--          stored key (integration_sk, cycle_seq, account) repeats in
--          int_conversations: the audited keys are translated to stored
--          ones and looked up there, which spares labelling every stored
--          row.
with audited_keys as (
    select distinct
        keys.integration_sk,
        cycles.cycle_seq,
        audited.customer_account_id,
        audited.org_id,
        audited.cycle_start,
        audited.integration_id
    from audit_conversations as audited
    inner join int_integration_keys as keys
        on audited.org_id = keys.org_id
        and audited.integration_id = keys.integration_id
    inner join dim_billing_cycles as cycles
        on audited.org_id = cycles.org_id
        and audited.cycle_start = cycles.cycle_start
),

repeated_keys as (
    select
        int_conversations.integration_sk,
        int_conversations.cycle_seq,
        int_conversations.customer_account_id,
        count(*) as rows_with_key
    from audit_stored_conversations as int_conversations
    semi join audited_keys
        on int_conversations.integration_sk = audited_keys.integration_sk
        and int_conversations.cycle_seq = audited_keys.cycle_seq
        and int_conversations.customer_account_id = audited_keys.customer_account_id
    group by int_conversations.integration_sk, int_conversations.cycle_seq, int_conversations.customer_account_id
    having count(*) > 1
)

-- the labels come back from audited_keys: a stored key has one label
select
    audited_keys.org_id,
    audited_keys.cycle_start,
    audited_keys.integration_id,
    repeated_keys.customer_account_id,
    repeated_keys.rows_with_key
from repeated_keys
inner join audited_keys
    on repeated_keys.integration_sk = audited_keys.integration_sk
    and repeated_keys.cycle_seq = audited_keys.cycle_seq
    and repeated_keys.customer_account_id = audited_keys.customer_account_id
