/**
 * A Kysely dialect over @clickhouse/client, for the warehouse a ClickHouse
 * build writes: the same typed API (open-warehouse.ts) as on DuckDB, the same
 * tables and the same JS values, instants included. Laid out as the DuckDB
 * dialect (src/typed/dialect.ts) is, with its own query compiler
 * (compiler.ts), since ClickHouse 18.16 takes no query parameters.
 *
 * Instants are Int64 epoch milliseconds in ClickHouse: they come back as ISO
 * strings, but a filter on one compares with a Date (written as its
 * milliseconds) or a number, not with an ISO string.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { DatabaseIntrospector, Dialect, DialectAdapter, Driver, Kysely, QueryCompiler } from 'kysely';
import type { ClickHouseSettings } from '../../config/build-options.js';
import type { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import { ClickHouseAdapter } from './adapter.js';
import { ClickHouseQueryCompiler } from './compiler.js';
import { ClickHouseDriver } from './driver.js';
import { ClickHouseIntrospector } from './introspector.js';

export type ClickHouseDialectConfig = (
  /** opens a client to settings.url and settings.database, and closes it on destroy */
  | { settings: ClickHouseSettings }
  /** uses a client someone else opened and will close (a build's cluster: its entry node) */
  | { client: ClickHouseClient | ClickHouseCluster }
) & {
  /** send `readonly=1` and refuse statements that are not reads; default false */
  readOnly?: boolean;
};

export class ClickHouseDialect implements Dialect {
  constructor(private readonly config: ClickHouseDialectConfig) {}
  createDriver(): Driver {
    return new ClickHouseDriver(this.config);
  }
  createQueryCompiler(): QueryCompiler {
    return new ClickHouseQueryCompiler();
  }
  createAdapter(): DialectAdapter {
    return new ClickHouseAdapter();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new ClickHouseIntrospector(db);
  }
}
