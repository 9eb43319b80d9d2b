-- report_accounts
-- grain: one row per org and account among the org's 20 accounts with the most conversations, (org_id, account).
-- purpose: convbill report's top accounts. Account ids are phone numbers
--          and handles, and a report is mailed around, so by default each
--          is masked: its last 4 characters stay visible (8 characters or
--          more; none for a shorter id) for a person to recognise it, and
--          a tag of 4 hex digits of an md5 of the org and the id keeps two
--          accounts with the same ending apart, the same in every report.
-- parameters:
--   $org: the org to report, or null for every org
--   $show_accounts: true to show the ids as they are
-- columns:
--   org_id: the organisation
--   account: the account id, or its mask
--   conversations: the account's billable conversations, all cycles
--   integrations: the integrations it talked through
--   cycles: the cycles it was billed in
with account_conversations as (
    select
        org_id,
        customer_account_id,
        count(*) as conversations,
        count(distinct integration_id) as integrations,
        count(distinct cycle_start) as cycles
    from fct_billable_conversations
    where $org::varchar is null or org_id = $org::varchar
    group by org_id, customer_account_id
),

top_accounts as (
    select
        org_id,
        customer_account_id,
        conversations,
        integrations,
        cycles,
        row_number() over (partition by org_id order by conversations desc, customer_account_id) as rank
    from account_conversations
    qualify rank <= 20
)

select
    org_id,
    case
        when $show_accounts::boolean then customer_account_id
        else '••••' || case when length(customer_account_id) >= 8 then right(customer_account_id, 4) else '' end
            || ' #' || left(md5(org_id || chr(0) || customer_account_id), 4)
    end as account,
    conversations::bigint as conversations,
    integrations::bigint as integrations,
    cycles::bigint as cycles
from top_accounts
order by org_id, rank
