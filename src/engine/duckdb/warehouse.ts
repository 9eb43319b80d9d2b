/**
 * The DuckDB engine: opening a database file with the session settings every
 * model relies on, and the Engine interface (engine/engine.ts) over the
 * driver, so other modules never touch it.
 */
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { CopyFormat, CopyOptions, Engine, Row } from '../engine.js';
import { ConfigError, RunError, engineMessage } from '../errors.js';
import { sqlIdentifier, sqlInteger, sqlString } from '../sql-text.js';
import { type Sandbox, checkOneStatement, lockDown, runUserSql } from './sandbox.js';

export interface WarehouseOptions {
  readOnly?: boolean;
  /** DuckDB worker threads (default: one per core) */
  threads?: number;
  /** DuckDB memory limit, e.g. "2GB" (default: 80% of RAM); past it, work spills to tempDirectory */
  memoryLimit?: string;
  /** where spilled work goes (default: DuckDB's `<database>.tmp`) */
  tempDirectory?: string;
  /** false lets DuckDB write results in any order (and cap Parquet row groups in bytes) */
  preserveInsertionOrder?: boolean;
  /**
   * The session runs SQL a user wrote: locked down once convbill's own
   * settings are in place (sandbox.ts); no setting can change afterwards.
   */
  sandbox?: Sandbox;
}

const COPY_FORMATS: readonly CopyFormat[] = ['parquet', 'csv', 'json'];
const IN_MEMORY = ':memory:';

export class Warehouse implements Engine {
  readonly dialect = 'duckdb' as const;

  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** the database's catalog name, asked once: columnsOf qualifies names with it */
  private catalog: string | undefined;

  static async open(path: string, options: WarehouseOptions = {}): Promise<Warehouse> {
    if (options.readOnly && path !== IN_MEMORY && !existsSync(path)) {
      throw new ConfigError(`Database ${path} does not exist; run "convbill build" first or pass --db.`);
    }
    const config: Record<string, string> = {};
    if (options.readOnly) config.access_mode = 'READ_ONLY';
    if (options.threads !== undefined) config.threads = String(options.threads);
    if (options.memoryLimit !== undefined) config.memory_limit = options.memoryLimit;
    if (options.tempDirectory !== undefined) config.temp_directory = options.tempDirectory;
    if (options.preserveInsertionOrder !== undefined) config.preserve_insertion_order = String(options.preserveInsertionOrder);
    let instance: DuckDBInstance;
    try {
      instance = await DuckDBInstance.create(path, config);
    } catch (error) {
      const holder = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(String(error));
      if (holder || /Could not set lock/.test(String(error))) {
        throw new RunError(
          `Database ${path} is locked by another process${holder ? ` (PID ${holder[2]}, ${holder[1]})` : ''}, ` +
            'most likely a convbill build still running; nothing was changed, try again when it has finished.',
          { cause: error },
        );
      }
      throw new RunError(`Cannot open database ${path}: ${engineMessage(error)}.`, { cause: error });
    }
    const connection = await instance.connect();
    const warehouse = new Warehouse(path, instance, connection);
    // Every instant is computed and printed in UTC, whatever the machine's zone:
    // the models cast naive timestamps under this setting.
    await warehouse.run(`set TimeZone = 'UTC'`);
    // DuckDB measures query progress only with its bar on; Node reads it.
    await warehouse.run(`set enable_progress_bar = true`);
    await warehouse.run(`set enable_progress_bar_print = false`);
    // A published copy's views name their Parquet relative to its folder
    // (build/publish.ts); DuckDB looks in the working directory, then here.
    const home = path === IN_MEMORY ? undefined : dirname(resolve(path));
    if (home !== undefined && !home.includes(',')) await warehouse.run(`set file_search_path = ${sqlString(home)}`);
    if (options.sandbox) {
      await lockDown(connection, options.sandbox, home).catch((error: unknown) => {
        warehouse.close();
        throw new RunError(`Cannot open database ${path} for reading: ${engineMessage(error)}.`, { cause: error });
      });
    }
    return warehouse;
  }

  /** Progress of the running query in percent, -1 when DuckDB cannot tell. */
  progress(): number {
    try {
      return this.connection.progress.percentage;
    } catch {
      return -1;
    }
  }

  async run(sql: string, params?: Record<string, DuckDBValue>): Promise<void> {
    await this.connection.run(sql, params);
  }

