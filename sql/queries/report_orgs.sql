-- report_orgs
-- grain: one row.
-- purpose: convbill report --org: whether the org asked for has billing
--          cycles, and the closest orgs that do, so a typo is told apart
--          from an org with nothing to show (an unknown org is an error).
-- parameters:
--   $org: the org asked for
-- columns:
--   org_known: the org has billing cycles in dim_billing_cycles
--   closest: up to 3 orgs with cycles, nearest to $org by edit distance, as a JSON array
with reported_orgs as (
    select distinct org_id
    from dim_billing_cycles
)

select
    exists (select 1 from reported_orgs where org_id = $org::varchar) as org_known,
    (
        select to_json(coalesce(list(org_id order by levenshtein(org_id, $org::varchar), org_id)[1:3], []))::varchar
        from reported_orgs
    ) as closest
