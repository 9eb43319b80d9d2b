/**
 * Values spliced into ClickHouse SQL text. 18.16 fails server-side query
 * parameters, so everything convbill sends to it is a literal; and its
 * string literals treat a backslash as an escape, so the doubled quote of
 * engine/sql-text.ts's sqlString is not enough there: `'\'` would run on.
 */

/** The inside of a string literal: backslash first, so the quote's escape is not escaped again. */
export function escapeClickHouseString(value: string): string {
  return String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'");
}

export function clickhouseString(value: string): string {
  return `'${escapeClickHouseString(value)}'`;
}

/** Backticks, the quoting ClickHouse documents; a backslash escapes inside them as inside strings. */
export function clickhouseIdentifier(name: string): string {
  return `\`${escapeIdentifierText(name)}\``;
}

export function escapeIdentifierText(name: string): string {
  return String(name).replaceAll('\\', '\\\\').replaceAll('`', '\\`');
}

/**
 * One JS value as a literal. Booleans become 1 and 0 (18.16 has no Bool and
 * no `true`); a Date its epoch milliseconds, the warehouse's instants.
 */
export function clickhouseLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return clickhouseString(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'boolean') return value ? '1' : '0';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'nan';
    if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
    return String(value);
  }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new TypeError('Cannot write an invalid Date into ClickHouse SQL.');
    return String(value.getTime());
  }
  if (Array.isArray(value)) return `[${value.map(clickhouseLiteral).join(', ')}]`;
  throw new TypeError(`Cannot write ${Object.prototype.toString.call(value)} into ClickHouse SQL: pass a string, number, bigint, boolean, Date, array or null.`);
}
