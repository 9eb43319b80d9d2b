-- clean_text(value): a text key as the rules define it — trimmed of leading and
-- trailing whitespace (spaces, tabs, line breaks), blank meaning absent. Never
-- lower-cased: account ids are opaque.
-- Most values need no trimming, and trim() copies every string it sees, so a
-- cheap edge check goes first: the code of the first and of the last
-- character. Every character trim() removes is at most 32, and so is an empty
-- string's 0; a value failing the check is returned as it is. Two code
-- lookups cost half of twelve starts_with/suffix calls, and this macro runs
-- on every key of every row in each pass over the input.
create or replace macro clean_text(value) as
    case
        when value is null then null
        when ascii(value) <= 32 or ascii(value[-1]) <= 32
            then nullif(trim(value, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '')
        else value
    end;
