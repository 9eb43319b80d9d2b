/**
 * One Arrow column per DuckDB result column, filled vector by vector from
 * DuckDB's chunks and handed over as Arrow Data once a batch is full.
 *
 * Types are kept exact: instants are Timestamp(MICROSECOND, "UTC") holding
 * DuckDB's own microseconds (never a JS Date, which keeps milliseconds), and
 * DECIMAL is Arrow's 128-bit Decimal holding DuckDB's scaled integer, or,
 * when asked (`decimals: 'string'`), DuckDB's own exact text for it.
 */
import {
  type DuckDBDateValue,
  type DuckDBDecimalType,
  type DuckDBDecimalValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue,
  type DuckDBVector,
} from '@duckdb/node-api';
import {
  Bool,
  type Data,
  type DataType,
  DateDay,
  Decimal,
  Field,
  Float32,
  Float64,
  Int8,
  Int16,
  Int32,
  Int64,
  TimestampMicrosecond,
  Uint8,
  Uint16,
  Uint32,
  Uint64,
  Utf8,
  makeData,
} from 'apache-arrow';
import { RunError } from '../engine/errors.js';

/** `array` with room for `needed` items, doubling so appends cost amortised O(1). */
function grown<T extends ArrayBufferView & { readonly length: number }>(array: T, needed: number, make: (length: number) => T): T {
  if (needed <= array.length) return array;
  const bigger = make(Math.max(needed, array.length * 2));
  new Uint8Array(bigger.buffer, bigger.byteOffset, array.byteLength).set(new Uint8Array(array.buffer, array.byteOffset, array.byteLength));
  return bigger;
}

/**
 * One column of the batch being built: values appended chunk by chunk,
 * then handed over as Arrow Data (validity bitmap: bit i set when row i
 * holds a value) and started afresh.
 */
export abstract class Column {
  protected rows = 0;
  private valid = new Uint8Array(0);
  private nulls = 0;

  constructor(readonly field: Field) {}

  append(vector: DuckDBVector, count: number): void {
    this.reserve(this.rows + count);
    this.valid = grown(this.valid, (this.rows + count + 7) >> 3, (n) => new Uint8Array(n));
    for (let i = 0; i < count; i += 1, this.rows += 1) {
      const value = vector.getItem(i);
      if (value === null) {
        this.nulls += 1;
      } else {
        this.valid[this.rows >> 3]! |= 1 << (this.rows & 7);
        this.put(value, this.rows);
      }
    }
  }

  finish(): Data {
    const validity = this.nulls === 0 ? { nullCount: 0 } : { nullCount: this.nulls, nullBitmap: this.valid.slice(0, (this.rows + 7) >> 3) };
    const data = this.data(this.rows, validity);
    this.rows = 0;
    this.nulls = 0;
    this.valid = new Uint8Array(0);
    return data;
  }

  protected abstract reserve(rows: number): void;
  protected abstract put(value: DuckDBValue, row: number): void;
  protected abstract data(rows: number, validity: { nullCount: number; nullBitmap?: Uint8Array }): Data;
}

type Fixed = Int8Array | Int16Array | Int32Array | BigInt64Array | Uint8Array | Uint16Array | Uint32Array | BigUint64Array | Float32Array | Float64Array;

/** One value per row in a typed array; `read` picks the number out of DuckDB's value. */
class FixedColumn<T extends Fixed> extends Column {
  private values: T;

  constructor(field: Field, private readonly make: (length: number) => T, private readonly read: (value: DuckDBValue) => number | bigint) {
    super(field);
    this.values = make(0);
  }

  protected reserve(rows: number): void {
    this.values = grown(this.values, rows, this.make);
  }

  protected put(value: DuckDBValue, row: number): void {
    this.values[row] = this.read(value) as never;
  }

  protected data(rows: number, validity: { nullCount: number; nullBitmap?: Uint8Array }): Data {
    const values = this.values.slice(0, rows);
    this.values = this.make(0);
    return makeData({ type: this.field.type as DataType, length: rows, data: values, ...validity } as never);
  }
}

/** 128-bit two's complement in little-endian 64-bit halves: Arrow's Decimal128 layout. */
class DecimalColumn extends Column {
  private words = new BigInt64Array(0);

  constructor(field: Field, private readonly read: (value: DuckDBValue) => bigint) {
    super(field);
  }

  protected reserve(rows: number): void {
    this.words = grown(this.words, rows * 2, (n) => new BigInt64Array(n));
  }

  protected put(value: DuckDBValue, row: number): void {
    const scaled = this.read(value);
    this.words[row * 2] = BigInt.asIntN(64, scaled);
    this.words[row * 2 + 1] = scaled >> 64n;
  }

  protected data(rows: number, validity: { nullCount: number; nullBitmap?: Uint8Array }): Data {
    const words = this.words.slice(0, rows * 2);
    this.words = new BigInt64Array(0);
    return makeData({ type: this.field.type as Decimal, length: rows, data: new Uint32Array(words.buffer), ...validity });
  }
}

class BoolColumn extends Column {
  private bits = new Uint8Array(0);

  protected reserve(rows: number): void {
    this.bits = grown(this.bits, (rows + 7) >> 3, (n) => new Uint8Array(n));
  }

  protected put(value: DuckDBValue, row: number): void {
    if (value === true) this.bits[row >> 3]! |= 1 << (row & 7);
  }

