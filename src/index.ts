/** The library API: what the CLI does, callable from code and tests. */
export { build, type BuildResult } from './build.js';
export {
  resolveBuildOptions,
  readConfigFile,
  type BuildOptions,
  type BuildFlags,
  type ConfigFile,
} from './config.js';
export type { CycleConfig, CycleRule } from './cycles.js';
export { ConvbillError, ConfigError, RunError } from './errors.js';
export type { SourceSpec, IngestReport } from './ingest.js';
export { loadModels, runAudits, type Model } from './models.js';
export { query, formatResult, type QueryFormat, type QueryResult } from './query.js';
export { formatSummary, type BuildSummary } from './summary.js';
export { Warehouse } from './warehouse.js';
