/**
 * The typed API: the published facts as a Kysely instance, each published
 * table and column typed (schema.ts, generated from a real build and
 * checked against one by test/typed-api.test.ts). Analysts get checked
 * queries instead of strings; values are mapped as connection.ts says.
 *
 *   const db = openWarehouse();
 *   try { … await db.selectFrom('fct_conversation_counts').selectAll().execute() … }
 *   finally { await db.destroy(); }   // closes the database file: always call it
 *
 * Opening is lazy, as with any Kysely dialect: a missing file, or one a build
 * holds, fails the first query, not this call.
 *
 * With no path and a config whose engine is clickhouse, the Kysely instance
 * reads the configured ClickHouse database instead (clickhouse/dialect.ts),
 * with the same tables and values; destroy closes its HTTP client.
 */
import { Kysely } from 'kysely';
import { resolveBuildOptions } from '../config/build-options.js';
import { DuckDBDialect } from './dialect.js';
import { ClickHouseDialect } from './clickhouse/dialect.js';
import type { Database } from './schema.js';
import { readerDatabase } from '../config/warehouse-paths.js';

export interface OpenWarehouseOptions {
  /**
   * Default true. The published copy is replaced by each build, so writes to
   * it would be lost; pass false only for a database of your own. On
   * ClickHouse, true sends `readonly=1` and runs reads only.
   */
  readOnly?: boolean;
  /** the config file naming the database when no path is given (default: ./convbill.json when present) */
  config?: string;
}

/** `path` defaults to the database readers open (readerDatabase): the published copy of the configured database. */
export function openWarehouse(path?: string, options: OpenWarehouseOptions = {}): Kysely<Database> {
  let target = path;
  if (target === undefined) {
    const resolved = resolveBuildOptions({ config: options.config });
    if (resolved.engine === 'clickhouse' && resolved.clickhouse) {
      return new Kysely<Database>({ dialect: new ClickHouseDialect({ settings: resolved.clickhouse, readOnly: options.readOnly ?? true }) });
    }
    target = readerDatabase(resolved);
  }
  return new Kysely<Database>({ dialect: new DuckDBDialect({ path: target, readOnly: options.readOnly ?? true }) });
}
