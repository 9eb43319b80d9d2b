/** The input contract's column names (docs/billing-rules.md §4), shared by config and ingest. */
export const CANONICAL_COLUMNS = [
  'org_id',
  'integration_id',
  'interaction_id',
  'customer_account_id',
  'platform',
  'message_id',
  'started_at',
  'ended_at',
  'occurred_at',
] as const;

export type CanonicalColumn = (typeof CANONICAL_COLUMNS)[number];

/** canonical column -> the name the source file uses for it */
export type ColumnMapping = Partial<Record<CanonicalColumn, string>>;

export function isCanonicalColumn(name: string): name is CanonicalColumn {
  return (CANONICAL_COLUMNS as readonly string[]).includes(name);
}

/** The columns holding instants; a typed source fills `<column>_instant`. */
export const TIMESTAMP_COLUMNS = ['started_at', 'ended_at', 'occurred_at'] as const satisfies readonly CanonicalColumn[];
