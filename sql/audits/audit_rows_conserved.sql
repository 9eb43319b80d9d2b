-- audit_rows_conserved
-- returns: the files whose rows read differ from rows accepted + rejected +
--          filtered (docs/billing-rules.md §5). No rows means the audit passes.
select source_file, rows_read, rows_accepted, rows_rejected, rows_filtered
from rpt_source_files
where not identity_holds
