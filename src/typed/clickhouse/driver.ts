/**
 * The dialect's driver: opens (or borrows) the HTTP client and hands out the
 * one stateless connection over it. ClickHouse has no transactions, so
 * `db.transaction()` fails at once rather than running statements unguarded.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { DatabaseConnection, Driver } from 'kysely';
import { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import { readerClient } from '../../engine/clickhouse/reader-client.js';
import { ClickHouseKyselyConnection } from './connection.js';
import type { ClickHouseDialectConfig } from './dialect.js';

const NO_TRANSACTIONS = 'ClickHouse has no transactions: run the statements on db itself, one by one (each is atomic on its own at most).';

export class ClickHouseDriver implements Driver {
  #owned: ClickHouseClient | undefined;
  #connection: ClickHouseKyselyConnection | undefined;

  constructor(private readonly config: ClickHouseDialectConfig) {}

  async init(): Promise<void> {
    let client: ClickHouseClient;
    if ('settings' in this.config) {
      this.#owned = readerClient(this.config.settings);
      client = this.#owned;
    } else {
      const given = this.config.client;
      client = given instanceof ClickHouseCluster ? given.entry : given;
    }
    this.#connection = new ClickHouseKyselyConnection(client, this.config.readOnly ?? false);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    if (!this.#connection) throw new Error('The ClickHouse dialect has been destroyed.');
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {}

  async beginTransaction(): Promise<void> {
    throw new Error(NO_TRANSACTIONS);
  }

  async commitTransaction(): Promise<void> {
    throw new Error(NO_TRANSACTIONS);
  }

  async rollbackTransaction(): Promise<void> {
    throw new Error(NO_TRANSACTIONS);
  }

  async destroy(): Promise<void> {
    this.#connection = undefined;
    await this.#owned?.close();
    this.#owned = undefined;
  }
}
