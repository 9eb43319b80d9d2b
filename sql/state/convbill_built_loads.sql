-- convbill_built_loads
-- grain: one row per load the last successful build counted, (load_id).
-- purpose: The loads already built on, so an incremental build stages only
--          the others, and a load that no longer counts, or whose source's
--          staging settings changed, calls for a full refresh.
-- reads: cfg_loads
-- columns:
--   load_id: the load (raw_files)
--   stage_fingerprint: the fingerprint of the staging settings it was built with (cfg_loads)
create table if not exists convbill_built_loads (
    load_id integer primary key,
    stage_fingerprint varchar not null
);
