/**
 * `convbill export` on a ClickHouse warehouse: the server writes the format
 * and its bytes are streamed to a temporary file beside `out`, renamed at
 * the end (as export-table.ts does for DuckDB). Bounded memory on both
 * sides; no row passes through JavaScript. The table must be one of the
 * readers' objects; `--where` is the user's SQL and runs read-only.
 *
 * Formats are the server's: CSV and NDJSON everywhere; Parquet and Arrow
 * only where the server has them (18.16 has neither), which is asked, not
 * assumed.
 */
import { createWriteStream, existsSync, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ClickHouseSettings } from '../config/build-options.js';
import { clickhouseMessage } from '../engine/clickhouse/cluster.js';
import { clickhouseIdentifier } from '../engine/clickhouse/literals.js';
import { READ_ONLY_SETTINGS } from '../engine/clickhouse/read-only.js';
import { readerClient } from '../engine/clickhouse/reader-client.js';
import { ConfigError, RunError } from '../engine/errors.js';
import type { ExportFormat } from './export-table.js';

/** What ClickHouse calls each export format. */
const SERVER_FORMATS: Record<ExportFormat, string> = { csv: 'CSVWithNames', ndjson: 'JSONEachRow', parquet: 'Parquet', arrow: 'Arrow' };

/** The readers' objects of a ClickHouse warehouse (sql/clickhouse/readers/). */
export const CLICKHOUSE_READER_TABLES = [
  'fct_billable_conversations',
  'fct_conversation_counts',
  'dim_billing_cycles',
  'dim_integrations',
  'rejected_interactions',
];

export interface ClickHouseExportOptions {
  table: string;
  format: ExportFormat;
  out: string;
  where?: string;
}

export async function exportClickHouseTable(settings: ClickHouseSettings, options: ClickHouseExportOptions): Promise<number> {
  const { table, format, out } = options;
  if (!CLICKHOUSE_READER_TABLES.includes(table)) {
    throw new ConfigError(`Option --table ${table} is not a table of the ClickHouse warehouse (it has ${CLICKHOUSE_READER_TABLES.join(', ')}).`);
  }
  if (!existsSync(dirname(out)) || !statSync(dirname(out)).isDirectory()) throw new ConfigError(`Cannot write ${out}: folder ${dirname(out)} does not exist.`);
  const client = readerClient(settings);
  const temporary = join(dirname(out), `.${process.pid}-${Date.now()}.tmp-${basename(out)}`);
  try {
    const serverFormat = SERVER_FORMATS[format];
    const formats = await client
      .query({ query: `select name from system.formats where is_output and name = '${serverFormat}'`, format: 'JSONEachRow' })
      .then((result) => result.json())
      // 18.16 has no system.formats: only what every release writes
      .catch(() => (['csv', 'ndjson'].includes(format) ? [{}] : []));
    if (formats.length === 0) {
      throw new ConfigError(`ClickHouse at ${settings.url} cannot write ${format} (no ${serverFormat} output format); export with --format csv or --format ndjson.`);
    }
    const filter = options.where?.trim() ? ` where (${options.where})` : '';
    const source = `select * from ${clickhouseIdentifier(table)}${filter}`;
    const fail = (error: unknown): never => {
      throw new RunError(`Export of ${table} failed: ${clickhouseMessage(error)}.`, { cause: error });
    };
    const [counted] = await client
      .query({ query: `select count() as rows from (${source})`, format: 'JSONEachRow', clickhouse_settings: READ_ONLY_SETTINGS })
      .then((result) => result.json<{ rows: string }>())
      .catch(fail);
    const result = await client.exec({ query: `${source} format ${serverFormat}`, clickhouse_settings: READ_ONLY_SETTINGS }).catch(fail);
    await pipeline(result.stream, createWriteStream(temporary));
    await rename(temporary, out);
    return Number(counted?.rows ?? 0);
  } finally {
    rmSync(temporary, { force: true });
    await client.close();
  }
}
