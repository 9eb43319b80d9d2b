/**
 * A ClickHouse cluster as convbill reaches it (docs/engines.md): one entry
 * node (the config's URL) and every shard of the named cluster, found in
 * `system.clusters` and reached over HTTP on the URL's port. There is no
 * ZooKeeper in the deployments this targets, so DDL goes to each shard
 * (`onEachShard`), never `ON CLUSTER`.
 *
 * Statements are plain text: server-side query parameters fail on 18.16,
 * so values are quoted by engine/sql-text.ts's helpers.
 */
import { createReadStream } from 'node:fs';
import { type ClickHouseClient, ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { ClickHouseSettings } from '../../config/build-options.js';
import { ConfigError, RunError } from '../errors.js';
import { clickhouseString } from './literals.js';

export interface Shard {
  /** shard_num in system.clusters, from 1 */
  num: number;
  url: string;
  client: ClickHouseClient;
}

/** Settings every statement runs with: inserts into Distributed tables return only once every shard holds the rows. */
const SESSION_SETTINGS = { insert_distributed_sync: 1 } as const;

function clientFor(url: string, settings: ClickHouseSettings, database?: string): ClickHouseClient {
  return createClient({
    url,
    username: settings.user,
    password: settings.password,
    database,
    request_timeout: 3_600_000,
    compression: { request: false, response: false },
    clickhouse_settings: SESSION_SETTINGS,
    // errors reach the user as one sentence (guard below), not as the client's log
    log: { level: ClickHouseLogLevel.OFF },
  });
}

/** The first line of the server's message: ClickHouse appends `, e.what() = …` and a stack. */
export function clickhouseMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (text.split('\n')[0] ?? '')
    .replace(/^Code: \d+, e\.displayText\(\) = DB::Exception: /, '')
    .replace(/, e\.what\(\) = DB::\w+$/, '')
    .replace(/[.\s]+$/, '');
}

export class ClickHouseCluster {
  private constructor(
    readonly settings: ClickHouseSettings,
    readonly entry: ClickHouseClient,
    readonly shards: Shard[],
  ) {}

  /** Connects, finds the shards and creates the database on each when it is missing. */
  static async connect(settings: ClickHouseSettings): Promise<ClickHouseCluster> {
    const admin = clientFor(settings.url, settings);
    let found: { shard_num: number; host_address: string }[];
    try {
      const result = await admin.query({
        query: `select shard_num, any(host_address) as host_address from system.clusters
                where cluster = ${clickhouseString(settings.cluster)} group by shard_num order by shard_num`,
        format: 'JSONEachRow',
      });
      found = await result.json();
    } catch (error) {
      await admin.close();
      throw new ConfigError(`Cannot reach ClickHouse at ${settings.url} (config key "clickhouse.url"): ${clickhouseMessage(error)}.`, { cause: error });
    }
    if (found.length === 0) {
      const known = await admin
        .query({ query: 'select distinct cluster from system.clusters order by cluster', format: 'JSONEachRow' })
        .then((result) => result.json<{ cluster: string }>())
        .catch(() => []);
      await admin.close();
      throw new ConfigError(
        `ClickHouse at ${settings.url} has no cluster "${settings.cluster}" in system.clusters (config key "clickhouse.cluster"; it has: ${known.map((row) => row.cluster).join(', ') || 'none'}).`,
      );
    }
    const port = new URL(settings.url).port || (settings.url.startsWith('https') ? '8443' : '8123');
    const protocol = new URL(settings.url).protocol;
    const shards: Shard[] = [];
    for (const row of found) {
      const url = `${protocol}//${row.host_address.includes(':') ? `[${row.host_address}]` : row.host_address}:${port}`;
      const client = clientFor(url, settings);
      try {
        await client.command({ query: `create database if not exists ${settings.database}` });
      } catch (error) {
        await Promise.all([admin.close(), client.close(), ...shards.map((shard) => shard.client.close())]);
        throw new RunError(`ClickHouse shard ${row.shard_num} of cluster ${settings.cluster} (${url}) cannot be reached: ${clickhouseMessage(error)}.`, {
          cause: error,
        });
      }
      await client.close();
      shards.push({ num: Number(row.shard_num), url, client: clientFor(url, settings, settings.database) });
    }
    await admin.close();
    return new ClickHouseCluster(settings, clientFor(settings.url, settings, settings.database), shards);
  }

  get database(): string {
    return this.settings.database;
  }

  /** A statement on the entry node (reads through Distributed tables reach every shard from there). */
  async run(sql: string): Promise<void> {
    await this.guard(sql, () => this.entry.command({ query: sql }));
  }

  /** The same statement on every shard, at once: DDL, and the models, each shard computing its own rows. */
  async onEachShard(sql: string | ((shard: Shard) => string), settings: Record<string, string | number> = {}): Promise<void> {
    await Promise.all(
      this.shards.map((shard) => {
        const text = typeof sql === 'string' ? sql : sql(shard);
        return this.guard(text, () => shard.client.command({ query: text, clickhouse_settings: { ...SESSION_SETTINGS, ...settings } }), shard);
      }),
    );
  }

  /**
   * Settings for the heavy shard-local statements: where the server's profile
   * caps a query's memory but lets GROUP BY and ORDER BY grow to the cap, they
   * spill past half of it instead of failing the build (a 1-shard 10M build
   * met the cap of 4 GB). A profile that sets its own spill sizes is kept.
   */
  async spillSettings(): Promise<Record<string, number>> {
    const rows = await this.rows<{ name: string; value: string }>(
      `select name, value from system.settings
       where name in ('max_memory_usage', 'max_bytes_before_external_group_by', 'max_bytes_before_external_sort')`,
    );
    const value = (name: string) => Number(rows.find((row) => row.name === name)?.value ?? 0);
    const cap = value('max_memory_usage');
    if (cap <= 0) return {};
    const spill: Record<string, number> = {};
    if (value('max_bytes_before_external_group_by') === 0) spill.max_bytes_before_external_group_by = Math.floor(cap / 2);
    if (value('max_bytes_before_external_sort') === 0) spill.max_bytes_before_external_sort = Math.floor(cap / 2);
    return spill;
  }

  /** Rows as JSON values: 64-bit integers arrive as strings, as ClickHouse quotes them. */
  async rows<T = Record<string, unknown>>(sql: string, client: ClickHouseClient = this.entry): Promise<T[]> {
    return this.guard(sql, async () => (await client.query({ query: sql, format: 'JSONEachRow' })).json<T>());
  }

  /** Streams a local file into a table, at the entry node: a Distributed table spreads it to the shards before returning. */
  async insertFile(
    table: string,
    path: string,
    format: 'CSV' | 'CSVWithNames',
    client: ClickHouseClient = this.entry,
    settings: Record<string, number | string> = {},
  ): Promise<void> {
    await this.guard(`insert into ${table} (${path})`, () =>
      client.insert({ table, values: createReadStream(path), format, clickhouse_settings: { ...SESSION_SETTINGS, ...settings } }),
    );
  }

  async close(): Promise<void> {
    await Promise.all([this.entry.close(), ...this.shards.map((shard) => shard.client.close())]);
  }

  private async guard<T>(sql: string, work: () => Promise<T>, shard?: Shard): Promise<T> {
    try {
      return await work();
    } catch (error) {
      const where = shard ? `shard ${shard.num} (${shard.url})` : this.settings.url;
      const statement = sql.replace(/\s+/g, ' ').trim().slice(0, 120);
      throw new RunError(`ClickHouse at ${where} failed: ${clickhouseMessage(error)} (in: ${statement}).`, { cause: error });
    }
  }
}
