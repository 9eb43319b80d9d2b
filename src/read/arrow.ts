/**
 * Query results as apache-arrow record batches, for notebooks, BI tools and
 * `convbill export --format arrow` (arrow-ipc.ts). Batches are built straight
 * from the data chunks of a DuckDB streaming result, so a table larger than
 * memory goes through a few chunks at a time and is never read whole; each
 * column's values are copied as arrow-columns.ts says, types kept exact.
 */
import { DuckDBDecimalValue, type DuckDBType } from '@duckdb/node-api';
import { RecordBatch, Schema, Struct, Table, makeData } from 'apache-arrow';
import { RunError, engineMessage } from '../engine/errors.js';
import { isRefusal } from '../engine/duckdb/sandbox.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { sqlIdentifier } from '../engine/sql-text.js';
import { type DecimalOutput, columnFor } from './arrow-columns.js';
import { checkedFolders } from './query.js';

export interface ArrowOptions {
  /** rows per record batch (default 65,536), rounded up to whole DuckDB chunks (2,048 rows); memory held is about one batch */
  batchRows?: number;
  /** when opening a database by path: DuckDB's memory limit and threads */
  memoryLimit?: string;
  threads?: number;
  /** when opening a database by path: folders the SQL may read files from (as query's); none by default */
  allowedDirectories?: string[];
  /**
   * 'decimal' (default): DECIMAL and HUGEINT columns are Arrow Decimal128, exact, which
   * apache-arrow hands back as the unscaled integer (see decimalString);
   * 'string': Utf8 columns of DuckDB's exact text, '12.500000', ready for JSON.
   */
  decimals?: DecimalOutput;
}

const DEFAULT_BATCH_ROWS = 65_536;

/** A bare (schema.)table name reads the whole table; anything else is SQL. */
export function selectOf(sqlOrTable: string): string {
  const name = sqlOrTable.trim();
  if (/^[A-Za-z_]\w*(\.[A-Za-z_]\w*)?$/.test(name)) return `select * from ${name.split('.').map(sqlIdentifier).join('.')}`;
  return sqlOrTable;
}

/**
 * Record batches of a query or table, streamed. `source` is an open
 * Warehouse (left open) or a database path (opened read-only and sandboxed
 * like `query`, closed at the end). At least one batch is yielded, empty
 * when there are no rows, so a reader always learns the schema.
 */
export async function* arrowBatches(
  source: Warehouse | string,
  sqlOrTable: string,
  options: ArrowOptions = {},
): AsyncGenerator<RecordBatch> {
  const owned =
    typeof source === 'string'
      ? await Warehouse.open(source, {
          readOnly: true,
          memoryLimit: options.memoryLimit,
          threads: options.threads,
          sandbox: { allowedDirectories: checkedFolders(options.allowedDirectories ?? [], 'allowedDirectories') },
        })
      : undefined;
  const warehouse = owned ?? (source as Warehouse);
  const batchRows = Math.max(1, options.batchRows ?? DEFAULT_BATCH_ROWS);
  const fail = (error: unknown) =>
    new RunError(`Query ${isRefusal(error) ? 'refused' : 'failed'}: ${engineMessage(error)}.`, { cause: error });
  const select = selectOf(sqlOrTable);
  try {
    // a stream runs every statement of its text: one statement, checked first, when the session is ours
    if (owned) await owned.checkUserStatement(select).catch((error: unknown) => {
      throw fail(error);
    });
    const result = await warehouse.duckdb.stream(select).catch((error: unknown) => {
      throw fail(error);
    });
    const types = result.columnTypes();
    const columns = result.deduplicatedColumnNames().map((name, i) => columnFor(name, types[i] as DuckDBType, options.decimals));
    const schema = new Schema(columns.map((column) => column.field));
    const batch = (rows: number) => {
      const children = columns.map((column) => column.finish());
      return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children }));
    };
    let rows = 0;
    let yielded = false;
    for (;;) {
      const chunk = await result.fetchChunk().catch((error: unknown) => {
        throw fail(error);
      });
      if (!chunk || chunk.rowCount === 0) break;
      // Each chunk is copied out at once and dropped: a chunk kept across awaits outlives V8's
      // young generation, and its native memory, unseen by V8, then waits for a full GC.
      columns.forEach((column, index) => column.append(chunk.getColumnVector(index), chunk.rowCount));
      rows += chunk.rowCount;
      if (rows >= batchRows) {
        yield batch(rows);
        yielded = true;
        rows = 0;
      }
    }
    if (rows > 0 || !yielded) yield batch(rows);
  } finally {
    owned?.close();
  }
}

/** The whole result as one apache-arrow Table (for results that fit in memory). */
export async function arrowTable(source: Warehouse | string, sqlOrTable: string, options: ArrowOptions = {}): Promise<Table> {
  const batches: RecordBatch[] = [];
  for await (const batch of arrowBatches(source, sqlOrTable, options)) batches.push(batch);
  return new Table(batches);
}

/**
 * An Arrow Decimal value as exact text at the column's scale, as DuckDB
 * prints it ('12.500000', '-0.000001'). apache-arrow returns a Decimal
 * cell as its unscaled two's-complement integer (a DecimalBigNum, a
 * Uint32Array of little-endian words), whose String() and JSON drop the
 * scale and whose Number() rounds; `scale` is the field's
 * (`(field.type as Decimal).scale`). A bigint is taken as the unscaled value.
 */
export function decimalString(value: Uint32Array | bigint, scale: number): string;
export function decimalString(value: Uint32Array | bigint | null, scale: number): string | null;
export function decimalString(value: Uint32Array | bigint | null, scale: number): string | null {
  if (value === null) return null;
  let unscaled = 0n;
  if (typeof value === 'bigint') {
    unscaled = value;
  } else {
    for (let i = value.length - 1; i >= 0; i -= 1) unscaled = (unscaled << 32n) | BigInt(value[i] as number);
    if (value.length > 0 && (value[value.length - 1] as number) & 0x80000000) unscaled -= 1n << BigInt(32 * value.length);
  }
  // width is not used in the text
  return new DuckDBDecimalValue(unscaled, 38, scale).toString();
}
