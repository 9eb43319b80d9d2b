/**
 * The dialect's driver: opens (or borrows) the one DuckDB connection, hands
 * it to one query or transaction at a time, and runs transactions on it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { CompiledQuery, type DatabaseConnection, type Driver, type TransactionSettings } from 'kysely';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { DuckDBKyselyConnection } from './connection.js';
import type { DuckDBDialectConfig } from './dialect.js';

export class DuckDBDriver implements Driver {
  #owned: Warehouse | undefined;
  #connection: DuckDBKyselyConnection | undefined;
  #busy: Promise<void> | undefined;
  #release: (() => void) | undefined;

  constructor(private readonly config: DuckDBDialectConfig) {}

  async init(): Promise<void> {
    let raw: DuckDBConnection;
    if ('path' in this.config) {
      const { path, ...options } = this.config;
      this.#owned = await Warehouse.open(path, options);
      raw = this.#owned.duckdb;
    } else {
      const given = this.config.connection;
      raw = given instanceof Warehouse ? given.duckdb : given;
    }
    await raw.run(`set TimeZone = 'UTC'`);
    this.#connection = new DuckDBKyselyConnection(raw);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    while (this.#busy) await this.#busy;
    this.#busy = new Promise((resolve) => (this.#release = resolve));
    if (!this.#connection) throw new Error('The DuckDB dialect has been destroyed.');
    return this.#connection;
  }

  async releaseConnection(): Promise<void> {
    const release = this.#release;
    this.#busy = undefined;
    this.#release = undefined;
    release?.();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.accessMode || settings.isolationLevel) {
      throw new Error('DuckDB transactions have one isolation level (snapshot) and no access modes; pass no settings.');
    }
    await connection.executeQuery(CompiledQuery.raw('begin transaction'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    this.#connection = undefined;
    this.#owned?.close();
    this.#owned = undefined;
  }
}
