/**
 * The engine floor of issue #2: bench/floor-counts.sql, hand-written DuckDB
 * SQL with no convbill code, counting conversations straight from Parquet.
 *   node dist/bench/floor.js --input /tmp/bench/10m.parquet --as-of 2026-01-01 --out /tmp/floor.parquet
 */
import { parseArgs } from 'node:util';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { benchSql } from './sql-template.js';

export async function countsFloor(input: string, asOf: string, out: string): Promise<void> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    await warehouse.run(benchSql('floor-counts.sql', { path: input, as_of: asOf, out }));
  } finally {
    warehouse.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { input: { type: 'string' }, 'as-of': { type: 'string' }, out: { type: 'string' } } });
  if (!values.input || !values['as-of'] || !values.out) throw new Error('--input, --as-of and --out are required');
  await countsFloor(values.input, values['as-of'], values.out);
}
