-- convbill_state
-- grain: one row, the last successful build.
-- purpose: What the next build compares with to choose between an
--          incremental build and a full refresh (src/build/plan.ts).
-- reads: cfg_loads
-- columns:
--   run_id: the build (convbill_runs)
--   fingerprint: SHA-256 of everything besides the rows that shapes the facts: the SQL files and the cycle configuration
--   as_of: the instant its facts were computed as of
--   last_load_id: the highest load that counted at that build
--   built_at: when the build saved it
--   references_digest: MD5 of the integrations reference and the prices it
--                      was built with (null: not recorded); with no new
--                      file, the same as-of and the same digest, the next
--                      build has nothing to do
create table if not exists convbill_state (
    run_id integer not null,
    fingerprint varchar not null,
    as_of timestamptz not null,
    last_load_id integer not null,
    built_at timestamptz not null,
    references_digest varchar
);
