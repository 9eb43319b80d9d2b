/**
 * Writes the seeded synthetic log of bench/generate.sql to a Parquet file.
 *   node dist/bench/generate.js --rows 10000000 --out /tmp/bench/10m.parquet [--seed 42]
 */
import { parseArgs } from 'node:util';
import { Warehouse } from '../src/warehouse.js';
import { benchSql } from './sql-template.js';

export async function generate(rows: number, path: string, seed = 42): Promise<void> {
  const warehouse = await Warehouse.open(':memory:');
  try {
    await warehouse.run(benchSql('generate.sql', { rows, seed, path: path.replaceAll("'", "''") }));
  } finally {
    warehouse.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, out: { type: 'string' }, seed: { type: 'string', default: '42' } } });
  if (!values.out) throw new Error('--out FILE is required');
  await generate(Number(values.rows), values.out, Number(values.seed));
}
