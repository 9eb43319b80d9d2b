/**
 * Small reference files (the cycle calendar, the integrations list) read by
 * DuckDB into a temp table of text columns, with their row numbers, so the
 * loaders can validate them in SQL and name the row at fault.
 */
import { existsSync } from 'node:fs';
import { ConfigError, engineMessage } from '../engine/errors.js';
import { formatOf } from '../ingest/ingest.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';

export interface ReferenceFile {
  /** how errors name it: "Cycles file", "Integrations file" */
  label: string;
  file: string;
  /** the temp table to fill: source_row plus the file's columns, as text */
  table: string;
  required: string[];
  optional: string[];
}

/** Reads the file and returns the names of the columns it has. */
export async function readReferenceFile(warehouse: Engine, spec: ReferenceFile): Promise<string[]> {
  const { label, file, table } = spec;
  if (!existsSync(file)) throw new ConfigError(`${label} ${file} does not exist.`);
  const jsonColumns = [...spec.required, ...spec.optional].map((name) => `${sqlString(name)}: 'VARCHAR'`).join(', ');
  const reader = formatOf(file) === 'json'
    ? `read_json(${sqlString(file)}, format = 'auto', columns = {${jsonColumns}})`
    : `read_csv(${sqlString(file)}, header = true, all_varchar = true)`;
  try {
    await warehouse.run(`create or replace temp table ${table} as select row_number() over () as source_row, * from ${reader}`);
  } catch (error) {
    throw new ConfigError(`Cannot read ${label.toLowerCase()} ${file}: ${engineMessage(error)}.`, { cause: error });
  }
  const columns = (await warehouse.rows<{ column_name: string }>(`describe ${table}`)).map((row) => row.column_name);
  for (const required of spec.required) {
    if (!columns.includes(required)) throw new ConfigError(`${label} ${file} has no column "${required}".`);
  }
  return columns;
}
