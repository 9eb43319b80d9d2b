/**
 * How convbill reads ClickHouse without changing it. `readonly=1` makes the
 * server refuse writes, DDL, SET (and SETTINGS clauses, so the mode cannot
 * be lifted from the SQL) and every table function (file, url, remote,
 * numbers…). It does not refuse KILL QUERY on 18.16, which would let a
 * reader cancel a running build; so the statement's first word must also be
 * one a reader needs, and what cannot be recognised is refused.
 */
import type { ClickHouseSettings } from '@clickhouse/client';

export const READ_ONLY_SETTINGS: ClickHouseSettings = { readonly: '1' };

const READ_STATEMENTS = ['select', 'with', 'show', 'describe', 'desc', 'exists'];

export const READ_STATEMENTS_TEXT = 'select, with, show, describe and exists statements';

/** The refusal in words, or undefined when the statement may run. */
export function readStatementRefusal(sql: string): string | undefined {
  const word = firstWord(sql);
  if (READ_STATEMENTS.includes(word)) return undefined;
  return word ? `${word.toUpperCase()} statements are not reads` : 'the statement does not start with a keyword convbill knows for a read';
}

/** The first keyword, past comments and the parentheses of `(select …) union all …`. */
function firstWord(sql: string): string {
  const rest = sql.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  return /^[a-z]+/i.exec(rest)?.[0].toLowerCase() ?? '';
}

/** The server's own refusal under readonly (code 164, READONLY). */
export function isReadOnlyRefusal(error: unknown): boolean {
  return error instanceof Error && /^Code: 164\b|in readonly mode/.test(error.message);
}
