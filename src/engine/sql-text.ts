/**
 * SQL literals and identifiers quoted for text that TypeScript splices into a
 * statement. A value from data, config or flags reaches SQL text through
 * these (or as a bound parameter), never through a bare `${value}`; the
 * numbers and booleans are checked, since the library's options arrive
 * untyped at run time whatever their TypeScript type says.
 */
export function sqlString(value: string): string {
  return `'${String(value).replaceAll("'", "''")}'`;
}

/**
 * A string literal for ClickHouse, whose literals read backslash escapes (there
 * `'a\hb'` is "ahb" and `'a\nb'` holds a line break): the backslash is escaped
 * too, so the literal is the value.
 */
export function clickhouseString(value: string): string {
  return `'${String(value).replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export function sqlIdentifier(name: string): string {
  return `"${String(name).replaceAll('"', '""')}"`;
}

/** A whole number as a literal. */
export function sqlInteger(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (!Number.isSafeInteger(value)) throw new TypeError(`Expected a whole number for SQL, not ${JSON.stringify(value)}.`);
  return String(value);
}

export function sqlBoolean(value: boolean): string {
  if (typeof value !== 'boolean') throw new TypeError(`Expected true or false for SQL, not ${JSON.stringify(value)}.`);
  return value ? 'true' : 'false';
}

/** A list literal: `['a', 'b']`, or `[1, 2]`; typed VARCHAR[] when empty. */
export function sqlList(values: readonly (string | number | bigint)[]): string {
  if (values.length === 0) return '[]::varchar[]';
  return `[${values.map((value) => (typeof value === 'string' ? sqlString(value) : sqlInteger(value))).join(', ')}]`;
}
