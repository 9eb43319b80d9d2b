-- clean_text(value): a text key as the rules define it — trimmed of leading and
-- trailing whitespace (spaces, tabs, line breaks), blank meaning absent. Never
-- lower-cased: account ids are opaque.
-- Most values need no trimming, and trim() copies every string it sees, so
-- the cheap edge checks go first (about twice as fast on clean data).
create or replace macro clean_text(value) as
    case
        when value is null then null
        when starts_with(value, ' ') or starts_with(value, chr(9)) or starts_with(value, chr(10))
            or starts_with(value, chr(13)) or starts_with(value, chr(11)) or starts_with(value, chr(12))
            or suffix(value, ' ') or suffix(value, chr(9)) or suffix(value, chr(10))
            or suffix(value, chr(13)) or suffix(value, chr(11)) or suffix(value, chr(12))
            then nullif(trim(value, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '')
        else nullif(value, '')
    end;
