-- partition_folder(value): an org_id or cycle_id as the value of a Parquet
-- export folder name (`org=<value>/cycle=<value>/`). The keys are data from
-- input rows and calendar files, so any text can arrive: a slash or `..`
-- would climb out of the export, a megabyte would exceed the file system's
-- name limit and fail every org's build. The folder names only locate files;
-- the files hold the real org_id and cycle_id.
--
-- The encoding, which docs/nightly.md documents for readers:
--   * every UTF-8 byte outside A-Z a-z 0-9 - _ . is written ~XX (two
--     upper-case hex digits), and so is a leading `.` (never `.` or `..`)
--     and `~` itself (~7E);
--   * the empty value is `~` alone, which no other value gives;
--   * an encoding longer than 64 characters becomes its first 40 characters,
--     cut before a ~XX the 40th would split, then `~~` and the first 16 hex
--     digits of sha256(value). `~~` occurs nowhere else, so distinct values
--     keep distinct folders.
-- The result uses only URL-unreserved characters, which DuckDB's own
-- percent-encoding of partition values leaves as they are.
--
-- It runs on every exported row: ordinary ids take the first branch, one
-- regular expression, and come back unchanged. Only the rest are split into
-- characters, and never more than 64 bytes' or 40 characters' worth of them,
-- however long the value. A non-ASCII character's bytes are all escaped,
-- so splitting by character escapes exactly the bytes the rule names.
create or replace macro partition_folder_escape(value) as
    array_to_string(list_transform(string_split(value, ''), lambda ch, position:
        case
            when regexp_full_match(ch, '[A-Za-z0-9_-]') or (ch = '.' and position > 1) then ch
            else regexp_replace(hex(ch), '(..)', '~\1', 'g')
        end), '');

create or replace macro partition_folder(value) as
    case
        when regexp_full_match(value, '[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}') then value
        when value = '' then '~'
        -- each byte writes at least one character: past 64 bytes it is long
        when strlen(value) <= 64 and strlen(partition_folder_escape(value)) <= 64
            then partition_folder_escape(value)
        -- 40 characters write at least 40 bytes, so at least 40 characters
        else regexp_replace(left(partition_folder_escape(left(value, 40)), 40), '~[0-9A-F]?$', '')
            || '~~' || left(sha256(value), 16)
    end;
