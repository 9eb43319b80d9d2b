-- explain_known_keys
-- grain: one row.
-- purpose: when explain finds no conversation, whether the org and the
--          account it was asked about are billed at all, and the closest
--          ids that are: a typo in an id should be told apart from an
--          account with nothing in the chosen cycle or integration.
-- parameters:
--   $org: the org asked about
--   $account: the account asked about
-- columns:
--   org_known: the org has billed conversations
--   account_known: the account has billed conversations in that org
--   closest: up to 3 billed ids nearest by edit distance: accounts of the
--            org when the org is known, else orgs
with billed_orgs as (
    select distinct org_id
    from fct_billable_conversations
),

org_accounts as (
    select distinct customer_account_id
    from fct_billable_conversations
    where org_id = $org
),

known as (
    select
        exists (select 1 from billed_orgs where org_id = $org) as org_known,
        exists (select 1 from org_accounts where customer_account_id = $account) as account_known
)

select
    known.org_known,
    known.account_known,
    case
        when known.org_known then (
            select list(customer_account_id order by levenshtein(customer_account_id, $account), customer_account_id)[1:3]
            from org_accounts
        )
        else (
            select list(org_id order by levenshtein(org_id, $org), org_id)[1:3]
            from billed_orgs
        )
    end as closest
from known
