/** The library API: what the CLI does, callable from code and tests. */
export { build, type BuildResult } from './build.js';
export { ingestOnly } from './ingest-command.js';
export { testWarehouse } from './data-tests.js';
export { listRuns, type RunResults } from './runs.js';
export { RunLog, type LogOptions } from './log.js';
export { publishedPathOf } from './publish.js';
export {
  resolveBuildOptions,
  readConfigFile,
  type BuildOptions,
  type BuildFlags,
  type ConfigFile,
} from './config.js';
export type { CycleConfig, CycleRule } from './cycles.js';
export { ConvbillError, ConfigError, RunError, DifferencesFound } from './errors.js';
export type { SourceSpec, IngestReport } from './ingest.js';
export { loadModels, runAudits, type AuditResult, type Model } from './models.js';
export { query, formatResult, type QueryFormat, type QueryResult } from './query.js';
export { formatSummary, type BuildSummary } from './summary.js';
export { Warehouse } from './warehouse.js';
export type { PriceEntry } from './prices.js';
export {
  reconcile,
  formatReconciliation,
  parseTolerance,
  type ReconcileOptions,
  type ReconcileResult,
  type ReconcileFormat,
  type Tolerance,
} from './reconcile.js';
export { explain, formatExplain, type ExplainOptions, type ExplainedConversation, type ExplainedInteraction } from './explain.js';
export { diffRuns, type Diff, type DiffOptions } from './restatements.js';
export { openWarehouse, type OpenWarehouseOptions } from './typed-api.js';
export { DuckDBDialect, type DuckDBDialectConfig } from './kysely-duckdb.js';
export type * from './schema.js';
export { arrowBatches, arrowTable, type ArrowOptions } from './arrow.js';
export { exportTable, parseExportFormat, resolveExportFormat, EXPORT_FORMATS, type ExportFormat, type ExportOptions } from './table-export.js';
export { dataDictionary, checkDictionary, describeTables, lineageOf, type TableDoc, type DictionaryCheck } from './docs.js';
export { writeReport, renderReport, type ReportOptions } from './report.js';
export { init, initHelp, type InitOptions, type InitResult } from './init.js';
