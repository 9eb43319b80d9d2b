-- convbill_reconciled_cycles
-- grain: one row per reconcile and (org, cycle) it compared, (reconcile_id, org_id, cycle_start).
-- purpose: the (org, cycle) each reconcile compared, so the next reconcile can
--          flag those restated since.
-- columns:
--   reconcile_id: the reconcile (convbill_reconciliations)
--   org_id: the organisation
--   cycle_id: the cycle's name
--   cycle_start: the cycle's first instant
create table if not exists convbill_reconciled_cycles (
    reconcile_id integer not null,
    org_id varchar not null,
    cycle_id varchar not null,
    cycle_start timestamptz not null
);
