/**
 * ClickHouse result values as the same JS the DuckDB dialect returns
 * (src/typed/connection.ts), decided by each column's type as the server
 * names it. results.ts hands every number over as its text, so nothing is
 * rounded before the type is known:
 *   - integer types → number, or a RangeError beyond ±(2^53 − 1) ('text'
 *     mode: the digits as a string, as `convbill query` prints them);
 *   - an Int64 instant column (instantColumn) → UTC ISO-8601, printed by the
 *     DuckDB side's isoFromMicros so both engines give the same text;
 *   - Float32/64 → number (inf and nan included); Decimal → its exact text
 *     with the type's scale, as DuckDB's DECIMAL; Array and Tuple → arrays;
 *   - anything else (String, UUID, Enum, Date, DateTime…) → ClickHouse's text.
 * 18.16 has no Bool: a comparison comes back as the UInt8 1 or 0.
 */
import { isoFromMicros, type PlainValue } from '../duckdb/values.js';

export interface ClickHouseColumn {
  name: string;
  type: string;
}

export type UnsafeIntegers = 'throw' | 'text';

/** The warehouse writes instants as Int64 epoch milliseconds under these names. */
const INSTANT_COLUMNS = new Set(['cycle_start', 'cycle_end', 'first_activity_at', 'last_activity_at', 'started_at', 'ended_at']);

export function instantColumn(name: string): boolean {
  return INSTANT_COLUMNS.has(name) || name.endsWith('_at');
}

const FLOAT_WORDS: Record<string, number> = { inf: Infinity, '+inf': Infinity, '-inf': -Infinity, nan: NaN, '-nan': NaN };

export function typedValue(raw: unknown, type: string, column: string, unsafe: UnsafeIntegers = 'throw'): unknown {
  if (raw === null || raw === undefined) return null;
  const inner = unwrapped(type);
  const nested = /^(Array|Tuple)\((.*)\)$/s.exec(inner);
  if (nested) {
    const items = raw as unknown[];
    const types = nested[1] === 'Array' ? items.map(() => nested[2] as string) : topLevelTypes(nested[2] as string);
    return items.map((item, i) => typedValue(item, types[i] ?? 'String', column, unsafe));
  }
  const text = String(raw);
  if (inner === 'Int64' && instantColumn(column)) return isoFromMicros(BigInt(text) * 1000n, 'Z');
  if (/^U?Int(8|16|32|64)$/.test(inner)) return integer(text, column, unsafe);
  if (/^Float(32|64)$/.test(inner)) return FLOAT_WORDS[text] ?? Number(text);
  return text;
}

/** One value as `convbill query` prints it: flat, with arrays as JSON text. */
export function plainClickHouseValue(raw: unknown, type: string, column: string): PlainValue {
  const value = typedValue(raw, type, column, 'text');
  return Array.isArray(value) ? JSON.stringify(value) : (value as PlainValue);
}

function integer(text: string, column: string, unsafe: UnsafeIntegers): number | string {
  const value = Number(text);
  if (Number.isSafeInteger(value)) return value;
  if (unsafe === 'text') return text;
  throw new RangeError(`Column "${column}" holds ${text}, beyond the integers a JS number holds exactly; wrap it in toString() in SQL.`);
}

/** Nullable and LowCardinality change how a value is stored, not what it is. */
function unwrapped(type: string): string {
  const wrapper = /^(?:Nullable|LowCardinality)\((.*)\)$/s.exec(type.trim());
  return wrapper ? unwrapped(wrapper[1] as string) : type.trim();
}

/** "UInt8, Enum8('a,b' = 1), Array(String)" → its three types: commas inside parentheses or quotes do not split. */
function topLevelTypes(list: string): string[] {
  const types: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < list.length; i += 1) {
    const c = list[i];
    if (quoted) {
      if (c === '\\') i += 1;
      else if (c === "'") quoted = false;
    } else if (c === "'") quoted = true;
    else if (c === '(') depth += 1;
    else if (c === ')') depth -= 1;
    else if (c === ',' && depth === 0) {
      types.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  types.push(list.slice(start).trim());
  return types;
}
