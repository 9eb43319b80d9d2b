-- materialized: view
-- stg_malformed_rows
-- grain: one row per physical row a reader could not fit, in the loads this
--        build stages (load_id, source_row).
-- purpose: docs/billing-rules.md §5's malformed_row: too few or too many fields, an
--          unterminated quote, bytes invalid in the file's encoding, a line
--          over the size limit, a JSON line that is no object. The raw layer
--          keeps them as the reader reported them; raw is a JSON object of
--          the line number, the text and the reader's words.
select
    raw_malformed_rows.load_id,
    raw_malformed_rows.source_row,
    'malformed_row' as reason,
    json_object(
        'line', raw_malformed_rows.line,
        'text', raw_malformed_rows.line_text,
        'error', raw_malformed_rows.error
    )::varchar as raw
from raw_malformed_rows
semi join cfg_scope_loads on raw_malformed_rows.load_id = cfg_scope_loads.load_id
