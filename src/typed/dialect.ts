/**
 * A Kysely dialect over @duckdb/node-api, so the typed API (src/typed-api.ts)
 * and the package's own reports build SQL with Kysely instead of strings.
 * DuckDB speaks Postgres' SQL closely enough for Kysely's Postgres query
 * compiler ($1… positional parameters, "quoted" identifiers, returning).
 *
 * One DuckDB connection per Kysely instance, used by one query at a time: a
 * transaction or a stream holds it, and the next query waits for its release
 * (so inside a transaction, query through its `trx`: a query on `db` would
 * wait for the transaction to end). The session runs in UTC (`set TimeZone =
 * 'UTC'`, on a wrapped connection too), as every convbill connection does, so
 * date functions on instants agree with the models.
 *
 * Values come back JSON-friendly and exact, as `convbill query --format json`
 * prints them (src/values.ts plainValue) but for the largest integers:
 *   - every integer type (INTEGER, BIGINT, HUGEINT…) → number; a value beyond
 *     ±(2^53 − 1) throws a RangeError naming the column rather than rounding
 *     (cast it to VARCHAR in SQL to read it exactly);
 *   - FLOAT, DOUBLE → number; BOOLEAN → boolean; VARCHAR, UUID → string;
 *   - DECIMAL → string with the column's scale ("12.500000"): a double would
 *     round money;
 *   - TIMESTAMPTZ → UTC ISO-8601 string with its microseconds
 *     ("2024-01-10T09:00:00.123456Z"): a Date would drop them; TIMESTAMP the
 *     same without "Z"; DATE → "YYYY-MM-DD"; ±infinity → "infinity"/"-infinity";
 *   - LIST/ARRAY → arrays and STRUCT → objects of the above; anything else
 *     (INTERVAL, TIME, BLOB, MAP…) → DuckDB's text for it.
 * Parameters: numbers, bigints, strings, booleans, null; a Date binds as a
 * TIMESTAMPTZ; ISO strings compared with instant columns are cast by DuckDB.
 */
import {
  type DuckDBConnection,
  DuckDBArrayValue,
  DuckDBListValue,
  type DuckDBResult,
  DuckDBStructValue,
  type DuckDBValue,
  ResultReturnType,
  StatementType,
  blobValue,
  listValue,
  timestampTZValue,
} from '@duckdb/node-api';
import {
  CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresQueryCompiler,
  type QueryCompiler,
  type QueryResult,
  type SchemaMetadata,
  type TableMetadata,
  type TransactionSettings,
  sql,
} from 'kysely';
import { plainValue } from '../engine/duckdb/values.js';
import { Warehouse, type WarehouseOptions } from '../engine/duckdb/warehouse.js';

export type DuckDBDialectConfig =
  /** opens the file itself (as the project opens any database) and closes it on destroy */
  | ({ path: string } & WarehouseOptions)
  /** uses a connection someone else opened and will close (a build's Warehouse): destroy leaves it open */
  | { connection: DuckDBConnection | Warehouse };

export class DuckDBDialect implements Dialect {
  constructor(private readonly config: DuckDBDialectConfig) {}
  createDriver(): Driver {
    return new DuckDBDriver(this.config);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new DuckDBAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new DuckDBIntrospector(db);
  }
}

class DuckDBAdapter extends PostgresAdapter {
  // Postgres takes an advisory lock; DuckDB has none and needs none: one
  // process writes a file, and this dialect runs one query at a time.
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}

class DuckDBDriver implements Driver {
  #owned: Warehouse | undefined;
  #connection: DuckDBKyselyConnection | undefined;
  #busy: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(private readonly config: DuckDBDialectConfig) {}

