-- raw_json(raw_rows): the row as read, a JSON object of the contract's
-- columns, for rejected_interactions.raw. A timestamp the file typed itself
-- (Parquet) shows as DuckDB prints it.
create or replace macro raw_json(raw_row) as
    json_object(
        'org_id', raw_row.org_id,
        'integration_id', raw_row.integration_id,
        'interaction_id', raw_row.interaction_id,
        'customer_account_id', raw_row.customer_account_id,
        'platform', raw_row.platform,
        'message_id', raw_row.message_id,
        'started_at', coalesce(raw_row.started_at, raw_row.started_at_instant::varchar),
        'ended_at', coalesce(raw_row.ended_at, raw_row.ended_at_instant::varchar),
        'occurred_at', coalesce(raw_row.occurred_at, raw_row.occurred_at_instant::varchar)
    )::varchar
