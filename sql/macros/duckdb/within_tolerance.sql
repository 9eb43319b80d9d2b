-- within_tolerance(invoiced, computed, absolute_tolerance, relative_tolerance)
-- true when an invoiced count is close enough to a computed one: within the
-- absolute tolerance (conversations, none = 0) or within the relative one (a
-- share of the computed count), whichever allows more. Reconcile uses it
-- for the line itself and for each recount.
create or replace macro within_tolerance(invoiced, computed, absolute_tolerance, relative_tolerance) as
    abs(invoiced - computed) <= coalesce(absolute_tolerance, 0)
    or (computed > 0 and relative_tolerance is not null
        and abs(invoiced - computed) <= relative_tolerance * computed);
