/**
 * The ClickHouse contenders' plumbing: which cluster (env
 * CONVBILL_BENCH_CLICKHOUSE_URL, default http://127.0.0.1:18123; credentials
 * from CONVBILL_CLICKHOUSE_USER / CONVBILL_CLICKHOUSE_PASSWORD as for a
 * build), whether it answers, a fresh database per run, and the servers'
 * memory while a build runs.
 *
 * The servers' memory is measured two ways, per shard:
 * - peak RSS: the kernel's VmHWM of the server process listening on the
 *   shard's HTTP address (found with `ss -tlnp`, so it does not matter how the
 *   server was started), reset before the run by writing 5 to
 *   /proc/<pid>/clear_refs, read after it. Only for servers on this machine
 *   that this user may inspect; jemalloc keeps freed pages a while, so a
 *   run's peak can include what the previous one left resident.
 * - peak MemoryTracking (system.metrics: the bytes ClickHouse's queries and
 *   merges have allocated), sampled over HTTP every 200 ms; works for any
 *   server, misses spikes shorter than the interval, and does not count the
 *   server's caches or code.
 * Both are summed over the shards (each shard's own peak, not a simultaneous
 * total).
 */
import { spawnSync } from 'node:child_process';
import { createReadStream, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import type { ClickHouseSettings } from '../src/config/build-options.js';

export const DEFAULT_CLICKHOUSE_URL = 'http://127.0.0.1:18123';

export function clickhouseUrl(): string {
  return (process.env.CONVBILL_BENCH_CLICKHOUSE_URL || DEFAULT_CLICKHOUSE_URL).trim().replace(/\/$/, '');
}

/** The build's `clickhouse` option for `cluster`, into `database`. */
export function clickhouseTarget(cluster: string, database: string): ClickHouseSettings {
  return {
    url: clickhouseUrl(),
    cluster,
    database,
    user: process.env.CONVBILL_CLICKHOUSE_USER || 'default',
    password: process.env.CONVBILL_CLICKHOUSE_PASSWORD ?? '',
  };
}

/**
 * One statement over HTTP; the response body (TSV). A connection per
 * statement (no keep-alive): the server closes idle ones after a few seconds,
 * and a pooled one reused after that fails the request.
 */
export function query(url: string, settings: Pick<ClickHouseSettings, 'user' | 'password'>, sql: string, timeoutMs = 600_000): Promise<string> {
  return post(url, settings, undefined, sql, timeoutMs);
}

/** `insert` (an INSERT … FORMAT …, sent in the URL) with the file at `path` streamed as its data. */
export async function insertFile(url: string, settings: Pick<ClickHouseSettings, 'user' | 'password'>, insert: string, path: string, timeoutMs = 600_000): Promise<void> {
  await post(url, settings, insert, createReadStream(path), timeoutMs);
}

function post(url: string, settings: Pick<ClickHouseSettings, 'user' | 'password'>, sqlInUrl: string | undefined, body: string | Readable, timeoutMs: number): Promise<string> {
  const address = new URL(url);
  address.searchParams.set('user', settings.user);
  address.searchParams.set('password', settings.password);
  if (sqlInUrl !== undefined) address.searchParams.set('query', sqlInUrl);
  const send = address.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(address, { method: 'POST', agent: false, timeout: timeoutMs }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (response.statusCode === 200) resolve(text);
        else reject(new Error(`ClickHouse at ${url}: ${text.split('\n')[0]}`));
      });
    });
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} in ${timeoutMs / 1000} s`)));
    request.on('error', reject);
    if (typeof body === 'string') request.end(body);
    else {
      body.on('error', (error) => request.destroy(error));
      body.pipe(request);
    }
  });
}

const tsvRows = (text: string) => text.split('\n').filter(Boolean).map((line) => line.split('\t'));

/**
 * The HTTP address of each shard of `cluster` (host_address from
 * system.clusters, at the entry URL's port, as the build reaches them), or
 * with '*' of every server in system.clusters.
 */
export async function shardUrls(settings: ClickHouseSettings, cluster = settings.cluster): Promise<string[]> {
  const sql =
    cluster === '*'
      ? `select distinct host_address from system.clusters order by host_address format TSV`
      : `select any(host_address) from system.clusters where cluster = '${cluster.replaceAll("'", "''")}' group by shard_num order by shard_num format TSV`;
  const entry = new URL(settings.url);
  const hosts = tsvRows(await query(settings.url, settings, sql, 5000)).map(([host = '']) => `${entry.protocol}//${host.includes(':') ? `[${host}]` : host}:${entry.port || '8123'}`);
  return [...new Set(hosts)];
}

/** Why the contender on `cluster` cannot run, or undefined when the cluster and every shard answer. */
export async function clickhouseUnavailable(cluster: string): Promise<string | undefined> {
  const settings = clickhouseTarget(cluster, 'default');
  let shards: string[];
  try {
    shards = await shardUrls(settings);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `no ClickHouse answers at ${settings.url} (${reason}; set CONVBILL_BENCH_CLICKHOUSE_URL, or start the test cluster: .ci/clickhouse-cluster start /tmp/chc)`;
  }
  if (shards.length === 0) return `ClickHouse at ${settings.url} has no cluster ${cluster} in system.clusters`;
  for (const url of shards) {
    try {
      await query(url, settings, 'select 1', 5000);
    } catch {
      return `shard ${url} of cluster ${cluster} does not answer`;
    }
  }
  return undefined;
}

