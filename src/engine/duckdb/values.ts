/**
 * DuckDB values as plain, JSON-safe JS for printing: instants as UTC
 * ISO-8601 with their microseconds (a JS Date would drop them), integers
 * exact (as text beyond 2^53).
 */
import {
  DuckDBDateValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';

export type PlainValue = string | number | boolean | null;

export function isoFromMicros(micros: bigint, suffix: string): string {
  const millis = micros / 1000n;
  const sub = ((micros % 1000n) + 1000n) % 1000n;
  const iso = new Date(Number(millis - (micros < 0n && sub !== 0n ? 1n : 0n))).toISOString();
  const [seconds, fraction] = iso.slice(0, -1).split('.');
  const digits = sub === 0n ? (fraction === '000' ? '' : `.${fraction}`) : `.${fraction}${String(sub).padStart(3, '0')}`;
  return `${seconds}${digits}${suffix}`;
}

/** One DuckDB value as JSON-safe JS: instants in UTC ISO-8601, exact integers. */
export function plainValue(value: DuckDBValue): PlainValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (value instanceof DuckDBTimestampTZValue) return value.isFinite ? isoFromMicros(value.micros, 'Z') : value.toString();
  if (value instanceof DuckDBTimestampValue) return value.isFinite ? isoFromMicros(value.micros, '') : value.toString();
  if (value instanceof DuckDBDateValue) return value.toString();
  return String(value);
}

