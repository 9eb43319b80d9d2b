/**
 * The HTTP client a reader (the typed API, `convbill query`) opens: to the
 * config's URL and database only. Not ClickHouseCluster.connect, which finds
 * every shard and creates the database where it is missing: a reader
 * neither needs the shards nor may create anything.
 */
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseSettings } from '../../config/build-options.js';

export function readerClient(settings: ClickHouseSettings): ClickHouseClient {
  return createClient({
    url: settings.url,
    username: settings.user,
    password: settings.password,
    database: settings.database,
    compression: { request: false, response: false },
    // the client would print each failed request to stderr; the caller reports it once, in a sentence
    log: { level: ClickHouseLogLevel.OFF },
  });
}
