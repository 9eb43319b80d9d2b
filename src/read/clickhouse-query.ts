/**
 * `convbill query` on a ClickHouse warehouse: the user's SQL on the entry
 * node of the config's cluster, read-only (engine/clickhouse/read-only.ts:
 * `readonly=1`, reads only, no table functions), its values plain as the
 * DuckDB path prints them (instants as UTC ISO-8601 included).
 */
import type { ClickHouseSettings } from '../config/build-options.js';
import { clickhouseMessage } from '../engine/clickhouse/cluster.js';
import { READ_ONLY_SETTINGS, READ_STATEMENTS_TEXT, isReadOnlyRefusal, readStatementRefusal } from '../engine/clickhouse/read-only.js';
import { readerClient } from '../engine/clickhouse/reader-client.js';
import { runStatement } from '../engine/clickhouse/results.js';
import { plainClickHouseValue } from '../engine/clickhouse/values.js';
import { RunError } from '../engine/errors.js';
import type { QueryResult } from './query.js';

const REFUSAL_HINT = `convbill query on ClickHouse is read-only: ${READ_STATEMENTS_TEXT}, no table functions, no settings`;

export async function queryClickHouse(settings: ClickHouseSettings, sql: string): Promise<QueryResult> {
  const refusal = readStatementRefusal(sql);
  if (refusal) throw new RunError(`Query refused: ${refusal} (${REFUSAL_HINT}).`);
  const client = readerClient(settings);
  try {
    const { columns, rows } = await runStatement(client, sql, READ_ONLY_SETTINGS).catch((error: unknown) => {
      if (isReadOnlyRefusal(error)) throw new RunError(`Query refused: ${clickhouseMessage(error)} (${REFUSAL_HINT}).`, { cause: error });
      // a socket's error (ECONNREFUSED…) says nothing of where it was going
      const where = /^E[A-Z]+$/.test(String((error as { code?: unknown }).code)) ? `ClickHouse at ${settings.url}: ` : '';
      throw new RunError(`Query failed: ${where}${clickhouseMessage(error)}.`, { cause: error });
    });
    return { columns: columns.map((column) => column.name), rows: rows.map((row) => columns.map((column, i) => plainClickHouseValue(row[i], column.type, column.name))) };
  } finally {
    await client.close();
  }
}