  protected data(rows: number, validity: { nullCount: number; nullBitmap?: Uint8Array }): Data {
    const bits = this.bits.slice(0, (rows + 7) >> 3);
    this.bits = new Uint8Array(0);
    return makeData({ type: this.field.type as Bool, length: rows, data: bits, ...validity });
  }
}

/** UTF-8 bytes with 32-bit offsets; `text` renders values that are not strings. */
class Utf8Column extends Column {
  private offsets = new Int32Array(1);
  private bytes: Buffer = Buffer.alloc(0);
  private end = 0;
  /** rows whose end offset is written */
  private filled = 0;

  constructor(field: Field, private readonly text: (value: DuckDBValue) => string) {
    super(field);
  }

  protected reserve(rows: number): void {
    this.offsets = grown(this.offsets, rows + 1, (n) => new Int32Array(n));
  }

  protected put(value: DuckDBValue, row: number): void {
    // Null rows since the last value are zero-length: their offsets repeat the current end.
    if (row > this.filled) this.offsets.fill(this.end, this.filled + 1, row + 1);
    const string = this.text(value);
    const needed = this.end + Buffer.byteLength(string, 'utf8');
    if (needed > 0x7fffffff) throw new RunError(`Column ${this.field.name} holds over 2 GiB of text in one batch; lower batchRows.`);
    this.bytes = grown(this.bytes, needed, (n) => Buffer.allocUnsafeSlow(n));
    this.end += this.bytes.write(string, this.end, 'utf8');
    this.offsets[row + 1] = this.end;
    this.filled = row + 1;
  }

  protected data(rows: number, validity: { nullCount: number; nullBitmap?: Uint8Array }): Data {
    this.offsets.fill(this.end, this.filled + 1, rows + 1);
    const offsets = this.offsets.slice(0, rows + 1);
    const bytes = new Uint8Array(this.bytes.subarray(0, this.end));
    this.offsets = new Int32Array(1);
    this.bytes = Buffer.alloc(0);
    this.end = 0;
    this.filled = 0;
    return makeData({ type: this.field.type as Utf8, length: rows, valueOffsets: offsets, data: bytes, ...validity });
  }
}

const micros = (value: DuckDBValue) => (value as { micros: bigint }).micros;
const number = (value: DuckDBValue) => value as number;
const big = (value: DuckDBValue) => value as bigint;

/** How DECIMAL (and HUGEINT, which Arrow holds as a decimal) columns come out. */
export type DecimalOutput = 'decimal' | 'string';

export function columnFor(name: string, type: DuckDBType, decimals: DecimalOutput = 'decimal'): Column {
  const field = (arrowType: DataType) => new Field(name, arrowType, true);
  if (decimals === 'string' && (type.typeId === DuckDBTypeId.DECIMAL || type.typeId === DuckDBTypeId.HUGEINT)) {
    // DuckDBDecimalValue's text is DuckDB's own: every digit of the scale kept, as `amount::varchar` prints it
    return new Utf8Column(field(new Utf8()), (value) => String(value));
  }
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN: return new BoolColumn(field(new Bool()));
    case DuckDBTypeId.TINYINT: return new FixedColumn(field(new Int8()), (n) => new Int8Array(n), number);
    case DuckDBTypeId.SMALLINT: return new FixedColumn(field(new Int16()), (n) => new Int16Array(n), number);
    case DuckDBTypeId.INTEGER: return new FixedColumn(field(new Int32()), (n) => new Int32Array(n), number);
    case DuckDBTypeId.BIGINT: return new FixedColumn(field(new Int64()), (n) => new BigInt64Array(n), big);
    case DuckDBTypeId.UTINYINT: return new FixedColumn(field(new Uint8()), (n) => new Uint8Array(n), number);
    case DuckDBTypeId.USMALLINT: return new FixedColumn(field(new Uint16()), (n) => new Uint16Array(n), number);
    case DuckDBTypeId.UINTEGER: return new FixedColumn(field(new Uint32()), (n) => new Uint32Array(n), number);
    case DuckDBTypeId.UBIGINT: return new FixedColumn(field(new Uint64()), (n) => new BigUint64Array(n), big);
    case DuckDBTypeId.FLOAT: return new FixedColumn(field(new Float32()), (n) => new Float32Array(n), number);
    case DuckDBTypeId.DOUBLE: return new FixedColumn(field(new Float64()), (n) => new Float64Array(n), number);
    // Arrow has no 128-bit integer; a 38-digit, scale-0 decimal holds every count a report sums.
    case DuckDBTypeId.HUGEINT: return new DecimalColumn(field(new Decimal(0, 38, 128)), big);
    case DuckDBTypeId.DECIMAL: {
      const { width, scale } = type as DuckDBDecimalType;
      return new DecimalColumn(field(new Decimal(scale, width, 128)), (value) => (value as DuckDBDecimalValue).value);
    }
    case DuckDBTypeId.TIMESTAMP_TZ: return new FixedColumn(field(new TimestampMicrosecond('UTC')), (n) => new BigInt64Array(n), micros);
    case DuckDBTypeId.TIMESTAMP: return new FixedColumn(field(new TimestampMicrosecond()), (n) => new BigInt64Array(n), micros);
    case DuckDBTypeId.DATE: return new FixedColumn(field(new DateDay()), (n) => new Int32Array(n), (value) => (value as DuckDBDateValue).days);
    case DuckDBTypeId.VARCHAR: return new Utf8Column(field(new Utf8()), (value) => value as string);
    // No published table has any other type; an ad hoc query still gets DuckDB's own text for it.
    default: return new Utf8Column(field(new Utf8()), (value) => String(value));
  }
}