  async init(): Promise<void> {
    let raw: DuckDBConnection;
    if ('path' in this.config) {
      const { path, ...options } = this.config;
      this.#owned = await Warehouse.open(path, options);
      raw = this.#owned.duckdb;
    } else {
      const given = this.config.connection;
      raw = given instanceof Warehouse ? given.duckdb : given;
    }
    await raw.run(`set TimeZone = 'UTC'`);
    this.#connection = new DuckDBKyselyConnection(raw);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    while (this.#busy) await this.#busy;
    this.#busy = new Promise((resolve) => (this.#release = resolve));
    if (!this.#connection) throw new Error('The DuckDB dialect has been destroyed.');
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#busy = undefined;
    this.#release = undefined;
    release?.();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.accessMode || settings.isolationLevel) {
      throw new Error('DuckDB transactions have one isolation level (snapshot) and no access modes; pass no settings.');
    }
    await connection.executeQuery(CompiledQuery.raw('begin transaction'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    this.#connection = undefined;
    this.#owned?.close();
    this.#owned = undefined;
  }
}

const WRITES = new Set<StatementType>([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO]);

class DuckDBKyselyConnection implements DatabaseConnection {
  constructor(private readonly connection: DuckDBConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.connection.run(query.sql, bindings(query.parameters));
    // Without RETURNING, DuckDB answers a write with one "Count" row: Kysely wants no rows.
    if (result.returnType === ResultReturnType.CHANGED_ROWS) {
      return { rows: [], numAffectedRows: BigInt(result.rowsChanged) };
    }
    const rows: R[] = [];
    for (let i = 0; i < result.chunkCount; i += 1) rows.push(...(rowObjects(result, result.getChunk(i).getRows()) as R[]));
    return { rows, numAffectedRows: WRITES.has(result.statementType) ? BigInt(rows.length) : undefined };
  }

  /** One result per DuckDB chunk (2048 rows): the engine sizes them, so chunkSize is only a hint. */
  async *streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    const result = await this.connection.stream(query.sql, bindings(query.parameters));
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) return;
      yield { rows: rowObjects(result, chunk.getRows()) as R[] };
    }
  }
}

/** undefined when there are none: DuckDB then accepts several statements in one text. */
function bindings(parameters: readonly unknown[]): DuckDBValue[] | undefined {
  return parameters.length ? parameters.map(binding) : undefined;
}

function binding(value: unknown): DuckDBValue {
  if (value === undefined) return null;
  if (value instanceof Date) return timestampTZValue(BigInt(value.getTime()) * 1000n);
  if (value instanceof Uint8Array) return blobValue(value);
  if (Array.isArray(value)) return listValue(value.map(binding));
  return value as DuckDBValue;
}

function rowObjects(result: DuckDBResult, rows: DuckDBValue[][]): Record<string, unknown>[] {
  const columns = result.columnNames();
  return rows.map((row) => Object.fromEntries(columns.map((column, i) => [column, jsValue(row[i] ?? null, column)])));
}

/** The mapping the module header documents. */
function jsValue(value: DuckDBValue, column: string): unknown {
  if (typeof value === 'bigint') {
    if (Number.isSafeInteger(Number(value))) return Number(value);
    throw new RangeError(`Column "${column}" holds ${value}, beyond the integers a JS number holds exactly; cast it to VARCHAR in SQL.`);
  }
  if (value instanceof DuckDBListValue || value instanceof DuckDBArrayValue) return value.items.map((item) => jsValue(item, column));
  if (value instanceof DuckDBStructValue) {
    return Object.fromEntries(Object.entries(value.entries).map(([key, item]) => [key, jsValue(item, `${column}.${key}`)]));
  }
  return plainValue(value);
}

/** Tables and views of the open database (not attached ones), from information_schema. */
class DuckDBIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const rows = await this.db
      .selectFrom('information_schema.schemata')
      .select('schema_name')
      .where('catalog_name', '=', sql<string>`current_database()`)
      .orderBy('schema_name')
      .execute();
    return rows.map((row) => ({ name: row.schema_name as string }));
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    let query = this.db
      .selectFrom('information_schema.columns as c')
      .innerJoin('information_schema.tables as t', (join) =>
        join
          .onRef('c.table_catalog', '=', 't.table_catalog')
          .onRef('c.table_schema', '=', 't.table_schema')
          .onRef('c.table_name', '=', 't.table_name'),
      )
      .select(['c.table_schema', 'c.table_name', 't.table_type', 'c.column_name', 'c.data_type', 'c.is_nullable', 'c.column_default'])
      .where('c.table_catalog', '=', sql<string>`current_database()`)
      .orderBy('c.table_schema')
      .orderBy('c.table_name')
      .orderBy('c.ordinal_position');
    if (!options.withInternalKyselyTables) {
      query = query.where('c.table_name', 'not in', [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE]);
    }
    const tables = new Map<string, TableMetadata>();
    for (const row of await query.execute()) {
      const key = `${row.table_schema}.${row.table_name}`;
      let table = tables.get(key);
      if (!table) {
        table = { schema: row.table_schema, name: row.table_name, isView: row.table_type === 'VIEW', columns: [] };
        tables.set(key, table);
      }
      const defaultValue = row.column_default as string | null;
      table.columns.push({
        name: row.column_name,
        dataType: row.data_type,
        isNullable: row.is_nullable === 'YES',
        hasDefaultValue: defaultValue !== null,
        isAutoIncrementing: defaultValue?.startsWith('nextval(') ?? false,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}