/** Why a contender on the one server at the bench URL cannot run (no cluster needed), or undefined when it answers. */
export async function clickhouseServerUnavailable(): Promise<string | undefined> {
  const settings = clickhouseTarget('', 'default');
  try {
    await query(settings.url, settings, 'select 1', 5000);
    return undefined;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return `no ClickHouse answers at ${settings.url} (${reason}; set CONVBILL_BENCH_CLICKHOUSE_URL, or start the test cluster: .ci/clickhouse-cluster start /tmp/chc)`;
  }
}

/** Drops `database` on every server the entry node knows (every shard of every cluster in system.clusters). */
export async function dropDatabase(settings: ClickHouseSettings): Promise<void> {
  const servers = new Set([settings.url, ...(await shardUrls(settings, '*'))]);
  for (const url of servers) await query(url, settings, `drop database if exists ${settings.database}`);
}

export interface ShardMemory {
  url: string;
  /** the server process, when it runs on this machine and could be inspected */
  pid?: number;
  /** RSS when the run started, and the peak during it (VmHWM after a reset), in KiB */
  startRssKb?: number;
  peakRssKb?: number;
  /** false when VmHWM could not be reset: then it is the peak since the server started */
  peakReset?: boolean;
  /** the highest MemoryTracking sampled, in KiB */
  peakTrackedKb: number;
  samples: number;
}

export interface ServerMemoryReport {
  /** sum over the shards of each one's peak RSS (VmHWM), KiB; absent unless every shard's was read */
  peakRssKb?: number;
  /** sum over the shards of each one's sampled MemoryTracking peak, KiB */
  peakTrackedKb: number;
  method: string;
  shards: ShardMemory[];
}

/** The pid of the process listening on `url`'s host and port, if it is a ClickHouse server on this machine. */
function listeningPid(url: string): number | undefined {
  const { hostname, port } = new URL(url);
  const listing = spawnSync('ss', ['-Htlnp', `sport = :${port || '8123'}`], { encoding: 'utf8' });
  if (listing.status !== 0) return undefined;
  const host = hostname.replace(/^\[|\]$/g, '');
  for (const line of listing.stdout.split('\n')) {
    const local = line.trim().split(/\s+/)[3] ?? '';
    const address = local.slice(0, local.lastIndexOf(':')).replace(/^\[|\]$/g, '');
    const pid = /pid=(\d+)/.exec(line)?.[1];
    if (!pid || !(address === host || address === '0.0.0.0' || address === '*' || (host === 'localhost' && address === '127.0.0.1'))) continue;
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('clickhouse')) return Number(pid);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Watches the shards' memory from start() to stop(). */
export class ServerMemory {
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  private constructor(
    private readonly settings: ClickHouseSettings,
    private readonly shards: ShardMemory[],
  ) {}

  /** Watches the shards of `settings.cluster`, or the servers at `urls` when given. */
  static async start(settings: ClickHouseSettings, urls?: string[]): Promise<ServerMemory> {
    const shards: ShardMemory[] = (urls ?? (await shardUrls(settings))).map((url) => ({ url, peakTrackedKb: 0, samples: 0 }));
    for (const shard of shards) {
      shard.pid = listeningPid(shard.url);
      if (shard.pid === undefined) continue;
      try {
        writeFileSync(`/proc/${shard.pid}/clear_refs`, '5');
        shard.peakReset = true;
      } catch {
        shard.peakReset = false;
      }
      shard.startRssKb = statusKb(shard.pid, 'VmRSS');
    }
    const memory = new ServerMemory(settings, shards);
    await memory.poll();
    memory.timer = setInterval(() => {
      memory.polling ??= memory.poll().finally(() => (memory.polling = undefined));
    }, 200);
    return memory;
  }

  private async poll(): Promise<void> {
    await Promise.all(
      this.shards.map(async (shard) => {
        try {
          const text = await query(shard.url, this.settings, `select value from system.metrics where metric = 'MemoryTracking' format TSV`, 5000);
          shard.peakTrackedKb = Math.max(shard.peakTrackedKb, Math.round(Number(text.trim()) / 1024));
          shard.samples += 1;
        } catch {
          // a missed sample; the next one counts
        }
      }),
    );
  }

  async stop(): Promise<ServerMemoryReport> {
    clearInterval(this.timer);
    await this.polling;
    await this.poll();
    for (const shard of this.shards) if (shard.pid !== undefined) shard.peakRssKb = statusKb(shard.pid, 'VmHWM');
    const everyRss = this.shards.every((shard) => shard.peakRssKb !== undefined && shard.peakReset);
    return {
      peakRssKb: everyRss ? this.shards.reduce((sum, shard) => sum + (shard.peakRssKb ?? 0), 0) : undefined,
      peakTrackedKb: this.shards.reduce((sum, shard) => sum + shard.peakTrackedKb, 0),
      method: everyRss
        ? 'VmHWM of each server process (reset via clear_refs at the start), and system.metrics MemoryTracking sampled every 200 ms; each summed over the shards'
        : 'system.metrics MemoryTracking sampled every 200 ms, summed over the shards (the server processes could not be inspected on this machine)',
      shards: this.shards,
    };
  }
}
