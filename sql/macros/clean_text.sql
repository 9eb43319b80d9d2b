-- clean_text(value): a text key as the rules define it — trimmed of leading and
-- trailing whitespace (spaces, tabs, line breaks), blank meaning absent. Never
-- lower-cased: account ids are opaque.
create or replace macro clean_text(value) as
    nullif(trim(value, ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13)), '');
