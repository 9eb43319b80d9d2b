/**
 * The library API: what a user of the package calls (the CLI's commands, the
 * typed API, Arrow), their option and result types, and the errors they
 * throw. Everything else is internal and may change between versions;
 * test/package.test.ts holds the exact list of names.
 */

// Build and load
export { build, type BuildResult } from './build/build.js';
export { ingestOnly } from './ingest/ingest-only.js';
// build() and ingestOnly() take BuildOptions, whose sources and cycles only this resolves from a config file and flags.
export { resolveBuildOptions, type BuildOptions, type BuildFlags, type ClickHouseSettings } from './config/build-options.js';
// ingestOnly() takes a log; RunLog.silent() when none is wanted.
export { RunLog, type LogOptions } from './engine/log.js';
export type { BuildSummary } from './build/summary.js';
export type { SourceSpec, IngestReport } from './ingest/ingest.js';
export type { CycleConfig, CycleRule } from './reference/cycles.js';
export type { PriceEntry } from './reference/prices.js';
export { init, type InitOptions, type InitResult } from './config/init.js';

// Read the facts
export { query, type QueryOptions, type QueryResult } from './read/query.js';
export { listRuns } from './read/runs.js';
export { testWarehouse, testClickHouseWarehouse } from './project/data-tests.js';
// The readers of a ClickHouse warehouse (docs/engines.md); build() and openWarehouse() take the engine from the options.
export { queryClickHouse } from './read/clickhouse-query.js';
export { exportClickHouseTable, type ClickHouseExportOptions } from './read/clickhouse-export.js';
export type { AuditResult } from './project/audits.js';
// parseTolerance reads "5" or "2%" as --tolerance does, into ReconcileOptions' tolerance.
export { reconcile, parseTolerance, type ReconcileOptions, type ReconcileResult, type Tolerance } from './read/reconcile.js';
export {
  explain,
  type ExplainOptions,
  type ExplainedConversation,
  type ExplainedInteraction,
  type ExplainRule,
} from './read/explain.js';
export { diffRuns, type Diff, type DiffOptions, type CountChange } from './read/diff.js';
export { exportTable, type ExportFormat, type ExportOptions } from './read/export-table.js';
export { writeReport, renderReport, type ReportOptions, type ReportScope } from './read/report.js';
export { dataDictionary, checkDictionary, type DictionaryCheck } from './read/docs.js';

// Typed API and Arrow
export { openWarehouse, type OpenWarehouseOptions } from './typed/open-warehouse.js';
// For Kysely users who bring their own database or connection.
export { DuckDBDialect, type DuckDBDialectConfig } from './typed/dialect.js';
export { ClickHouseDialect } from './typed/clickhouse/dialect.js';
export type * from './typed/schema.js';
// decimalString: an Arrow Decimal cell (apache-arrow gives the unscaled integer) as exact text at its scale.
export { arrowBatches, arrowTable, decimalString, type ArrowOptions } from './read/arrow.js';
// arrowBatches, arrowTable and DuckDBDialect accept an open Warehouse.
export { Warehouse, type WarehouseOptions } from './engine/duckdb/warehouse.js';

export { ConvbillError, ConfigError, RunError, DifferencesFound } from './engine/errors.js';
