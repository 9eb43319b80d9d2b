-- convbill_publication
-- grain: one row, the build this copy holds.
-- purpose: Stamps the published copy with its build, so the next build knows
--          whether it can update the copy in place. Created in the published
--          copy only.
-- columns:
--   run_id: the build whose facts the copy holds
--   published_at: when it was published
create table if not exists convbill_publication (
    run_id integer,
    published_at timestamptz
);
