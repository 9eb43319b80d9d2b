/**
 * The engine boundary: every statement convbill runs reaches the database
 * through this interface, so a module that only runs SQL does not know
 * which engine is behind it. DuckDB (`engine/duckdb/warehouse.ts`) is the
 * only implementation today; a second engine adds its own folder beside it,
 * and the SQL that differs between engines lives in its macros
 * (`sql/macros/<dialect>/`), not in `if` branches here or in the callers.
 */

export type Row = Record<string, unknown>;

/** A value bound to a `$name` placeholder. */
export type SqlParam = string | number | bigint | boolean | null;
export type Params = Record<string, SqlParam>;

/** What `copy` writes: Parquet, CSV with a header line, or newline-delimited JSON. */
export type CopyFormat = 'parquet' | 'csv' | 'json';

export interface CopyOptions {
  /**
   * one folder per combination of these columns' values (`col=value/`), `path` being the root folder;
   * the columns name folders only and are not written in the files
   */
  partitionBy?: string[];
  /** the files' names inside each partition folder; `{i}` numbers them */
  filenamePattern?: string;
  /** Parquet: cap each row group at about this many bytes (bounds the writer's memory) */
  rowGroupSizeBytes?: number;
  /** CSV: write the header line (default true) */
  csvHeader?: boolean;
  /** CSV: how a null is written (default: an empty field) */
  nullString?: string;
}

/** The SQL dialects convbill has macros for: the name of a folder of `sql/macros/`. */
export type Dialect = 'duckdb' | 'clickhouse';

export interface Engine {
  /** the database it opened (`:memory:` for a scratch one) */
  readonly path: string;
  /** whose macros the models call (`sql/macros/<dialect>/`) */
  readonly dialect: Dialect;
  run(sql: string, params?: Params): Promise<void>;
  /** Rows as plain JS values (BIGINT as bigint; instants as the engine's own value objects). */
  rows<T extends Row = Row>(sql: string, params?: Params): Promise<T[]>;
  /** The first column of the first row (undefined when there is none). */
  value<T>(sql: string, params?: Params): Promise<T>;
  /** A result in chunks of rows, as JS values, for results too big to hold at once. */
  stream(sql: string): AsyncGenerator<unknown[][]>;
  /** Rows with their column names, cells in the engine's own value types, for printing. */
  table(sql: string): Promise<{ columns: string[]; rows: unknown[][] }>;
  /** Runs `work` in one transaction: all of it lands, or none of it. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** Writes the result of `select` to `path` in `format`; resolves to the number of rows written. */
  copy(select: string, path: string, format: CopyFormat, options?: CopyOptions): Promise<number>;
  /** A table's column names in order, empty when there is no such table. */
  columnsOf(table: string): Promise<string[]>;
  /** Progress of the running statement in percent, -1 when the engine cannot tell. */
  progress(): number;
  close(): void;
}
