/**
 * The columns of the published tables that hold a value on every row: the
 * grain keys, and every column that docs/billing-rules.md §6 and the data
 * dictionary never describe as absent. scripts/gen-schema-types.ts types
 * these without `| null`, so strict code reads `org_id` as a `string`.
 *
 * Why a list: the published copy is written with CREATE TABLE AS, and the
 * detail facts are a view over Parquet, neither of which carries NOT NULL,
 * so information_schema calls every published column nullable. Declaring
 * NOT NULL in the marts would not reach the copy either. The list is held
 * to the SQL by test/typed-strict.test.ts: none of these columns holds a null
 * on real builds (the demo, and one built to produce every nullable case),
 * each names a real column, and it covers every NOT NULL the working
 * database's own DDL declares (state tables, fct_conversation_counts).
 *
 * A column left out stays `T | null`, the safe side; add one here only
 * when its SQL cannot produce a null, then run `npm run gen:types`.
 */
export const NON_NULL_COLUMNS = {
  // the view's left joins are on keys unique in the dimensions (audit_grain_dimensions): every label is found
  fct_billable_conversations: [
    'org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'integration_id', 'platform',
    'customer_account_id', 'interaction_count', 'first_activity_at', 'last_activity_at',
  ],
  fct_conversation_counts: ['org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'integration_id', 'platform', 'conversations'],
  // billable_conversations, currency, amount and price_scope are null when no price matches
  fct_conversation_charges: ['org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'platform', 'integration_id', 'conversations', 'price_status'],
  dim_billing_cycles: ['org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'timezone', 'cycle_source', 'cycle_seq'],
  dim_integrations: ['org_id', 'integration_id', 'platform', 'platform_source'],
  // a malformed_row has no org, integration or interaction
  rejected_interactions: ['source_file', 'source_row', 'reason', 'raw', 'load_id'],
  rpt_source_files: [
    'load_id', 'source_file', 'format', 'content_hash', 'loaded_at', 'counted',
    'rows_read', 'rows_accepted', 'rows_rejected', 'rows_filtered', 'identity_holds',
  ],
  rpt_data_quality: ['check_name', 'affected_count', 'description'],
  // the run history: what its DDL in sql/state/ declares NOT NULL
  convbill_runs: ['run_id', 'command', 'command_line', 'started_at', 'status'],
  convbill_run_partitions: ['run_id', 'org_id', 'cycle_id', 'cycle_start', 'integrations', 'conversations'],
  convbill_count_changes: ['run_id', 'org_id', 'cycle_id', 'cycle_start', 'integration_id', 'conversations_before', 'conversations_after'],
  // usage no invoice line covers (not_invoiced) has no source_row, line_label or invoice_id; a line may match no cycle
  rpt_invoice_reconciliation: [
    'org_id', 'cycle_id', 'invoiced_conversations', 'computed_conversations', 'difference', 'status', 'restated_since_reconciled',
  ],
  rpt_reconciliation_alternatives: [
    'source_row', 'invoice_id', 'org_id', 'cycle_id', 'cause_order', 'cause', 'invoiced_conversations', 'computed_conversations', 'explains',
  ],
  convbill_reconciliations: ['reconcile_id', 'reconciled_at', 'invoice_file', 'run_id', 'lines', 'differences'],
} as const satisfies Record<string, readonly string[]>;

/** Whether `column` of published table `table` is declared never null. */
export function isNonNull(table: string, column: string): boolean {
  const columns: readonly string[] | undefined = (NON_NULL_COLUMNS as Record<string, readonly string[]>)[table];
  return columns?.includes(column) ?? false;
}
