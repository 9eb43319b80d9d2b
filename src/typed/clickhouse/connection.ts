/**
 * The dialect's connection: runs a compiled query over HTTP and maps the
 * values as the DuckDB dialect does (engine/clickhouse/values.ts says how).
 * Stateless (no session), so queries may run side by side on it.
 *
 * Read-only (the default of openWarehouse) sends `readonly=1` and refuses a
 * statement that is not a read before sending it (engine/clickhouse/read-only.ts).
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { CompiledQuery, DatabaseConnection, QueryResult } from 'kysely';
import { clickhouseMessage } from '../../engine/clickhouse/cluster.js';
import { READ_ONLY_SETTINGS, READ_STATEMENTS_TEXT, readStatementRefusal } from '../../engine/clickhouse/read-only.js';
import { runStatement } from '../../engine/clickhouse/results.js';
import { typedValue } from '../../engine/clickhouse/values.js';

export class ClickHouseKyselyConnection implements DatabaseConnection {
  constructor(
    private readonly client: ClickHouseClient,
    private readonly readOnly: boolean,
  ) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (query.parameters.length) {
      throw new Error('ClickHouse 18.16 binds no parameters: build the query with Kysely or sql`…` (both inline values), not CompiledQuery.raw with parameters.');
    }
    const refusal = this.readOnly ? readStatementRefusal(query.sql) : undefined;
    if (refusal) throw new Error(`This ClickHouse connection is read-only (${READ_STATEMENTS_TEXT}): ${refusal}.`);
    let result;
    try {
      result = await runStatement(this.client, query.sql, this.readOnly ? READ_ONLY_SETTINGS : {});
    } catch (error) {
      throw new Error(`ClickHouse: ${clickhouseMessage(error)}.`, { cause: error });
    }
    const { columns } = result;
    const rows = result.rows.map((row) => Object.fromEntries(columns.map((column, i) => [column.name, typedValue(row[i], column.type, column.name)])));
    return { rows: rows as R[] };
  }

  /** The whole result is read first and handed out in chunks: 18.16's HTTP answer is read to its end before it is known to have succeeded. */
  async *streamQuery<R>(query: CompiledQuery, chunkSize = 1000): AsyncIterableIterator<QueryResult<R>> {
    const { rows } = await this.executeQuery<R>(query);
    for (let i = 0; i < rows.length; i += chunkSize) yield { rows: rows.slice(i, i + chunkSize) };
  }
}
