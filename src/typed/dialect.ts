/**
 * A Kysely dialect over @duckdb/node-api, so the typed API (open-warehouse.ts)
 * and the package's own reports build SQL with Kysely instead of strings.
 * Laid out as Kysely's own dialects are: this file (the dialect and its
 * config), driver.ts, connection.ts (and the value mapping), introspector.ts,
 * adapter.ts. DuckDB speaks Postgres' SQL closely enough for Kysely's
 * Postgres query compiler ($1… positional parameters, "quoted" identifiers,
 * returning), so that is reused as it is.
 *
 * One DuckDB connection per Kysely instance, used by one query at a time: a
 * transaction or a stream holds it, and the next query waits for its release
 * (so inside a transaction, query through its `trx`: a query on `db` would
 * wait for the transaction to end). The session runs in UTC (`set TimeZone =
 * 'UTC'`, on a wrapped connection too), as every convbill connection does, so
 * date functions on instants agree with the models.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import {
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  PostgresQueryCompiler,
  type QueryCompiler,
} from 'kysely';
import type { Warehouse, WarehouseOptions } from '../engine/duckdb/warehouse.js';
import { DuckDBAdapter } from './adapter.js';
import { DuckDBDriver } from './driver.js';
import { DuckDBIntrospector } from './introspector.js';

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
