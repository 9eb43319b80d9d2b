-- in_line_scope(line_platform, line_integration_id, platform, integration_id)
-- true when an invoice line covers a count of this platform and
-- integration: a line names a platform, an integration or neither (the
-- whole org and cycle). The org and cycle are matched by the caller's join.
create or replace macro in_line_scope(line_platform, line_integration_id, platform, integration_id) as
    (line_platform is null or line_platform = platform)
    and (line_integration_id is null or line_integration_id = integration_id);
