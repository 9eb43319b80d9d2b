/**
 * One statement over HTTP, its rows read back with their column types.
 * `default_format` rather than the client's appended FORMAT clause, so the
 * same call runs a select, an insert or DDL (those answer nothing);
 * `wait_end_of_query`, so an error met after the first rows still fails the
 * request instead of ending the body with a message.
 */
import type { ClickHouseClient, ClickHouseSettings } from '@clickhouse/client';
import type { ClickHouseColumn } from './values.js';

export interface ClickHouseRows {
  columns: ClickHouseColumn[];
  /** every number still as its text (values.ts decides what it is) */
  rows: unknown[][];
}

const RESULT_SETTINGS: ClickHouseSettings = {
  default_format: 'JSONCompact',
  wait_end_of_query: 1,
  // inf and nan as strings: JSON has no word for them, and 18.16 would write null
  output_format_json_quote_denormals: 1,
  output_format_json_quote_64bit_integers: 1,
};

export async function runStatement(client: ClickHouseClient, sql: string, settings: ClickHouseSettings = {}): Promise<ClickHouseRows> {
  const { stream } = await client.exec({ query: sql, clickhouse_settings: { ...settings, ...RESULT_SETTINGS } });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  const text = Buffer.concat(chunks).toString('utf8');
  return text.trim() === '' ? { columns: [], rows: [] } : parsedCompact(text);
}

/** JSON numbers become strings first: a Decimal would lose its scale and a big one its digits in JSON.parse. */
function parsedCompact(text: string): ClickHouseRows {
  const exact = text.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (token) => (token.startsWith('"') ? token : `"${token}"`));
  let parsed: { meta?: ClickHouseColumn[]; data?: unknown[][] };
  try {
    parsed = JSON.parse(exact);
  } catch {
    parsed = {};
  }
  if (!Array.isArray(parsed.meta) || !Array.isArray(parsed.data)) {
    throw new Error('ClickHouse answered in another format than JSONCompact; leave the FORMAT clause out of the SQL');
  }
  return { columns: parsed.meta.map(({ name, type }) => ({ name, type })), rows: parsed.data };
}
