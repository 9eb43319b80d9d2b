-- convbill_reconciliations
-- grain: one row per `convbill reconcile`, (reconcile_id).
-- purpose: Each reconcile: which invoice file, against which build, and how
--          many lines differed; a later build that changes a reconciled cycle
--          is flagged in the next reconcile.
-- reads: rpt_invoice_reconciliation
-- columns:
--   reconcile_id: the reconcile, numbered 1, 2, … in order
--   reconciled_at: when it ran
--   invoice_file: the invoice file, as given
--   run_id: the last successful build it compared against
--   lines: invoice lines in the file
--   differences: lines (and uncovered usage) that did not match
create table if not exists convbill_reconciliations (
    reconcile_id integer primary key,
    reconciled_at timestamptz not null,
    invoice_file varchar not null,
    run_id integer not null,
    lines bigint not null,
    differences bigint not null
);
