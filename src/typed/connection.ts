/**
 * The dialect's connection: runs Kysely's compiled queries on DuckDB and
 * maps the values both ways.
 *
 * Values come back JSON-friendly and exact, as `convbill query --format json`
 * prints them (src/engine/values.ts plainValue) but for the largest integers:
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
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import { plainValue } from '../engine/duckdb/values.js';

const WRITES = new Set<StatementType>([StatementType.INSERT, StatementType.UPDATE, StatementType.DELETE, StatementType.MERGE_INTO]);

export class DuckDBKyselyConnection implements DatabaseConnection {
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
