/** The library API: what the CLI does, callable from code and tests. */
export { build, type BuildResult } from './build/build.js';
export { ingestOnly } from './ingest/ingest-only.js';
export { testWarehouse } from './project/data-tests.js';
export { listRuns, type RunResults } from './build/run-history.js';
export { RunLog, type LogOptions } from './engine/log.js';
export { publishedPathOf } from './config/warehouse-paths.js';
export { resolveBuildOptions, type BuildOptions, type BuildFlags } from './config/build-options.js';
export { readConfigFile, type ConfigFile } from './config/config-file.js';
export type { CycleConfig, CycleRule } from './reference/cycles.js';
export { ConvbillError, ConfigError, RunError, DifferencesFound } from './engine/errors.js';
export type { SourceSpec, IngestReport } from './ingest/ingest.js';
export { loadModels, runAudits, type AuditResult, type Model } from './project/models.js';
export { query, formatResult, type QueryFormat, type QueryResult } from './read/query.js';
export { formatSummary, type BuildSummary } from './build/summary.js';
export { Warehouse } from './engine/duckdb/warehouse.js';
export type { PriceEntry } from './reference/prices.js';
export {
  reconcile,
  formatReconciliation,
  parseTolerance,
  type ReconcileOptions,
  type ReconcileResult,
  type ReconcileFormat,
  type Tolerance,
} from './read/reconcile.js';
export { explain, formatExplain, type ExplainOptions, type ExplainedConversation, type ExplainedInteraction } from './read/explain.js';
export { diffRuns, type Diff, type DiffOptions } from './build/restatements.js';
export { openWarehouse, type OpenWarehouseOptions } from './typed/open-warehouse.js';
export { DuckDBDialect, type DuckDBDialectConfig } from './typed/dialect.js';
export type * from './typed/schema.js';
export { arrowBatches, arrowTable, type ArrowOptions } from './read/arrow.js';
export { exportTable, parseExportFormat, resolveExportFormat, EXPORT_FORMATS, type ExportFormat, type ExportOptions } from './read/export-table.js';
export { dataDictionary, checkDictionary, describeTables, lineageOf, type TableDoc, type DictionaryCheck } from './read/docs.js';
export { writeReport, renderReport, type ReportOptions } from './read/report.js';
export { init, initHelp, type InitOptions, type InitResult } from './config/init.js';
