/**
 * A small ClickHouse result into a DuckDB temp table: the server writes CSV,
 * the bytes go to a temporary file and DuckDB reads it with the columns
 * given. For results whose size does not grow with the history (a night's
 * counts, one account's conversations): no row passes through JavaScript.
 * Instant columns (Int64 epoch milliseconds there) become TIMESTAMPTZ.
 * A temp table unless `persist`.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { Warehouse } from '../duckdb/warehouse.js';
import { sqlIdentifier, sqlString } from '../sql-text.js';

export type PulledType = 'varchar' | 'bigint' | 'instant';

export async function pullIntoDuckDB(
  client: ClickHouseClient,
  select: string,
  warehouse: Warehouse,
  table: string,
  columns: Record<string, PulledType>,
  settings: ClickHouseSettings = {},
  /** a table of the database file rather than of the session */
  persist = false,
): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'convbill-pull-'));
  try {
    const file = join(folder, `${table}.csv`);
    const result = await client.exec({ query: `${select} format CSVWithNames`, clickhouse_settings: settings });
    await pipeline(result.stream, createWriteStream(file));
    const read = Object.entries(columns).map(([name, type]) => `${sqlString(name)}: '${type === 'varchar' ? 'varchar' : 'bigint'}'`);
    const projected = Object.entries(columns).map(([name, type]) =>
      type === 'instant' ? `make_timestamptz(${sqlIdentifier(name)} * 1000) as ${sqlIdentifier(name)}` : sqlIdentifier(name),
    );
    await warehouse.run(
      `create or replace ${persist ? '' : 'temp '}table ${sqlIdentifier(table)} as
       select ${projected.join(', ')}
       from read_csv(${sqlString(file)}, header = true, nullstr = '\\N', columns = {${read.join(', ')}})`,
    );
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