  /** Rows as plain JS values (BIGINT as bigint, TIMESTAMPTZ as DuckDB value objects). */
  async rows<T extends Row = Row>(sql: string, params?: Record<string, DuckDBValue>): Promise<T[]> {
    const reader = await this.connection.runAndReadAll(sql, params);
    return reader.getRowObjectsJS() as T[];
  }

  /** Rows with their column names and DuckDB type names, for printing. */
  async table(sql: string): Promise<{ columns: string[]; rows: DuckDBValue[][] }> {
    const reader = await this.connection.runAndReadAll(sql);
    return { columns: reader.columnNames(), rows: reader.getRows() };
  }

  /**
   * SQL a user wrote, in a session opened with `sandbox`: its statements in
   * turn, ATTACH and DETACH refused before they run; the last one's rows.
   */
  async userTable(sql: string): Promise<{ columns: string[]; rows: DuckDBValue[][] }> {
    const reader = await runUserSql(this.connection, sql);
    return { columns: reader.columnNames(), rows: reader.getRows() };
  }

  /** Checks, without running it, that `sql` is one statement a sandboxed session allows (its files included). */
  async checkUserStatement(sql: string): Promise<void> {
    await checkOneStatement(this.connection, sql);
  }

  /** Streams a result chunk by chunk (about 2048 rows each), as JS values. */
  async *stream(sql: string): AsyncGenerator<unknown[][]> {
    const result = await this.connection.stream(sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      yield chunk.getRows();
    }
  }

  async value<T>(sql: string, params?: Record<string, DuckDBValue>): Promise<T> {
    const [row] = await this.rows(sql, params);
    return (row ? Object.values(row)[0] : undefined) as T;
  }

  /** DuckDB's COPY, which streams the result to the file without holding it. */
  async copy(select: string, path: string, format: CopyFormat, options: CopyOptions = {}): Promise<number> {
    if (!COPY_FORMATS.includes(format)) throw new ConfigError(`Cannot copy to ${path}: unknown format "${format}".`);
    const how = [`format ${format}`];
    if (format === 'csv') how.push(`header ${options.csvHeader === false ? 'false' : 'true'}`);
    if (options.nullString !== undefined) how.push(`nullstr ${sqlString(options.nullString)}`);
    if (options.rowGroupSizeBytes !== undefined) how.push(`row_group_size_bytes ${sqlInteger(options.rowGroupSizeBytes)}`);
    if (options.partitionBy) {
      how.push(`partition_by (${options.partitionBy.map(sqlIdentifier).join(', ')})`, 'write_partition_columns false');
    }
    if (options.filenamePattern !== undefined) how.push(`filename_pattern ${sqlString(options.filenamePattern)}`);
    return Number(await this.value<bigint | number>(`copy (${select}) to ${sqlString(path)} (${how.join(', ')})`));
  }

  /**
   * DuckDB only, not part of Engine: the driver's connection, for the modules
   * that need its typed values or its chunks in columns (the Kysely dialect,
   * Arrow). Code that only runs statements uses the Engine methods instead.
   */
  get duckdb(): DuckDBConnection {
    return this.connection;
  }

  /** A table's column names in order, empty when there is no such table (schema main). */
  async columnsOf(table: string): Promise<string[]> {
    // pragma_table_info reads one table's entry, where duckdb_columns() lists
    // every column of every catalog: a build asks some forty times, and the
    // difference was about a tenth of a small build. Its argument is a name
    // DuckDB parses again, so a catalog named with quotes or spaces takes the
    // catalog scan. A catalog error leaves an open transaction usable.
    this.catalog ??= await this.value<string>('select current_database()');
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(this.catalog) && /^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      try {
        const rows = await this.rows<{ name: string }>(`select name from pragma_table_info(${sqlString(`${this.catalog}.main.${table}`)}) order by cid`);
        return rows.map((row) => row.name);
      } catch (error) {
        // no such table; any other complaint (a catalog named like a keyword) takes the scan below
        if (/Catalog Error: Table with name .* does not exist/.test(String(error))) return [];
      }
    }
    const rows = await this.rows<{ column_name: string }>(
      `select column_name from duckdb_columns()
       where database_name = current_database() and schema_name = 'main' and table_name = $table
       order by column_index`,
      { table },
    );
    return rows.map((row) => row.column_name);
  }

  /** Runs `work` in one transaction: all of it lands, or none of it. */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    await this.run('begin transaction');
    try {
      const result = await work();
      await this.run('commit');
      return result;
    } catch (error) {
      await this.run('rollback').catch(() => undefined);
      throw error;
    }
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
