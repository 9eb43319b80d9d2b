-- cfg_loads
-- grain: one row per load that counts now, (load_id).
-- purpose: the loads that count now, each with its source's settings and the
--          projection that maps the file's columns to the contract's;
--          staging (src/ingest/staging.ts) writes them.
-- reads: raw_files, raw_paths
-- columns:
--   load_id: the load (raw_files)
--   source_file: its current path: the first in order of the counting paths that hold it
--   source_key: the configured source it falls under; '' for the top-level source settings
--   stage_fingerprint: the fingerprint of the staging settings it is staged with
--   source_timezone: the timezone offset-less instants are read in
--   epoch_unit: the unit of epoch-number instants
--   projection: the select that maps its raw relation to the contract's columns, the relation left as a marker
create table if not exists cfg_loads (
    load_id integer primary key,
    source_file varchar not null,
    source_key varchar not null,
    stage_fingerprint varchar not null,
    source_timezone varchar not null,
    epoch_unit varchar not null,
    projection varchar not null
);
