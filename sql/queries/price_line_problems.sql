-- price_line_problems
-- grain: at most one row: the first price line that is not valid.
-- purpose: checks each line of price_lines on its own, on the text before any
--          cast, so a price is never read through floating point.
-- columns:
--   origin: the line (a price book's row or a config key)
--   problem: what is wrong with it
with checked as (
    select rowid as line, origin, case
        when clean_text(currency) is null then 'currency is missing'
        when clean_text(unit_price) is null then 'unit_price is missing'
        when not regexp_full_match(clean_text(unit_price), '\d{1,12}(\.\d{1,6})?')
            then 'unit_price "' || unit_price || '" is not a price (a decimal number, 0 or more, at most 6 decimals)'
        when clean_text(included_conversations) is not null and not regexp_full_match(clean_text(included_conversations), '\d{1,15}')
            then 'included_conversations "' || included_conversations || '" is not a whole number, 0 or more'
        when clean_text(tier_up_to) is not null and not regexp_full_match(clean_text(tier_up_to), '0*[1-9]\d{0,14}')
            then 'tier_up_to "' || tier_up_to || '" is not a whole number of conversations, 1 or more'
        when clean_text(platform) is not null and clean_text(integration_id) is not null
            then 'give a platform or an integration_id, not both'
    end as problem
    from price_lines
)
select origin, problem from checked where problem is not null order by line limit 1
