-- audit_grain_rejected_interactions
-- returns: the input rows listed more than once in rejected_interactions
--          (a row has one reason). No rows means it passes.
select load_id, source_row, count(*) as rows_with_key
from rejected_interactions
group by load_id, source_row
having count(*) > 1
