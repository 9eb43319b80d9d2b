/**
 * `npm run check:clickhouse-current`: does sql/clickhouse/ compute the same
 * facts on a current ClickHouse release as on Debian's 18.16, the release the
 * test cluster runs (docs/engines.md: "the SQL keeps to what 18.16 and current
 * releases share")?
 *
 * For each dataset (the demo of seeds/demo, and a seeded random one of about
 * --rows rows: five orgs with anchor-day rules in UTC, Europe/Paris,
 * America/Santiago (a DST jump at midnight) and America/New_York (anchor 31),
 * one org on a calendar file with gaps, local-time rows read in
 * America/New_York across its DST changes, open, cross-cycle, boundary,
 * after-as-of and conflicting interactions, message rows, row rejects):
 *
 *   1. build it with convbill's ClickHouse engine on the 18.16 cluster
 *      `convbill_1shard`, into a fresh database of its own;
 *   2. dump from that server, in Native format (18.16 writes it, 26.7 reads
 *      it, types exact), the build's inputs of the shard-local models
 *      (stg_rows_local, int_row_rejects_local, cfg_counting_loads_local,
 *      cfg_billing_cycles_local, cfg_run_local, dim_integrations_local), what
 *      it computed, and what its readers' views show;
 *   3. in an embedded current ClickHouse (the npm package chdb, not a project
 *      dependency: --chdb or CONVBILL_CHDB names its index.mjs), create the
 *      tables from sql/clickhouse/state/ (readers/ too) as a build does, load
 *      the inputs, run sql/clickhouse/models/ in the build's order with the
 *      build's run_id, the audits over the run's _next tables, then publish as
 *      a build does, with src/build/clickhouse/swap.ts itself (ATTACH,
 *      convbill_partitions, the manifest row, REPLACE) over a one-shard stand-in
 *      for the cluster, and read the readers' views; and ask swap.ts once more
 *      which partitions a rebuild of the same inputs would rewrite (none);
 *   4. compare, row for row (as multisets), the 26.7 tables with the 18.16 ones:
 *      int_interactions_local, the _next facts against the published *_local
 *      facts (the build drops its _next tables once published; the partitions
 *      of a first build are all new, so the rows are the same),
 *      rejected_interactions_local, dim_billing_cycles_local, convbill_partitions
 *      (its checksums are cityHash64 over the rows) and every reader's view.
 *      One value is left out (UNSPECIFIED below): a conflicting interaction's
 *      customer_account_id, any() of its accounts on every engine.
 *
 * CHECK-ONLY REWRITE: chdb is one process, with no cluster and no
 * remote_servers, so each `engine = Distributed(cluster, db, X_local, key)`
 * clause of sql/clickhouse/ is replaced here, in this check only, by
 * `engine = Merge(db, '^X_local$')`: the Distributed names (stg_rows,
 * int_interactions, fct_*_all, ...) read the one local table, as a one-shard
 * cluster's would. Nothing else of the SQL is changed. fct_conversation_charges_local
 * (rated by DuckDB, not by sql/clickhouse/models/) is loaded from the dump,
 * for its reader's view only.
 *
 * Exit 0: every statement ran on the current release and every table is
 * equal; 1: a statement failed (each is printed with the server's message) or
 * a table differs (its first differing rows are printed); 2: the check could
 * not run (no chdb, no 18.16 server, the 18.16 build failed).
 *
 *     npm run check:clickhouse-current -- [--url http://127.0.0.1:18123] [--rows 20000] [--seed 1]
 *         [--datasets demo,random] [--chdb /path/to/chdb/index.mjs] [--keep]
 */
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { parseArgs } from 'node:util';
import { build } from '../src/build/build.js';
import { partitionChanges, publishPartitions } from '../src/build/clickhouse/swap.js';
import { type BuildOptions, resolveBuildOptions } from '../src/config/build-options.js';
import type { ClickHouseCluster } from '../src/engine/clickhouse/cluster.js';
import { clickhouseString } from '../src/engine/clickhouse/literals.js';
import { type Placeholders, clickhouseFolder, clickhouseSql } from '../src/engine/clickhouse/sql-files.js';
import { sqlDirectory } from '../src/project/load-models.js';

const DEFAULT_CHDB = '/tmp/chdb-try/node_modules/chdb/index.mjs';
const CLUSTER = 'convbill_1shard';

/** The build's inputs of the shard-local models, as ship.ts leaves them on every shard. */
const INPUT_TABLES = ['stg_rows_local', 'int_row_rejects_local', 'cfg_counting_loads_local', 'cfg_billing_cycles_local', 'cfg_run_local', 'dim_integrations_local'];
/** Rated by DuckDB (src/build/clickhouse/charges.ts): loaded for its reader's view only. */
const DUCKDB_TABLES = ['fct_conversation_charges_local'];
/** As src/build/clickhouse/build.ts runs them. */
const SHARD_MODELS = ['int_interactions', 'dim_billing_cycles', 'fct_billable_conversations', 'fct_conversation_counts', 'rejected_interactions'];
/** [on 26.7, before publishing, on 18.16 after the build] */
const MODEL_OUTPUTS: [string, string][] = [
  ['int_interactions_local', 'int_interactions_local'],
  ['dim_billing_cycles_local', 'dim_billing_cycles_local'],
  ['fct_billable_conversations_next_local', 'fct_billable_conversations_local'],
  ['fct_conversation_counts_next_local', 'fct_conversation_counts_local'],
  ['rejected_interactions_local', 'rejected_interactions_local'],
];
/** Compared once both sides have published: the partition records and what readers see. */
const PUBLISHED = [
  'convbill_partitions',
  'convbill_visible_partitions',
  'fct_billable_conversations',
  'fct_conversation_counts',
  'dim_billing_cycles',
  'dim_integrations',
  'rejected_interactions',
  'fct_conversation_charges',
];

// ---------------------------------------------------------------------------
// chdb, typed as much as this check uses
// ---------------------------------------------------------------------------

interface ChdbSession {
  query(sql: string, format?: string): string;
  insert(params: { table: string; values: ReadonlyArray<Record<string, unknown>> }): Promise<unknown>;
  close(): void;
}
interface ChdbModule {
  Session: new (path: string) => ChdbSession;
  version(): { chdb: string; libchdb: string };
}

async function loadChdb(path: string | undefined): Promise<{ module: ChdbModule; from: string }> {
  const candidates = path ? [path] : ['chdb', DEFAULT_CHDB];
  const errors: string[] = [];
  for (const candidate of candidates) {
    try {
      return { module: (await import(candidate)) as ChdbModule, from: candidate };
    } catch (error) {
      errors.push(`${candidate}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  throw new SetupError(
    `cannot load chdb (it is not a dependency of convbill: install it apart, e.g. \`npm install --prefix /tmp/chdb-try chdb\`, and pass --chdb or CONVBILL_CHDB): ${errors.join('; ')}`,
  );
}

class SetupError extends Error {}

/** A statement that failed on the current release. */
interface Failure {
  step: string;
  sql: string;
  message: string;
}

/** The current release: one chdb session, statements recorded as they fail. */
class Current {
  readonly failures: Failure[] = [];
  constructor(readonly session: ChdbSession) {}

  exec(step: string, sql: string): boolean {
    try {
      this.session.query(sql, 'TSV');
      return true;
    } catch (error) {
      this.failures.push({ step, sql, message: error instanceof Error ? error.message : String(error) });
      return false;
    }
  }

  rows<T = Record<string, unknown>>(step: string, sql: string): T[] | undefined {
    try {
      const text = this.session.query(sql, 'JSONEachRow');
      return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
    } catch (error) {
      this.failures.push({ step, sql, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }

  /** Raw TSV lines, or undefined when the statement failed. */
  lines(step: string, sql: string): string[] | undefined {
    try {
      return this.session.query(sql, 'TSV').split('\n').filter((line, index, all) => line !== '' || index < all.length - 1);
    } catch (error) {
      this.failures.push({ step, sql, message: error instanceof Error ? error.message : String(error) });
      return undefined;
    }
  }
}

// ---------------------------------------------------------------------------
// 18.16 over HTTP
// ---------------------------------------------------------------------------

class Old {
  constructor(
    readonly url: string,
    readonly user: string,
    readonly password: string,
  ) {}

  private async post(sql: string): Promise<Response> {
    const response = await fetch(`${this.url}/`, {
      method: 'POST',
      body: sql,
      headers: { 'X-ClickHouse-User': this.user, 'X-ClickHouse-Key': this.password },
    }).catch((error: unknown) => {
      throw new SetupError(`cannot reach ClickHouse at ${this.url}: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (!response.ok) throw new Error(`ClickHouse at ${this.url} failed: ${(await response.text()).trim()} (in: ${sql.slice(0, 200)})`);
    return response;
  }

  async text(sql: string): Promise<string> {
    return (await this.post(sql)).text();
  }

  async rows<T = Record<string, unknown>>(sql: string): Promise<T[]> {
    const text = await this.text(`${sql} format JSONEachRow`);
    return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);
  }

  /** The result's bytes into a file, in Native format. */
  async dump(sql: string, file: string): Promise<void> {
    const response = await this.post(`${sql} format Native`);
    if (!response.body) throw new Error(`no body for ${sql}`);
    await pipeline(Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>), createWriteStream(file));
  }
}

interface Dumped {
  /** the 18.16 relation */
  name: string;
  file: string;
  columns: { name: string; type: string }[];
  rows: number;
}

async function dumpRelation(old: Old, database: string, name: string, dir: string): Promise<Dumped> {
  // 18.16's system.columns has no position: describe keeps the order
  const columns = (await old.rows<{ name: string; type: string }>(`describe table ${database}.${name}`)).map(({ name, type }) => ({ name, type }));
  if (columns.length === 0) throw new Error(`18.16 has no ${database}.${name}`);
  const file = join(dir, `${name}.native`);
  await old.dump(`select * from ${database}.${name}`, file);
  const [counted] = await old.rows<{ n: string }>(`select count() as n from ${database}.${name}`);
  return { name, file, columns, rows: Number(counted?.n ?? 0) };
}

// ---------------------------------------------------------------------------
// the SQL of sql/clickhouse/, for one process
// ---------------------------------------------------------------------------

const DISTRIBUTED = /engine\s*=\s*Distributed\(\s*[^,]+,\s*([^,\s]+)\s*,\s*(\w+)\s*,[\s\S]*\)\s*$/i;

/** CHECK ONLY: a Distributed table over X_local becomes a Merge table over it (the header says why). */
function withoutCluster(statement: string): string {
  const rewritten = statement.replace(DISTRIBUTED, (_, database: string, local: string) => `engine = Merge(${database}, '^${local}$')`);
  if (/Distributed\s*\(/i.test(rewritten)) throw new Error(`cannot rewrite the Distributed clause of: ${statement}`);
  return rewritten;
}

// ---------------------------------------------------------------------------
// datasets
// ---------------------------------------------------------------------------

interface Dataset {
  name: string;
  /** the build's options but the engine's */
  options(dir: string): BuildOptions;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Row = Record<string, string | null>;

function csvCell(value: string | null | undefined): string {
  if (value === null || value === undefined) return '';
  return /[",\r\n]/.test(value) || value !== value.trim() ? `"${value.replaceAll('"', '""')}"` : value;
}

function writeCsv(path: string, columns: string[], rows: Row[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, [columns.join(','), ...rows.map((row) => columns.map((column) => csvCell(row[column])).join(','))].join('\n') + '\n');
}

function writeNdjson(path: string, rows: Row[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, rows.map((row) => JSON.stringify(row)).join('\n') + '\n');
}

const demo: Dataset = {
  name: 'demo',
  options(dir) {
    const config = join(dirname(sqlDirectory()), 'seeds', 'demo', 'convbill.json');
    return { ...resolveBuildOptions({ config }), db: join(dir, 'convbill.duckdb'), parquetDir: join(dir, 'parquet') };
  },
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * About `rows` input rows, seeded: what a real export holds, and the cases
 * the models decide: open, long (cross-cycle) and boundary interactions,
 * rows after as-of, conflicting accounts, merged rows, message rows,
 * calendar gaps, local times across DST changes, and row rejects.
 */
function randomDataset(rows: number, seed: number): Dataset {
  return {
    name: 'random',
    options(dir) {
      const random = mulberry32(seed);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
      const chance = (p: number) => random() < p;
      const from = Date.parse('2025-07-01T00:00:00Z');
      const to = Date.parse('2026-10-10T00:00:00Z');
      const asOf = '2026-09-20T12:00:00Z';
      const platforms = ['whatsapp', 'sms', 'facebook', 'instagram', 'line'];
      const orgs: Record<string, number> = { acme: 5, globex: 3, initech: 3, umbrella: 2, hooli: 2 };
      const integrations = Object.entries(orgs).flatMap(([org, count]) =>
        Array.from({ length: count }, (_, k) => ({ org, id: `${org}-${platforms[k % platforms.length]}-${k}`, platform: platforms[k % platforms.length] as string })),
      );
      // odd accounts travel through DuckDB's CSV, ClickHouse's CSV input and the raw JSON text
      const odd = ['cust "O\'Brien"', 'back\\slash', 'tab\there', 'ünïcødé-☎', ' padded ', "'single-quoted'"];
      const account = (org: string) => (chance(0.004) ? pick(odd) : `${org}-cust-${Math.floor(random() * 350)}`);
      // cycle boundaries of the rules, in UTC (both offsets of Paris and New York; one of each is the boundary)
      const boundary = (org: string): number => {
        const month = new Date(from + Math.floor(random() * (to - from)));
        const y = month.getUTCFullYear();
        const m = month.getUTCMonth();
        switch (org) {
          case 'globex':
            return Date.UTC(y, m, 14, pick([22, 23]));
          case 'umbrella':
            return Date.UTC(y, m, Math.min(31, new Date(Date.UTC(y, m + 1, 0)).getUTCDate()), pick([4, 5]));
          case 'initech':
            return Date.UTC(y, m, 6, pick([3, 4]));
          case 'hooli':
            return Date.parse(pick(['2025-10-01', '2025-12-01', '2026-01-01', '2026-04-01', '2026-04-10']) + 'T00:00:00Z');
          default:
            return Date.UTC(y, m, 1);
        }
      };
      const iso = (ms: number) => {
        const text = new Date(ms).toISOString();
        const style = random();
        if (style < 0.5) return text.replace('.000Z', 'Z');
        if (style < 0.75) return text;
        const offset = pick([120, 330, -300, -180]);
        const local = new Date(ms + offset * 60_000).toISOString().slice(0, 19);
        const sign = offset < 0 ? '-' : '+';
        const abs = Math.abs(offset);
        return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
      };
      const duration = () => {
        const kind = random();
        if (kind < 0.7) return Math.floor(random() * 6 * HOUR);
        if (kind < 0.95) return Math.floor(random() * 10 * DAY);
        return Math.floor((20 + random() * 60) * DAY);
      };

      const interactionRows: Row[] = [];
      const messageRows: Row[] = [];
      const localRows: Row[] = [];
      const known: { id: string; org: string; integration: string; account: string; start: number; end: number | null }[] = [];
      let n = 0;
      const base = Math.round(rows * 0.58);
      for (let i = 0; i < base; i += 1) {
        const integration = pick(integrations);
        const id = `ix-${(n += 1)}`;
        const acct = account(integration.org);
        let start = from + Math.floor(random() * (to - from));
        let end: number | null = start + duration();
        if (chance(0.03)) {
          // on a cycle boundary: starting at it, ending at it, or a millisecond either side
          const at = boundary(integration.org);
          const how = pick(['start', 'end', 'start-1', 'end+1']);
          if (how.startsWith('start')) start = at - (how === 'start-1' ? 1 : 0);
          else {
            end = at + (how === 'end+1' ? 1 : 0);
            start = end - duration();
          }
        }
        if (chance(0.07)) end = null;
        const row: Row = {
          interaction_id: id,
          org_id: integration.org,
          integration_id: integration.id,
          customer_account_id: acct,
          started_at: iso(start),
          ended_at: end === null ? null : iso(end),
          platform: chance(0.5) ? integration.platform : null,
        };
        // row rejects of §5
        const defect = random();
        if (defect < 0.004) row.ended_at = iso(start - HOUR);
        else if (defect < 0.007) row.customer_account_id = null;
        else if (defect < 0.01) row.started_at = 'not a date';
        else if (defect < 0.012) row.started_at = '1999-12-31T23:00:00Z';
        else if (defect < 0.014) row.integration_id = null;
        else known.push({ id, org: integration.org, integration: integration.id, account: acct, start, end });
        interactionRows.push(row);
        // merged rows: the same interaction again (a later end, or none), or with another account (a conflict)
        if (chance(0.03)) interactionRows.push({ ...row, ended_at: chance(0.5) || end === null ? null : iso(end + Math.floor(random() * 3 * DAY)) });
        if (chance(0.012)) interactionRows.push({ ...row, customer_account_id: `${integration.org}-other-${Math.floor(random() * 10)}` });
      }
      // message rows: conversations of messages only, and messages of known interactions (some after their end)
      const groups = Math.round(rows * 0.08);
      for (let g = 0; g < groups; g += 1) {
        const parent = chance(0.3) ? pick(known) : undefined;
        const integration = parent ? undefined : pick(integrations);
        const org = parent?.org ?? (integration as { org: string }).org;
        const id = parent?.id ?? `msg-${(n += 1)}`;
        const acct = parent?.account ?? account(org);
        let at = parent ? parent.start + Math.floor(random() * 2 * DAY) : from + Math.floor(random() * (to - from));
        const messages = 1 + Math.floor(random() * 5);
        for (let k = 0; k < messages; k += 1) {
          at += Math.floor(random() * 8 * HOUR);
          messageRows.push({
            interaction_id: id,
            org_id: org,
            integration_id: parent?.integration ?? (integration as { id: string }).id,
            customer_account_id: acct,
            occurred_at: new Date(at).toISOString(),
            message_id: `wamid.${g}.${k}`,
            ...(chance(0.3) ? { platform: 'whatsapp' } : {}),
          });
        }
      }
      // local wall-clock times read in America/New_York: across its DST changes, and anywhere
      const dstWindows = [Date.parse('2025-11-02T00:00:00Z'), Date.parse('2026-03-08T00:00:00Z')];
      const local = Math.round(rows * 0.1);
      const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
      for (let i = 0; i < local; i += 1) {
        const integration = pick(integrations.filter((item) => item.org === 'umbrella' || item.org === 'acme'));
        const start = chance(0.4) ? (pick(dstWindows) as number) + Math.floor(random() * 4 * HOUR) : from + Math.floor(random() * (to - from));
        const end = chance(0.08) ? null : start + duration();
        localRows.push({
          interaction_id: `ny-${(n += 1)}`,
          org_id: integration.org,
          integration_id: integration.id,
          customer_account_id: account(integration.org),
          started_at: wall(start),
          ended_at: end === null ? null : wall(end),
        });
      }
      const half = Math.floor(interactionRows.length / 2);
      const columns = ['interaction_id', 'org_id', 'integration_id', 'customer_account_id', 'started_at', 'ended_at', 'platform'];
      writeCsv(join(dir, 'logs', 'utc', 'interactions-a.csv'), columns, interactionRows.slice(0, half));
      writeCsv(join(dir, 'logs', 'utc', 'interactions-b.csv'), columns, interactionRows.slice(half));
      writeNdjson(join(dir, 'logs', 'utc', 'messages.ndjson'), messageRows);
      writeCsv(join(dir, 'logs', 'local', 'new-york.csv'), columns.slice(0, 6), localRows);
      // every integration but one is listed; that one takes its platform from its rows
      writeCsv(
        join(dir, 'integrations.csv'),
        ['integration_id', 'platform', 'org_id', 'name'],
        integrations.slice(0, -1).map((item) => ({ integration_id: item.id, platform: item.platform, org_id: item.org, name: `${item.platform} of ${item.org}` })),
      );
      // hooli bills on a calendar with gaps (December 2025, 1-10 April 2026)
      writeCsv(
        join(dir, 'cycles.csv'),
        ['org_id', 'cycle_start', 'cycle_end', 'cycle_id'],
        [
          { org_id: 'hooli', cycle_start: '2025-07-01', cycle_end: '2025-10-01', cycle_id: 'Q3-2025' },
          { org_id: 'hooli', cycle_start: '2025-10-01', cycle_end: '2025-12-01', cycle_id: null },
          { org_id: 'hooli', cycle_start: '2026-01-01', cycle_end: '2026-04-01', cycle_id: 'Q1-2026' },
          { org_id: 'hooli', cycle_start: '2026-04-10', cycle_end: '2026-10-01', cycle_id: null },
        ],
      );
      return {
        db: join(dir, 'out', 'convbill.duckdb'),
        parquetDir: join(dir, 'out', 'parquet'),
        sources: [
          { path: join(dir, 'logs', 'utc'), timezone: 'UTC', columns: {}, key: 'sources[0]' },
          { path: join(dir, 'logs', 'local'), timezone: 'America/New_York', columns: {}, key: 'sources[1]' },
        ],
        integrations: join(dir, 'integrations.csv'),
        cycles: {
          defaultRule: { anchorDay: 1, timezone: 'UTC' },
          orgRules: {
            globex: { anchorDay: 15, timezone: 'Europe/Paris' },
            initech: { anchorDay: 6, timezone: 'America/Santiago' },
            umbrella: { anchorDay: 31, timezone: 'America/New_York' },
          },
          calendar: join(dir, 'cycles.csv'),
        },
        asOf,
      };
    },
  };
}

// ---------------------------------------------------------------------------
// the check of one dataset
// ---------------------------------------------------------------------------

interface Comparison {
  table: string;
  oldRows: number;
  currentRows: number | undefined;
  equal: boolean;
  detail: string[];
}

interface Outcome {
  dataset: string;
  comparisons: Comparison[];
  failures: Failure[];
  /** other findings on the current release: audits with offending rows, partitions a rebuild would rewrite */
  findings: string[];
  seconds: Record<string, number>;
}

/** `select` the columns in the dump's order, as TSV lines; both sides on the current release, so formatted alike. */
function compare(current: Current, table: string, actual: string, expected: Dumped, step: string): Comparison {
  const columns = current.rows<{ name: string; type: string }>(step, `describe table ${actual}`);
  const detail: string[] = [];
  if (columns) {
    const mine = columns.map((column) => `${column.name} ${column.type}`).join(', ');
    const theirs = expected.columns.map((column) => `${column.name} ${column.type}`).join(', ');
    if (mine !== theirs) detail.push(`columns differ: 26.7 (${mine}) vs 18.16 (${theirs})`);
  }
  const masked = UNSPECIFIED[expected.name] ?? {};
  const list = expected.columns.map((column) => masked[column.name] ?? `\`${column.name}\``).join(', ');
  const ours = current.lines(step, `select ${list} from ${actual}`);
  const theirs = current.lines(step, `select ${list} from ${expectedTable(actual, expected)}`);
  if (!ours || !theirs) return { table, oldRows: expected.rows, currentRows: ours?.length, equal: false, detail: [...detail, 'a statement failed (below)'] };
  const counts = new Map<string, number>();
  for (const line of theirs) counts.set(line, (counts.get(line) ?? 0) + 1);
  const onlyCurrent: string[] = [];
  for (const line of ours) {
    const left = counts.get(line) ?? 0;
    if (left > 0) counts.set(line, left - 1);
    else onlyCurrent.push(line);
  }
  const onlyOld = [...counts].flatMap(([line, left]) => Array.from({ length: left }, () => line));
  if (theirs.length !== expected.rows) detail.push(`the dump loaded ${theirs.length} of the ${expected.rows} rows 18.16 holds`);
  if (onlyCurrent.length || onlyOld.length) {
    const header = expected.columns.map((column) => column.name).join('\t');
    detail.push(`${onlyOld.length} row(s) only on 18.16, ${onlyCurrent.length} only on 26.7; columns: ${header}`);
    for (const line of onlyOld.sort().slice(0, 5)) detail.push(`  18.16 only: ${line}`);
    for (const line of onlyCurrent.sort().slice(0, 5)) detail.push(`  26.7  only: ${line}`);
  }
  return { table, oldRows: expected.rows, currentRows: ours.length, equal: detail.length === 0, detail };
}

/**
 * Values the SQL leaves unspecified, compared as one placeholder: a conflicting
 * interaction's customer_account_id is any() of its accounts (DuckDB's model
 * takes any_value too); only its verdict counts, and it is rejected whole.
 */
const UNSPECIFIED: Record<string, Record<string, string>> = {
  int_interactions_local: { customer_account_id: `if(has_account_conflict = 1, '(any of its accounts)', customer_account_id) as customer_account_id` },
};

const expectedTable = (actual: string, dumped: Dumped) => `${actual.split('.')[0]}_expected.${dumped.name}`;

/** The dump as a table of the current release: the 18.16 types, its rows. */
function loadExpected(current: Current, database: string, dumped: Dumped): void {
  const step = `load 18.16's ${dumped.name}`;
  const columns = dumped.columns.map((column) => `\`${column.name}\` ${column.type}`).join(', ');
  const table = `${database}_expected.${dumped.name}`;
  current.exec(step, `create table ${table} (${columns}) engine = Memory`);
  if (statSync(dumped.file).size > 0) current.exec(step, `insert into ${table} select * from file(${clickhouseString(dumped.file)}, 'Native')`);
}

/** What swap.ts needs of a cluster, on the one chdb session: one shard, no network. */
function standIn(current: Current, database: string, step: () => string): ClickHouseCluster {
  const fail = (sql: string) => {
    const last = current.failures.at(-1);
    return new Error(`failed on 26.7: ${last?.message.split('\n')[0] ?? ''} (in: ${sql.replace(/\s+/g, ' ').slice(0, 200)})`);
  };
  const run = async (sql: string) => {
    if (!current.exec(step(), sql)) throw fail(sql);
  };
  const rows = async (sql: string) => {
    const found = current.rows(step(), sql);
    if (!found) throw fail(sql);
    return found;
  };
  const client = {
    insert: async ({ table, values }: { table: string; values: Record<string, unknown>[] }) => {
      try {
        await current.session.insert({ table: `${database}.${table}`, values });
      } catch (error) {
        current.failures.push({ step: step(), sql: `insert into ${database}.${table} (${values.length} rows)`, message: error instanceof Error ? error.message : String(error) });
        throw fail(`insert into ${table}`);
      }
    },
    command: async ({ query }: { query: string }) => run(query),
  };
  return {
    database,
    settings: { url: 'chdb', cluster: CLUSTER, database, user: 'default', password: '' },
    shards: [{ num: 1, url: 'chdb', client }],
    entry: client,
    onEachShard: run,
    run,
    rows,
  } as unknown as ClickHouseCluster;
}

async function checkDataset(dataset: Dataset, old: Old, chdb: ChdbModule, work: string, keep: boolean): Promise<Outcome> {
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T> | T): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      seconds[name] = (performance.now() - started) / 1000;
    }
  };
  const database = `convbill_current_${process.pid}_${dataset.name}`;
  const dir = join(work, dataset.name);
  const dumps = join(dir, 'dumps');
  mkdirSync(dumps, { recursive: true });
  const hosts = await old.rows<{ host_address: string }>(`select distinct host_address from system.clusters where cluster = ${clickhouseString(CLUSTER)}`);
  const dropOld = async () => {
    for (const { host_address } of hosts) {
      const url = new URL(old.url);
      url.hostname = host_address;
      await new Old(url.origin, old.user, old.password).text(`drop database if exists ${database}`);
    }
  };
  await dropOld();
  try {
    // 1. the build on 18.16
    const options = dataset.options(dir);
    await timed('18.16 build', async () => {
      try {
        await build({ ...options, engine: 'clickhouse', clickhouse: { url: old.url, cluster: CLUSTER, database, user: old.user, password: old.password } });
      } catch (error) {
        throw new SetupError(`the convbill build of ${dataset.name} on 18.16 failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    // 2. its inputs, outputs and readers' views
    const dumped = await timed('dump from 18.16', async () => {
      const found = new Map<string, Dumped>();
      for (const name of [...INPUT_TABLES, ...DUCKDB_TABLES, ...MODEL_OUTPUTS.map(([, theirs]) => theirs), ...PUBLISHED]) {
        if (!found.has(name)) found.set(name, await dumpRelation(old, database, name, dumps));
      }
      return found;
    });
    const [run] = await old.rows<{ run_id: string; as_of: string }>(`select run_id, as_of from ${database}.cfg_run_local`);
    const [manifest] = await old.rows<{ run_id: string; history_run_id: string; as_of: string }>(
      `select run_id, history_run_id, as_of from ${database}.convbill_manifest order by run_id desc limit 1`,
    );
    if (!run || !manifest) throw new SetupError(`the 18.16 build of ${dataset.name} left no cfg_run_local or manifest row`);
    const runId = Number(run.run_id);
    const reasons = await old.rows<{ reason: string; n: string }>(`select reason, count() as n from ${database}.rejected_interactions group by reason order by reason`);
    const open = await old.rows<{ open: string; spanning: string; total: string }>(
      `select countIf(ended_at is null) as open, countIf(last_cycle_seq > first_cycle_seq) as spanning, count() as total from ${database}.int_interactions_local`,
    );
    console.log(
      `  ${dataset.name}: built on 18.16 (run ${runId}); ${dumped.get('stg_rows_local')?.rows} staged rows, ${open[0]?.total} interactions ` +
        `(${open[0]?.open} open, ${open[0]?.spanning} over several cycles), rejects: ${reasons.map((row) => `${row.reason} ${row.n}`).join(', ') || 'none'}`,
    );

    // 3. the same on the current release
    const session = new chdb.Session(join(dir, 'chdb'));
    const current = new Current(session);
    let step = '';
    const findings: string[] = [];
    const comparisons: Comparison[] = [];
    try {
      const values: Placeholders = { database, cluster: CLUSTER, run_id: runId };
      await timed('26.7: tables, inputs, models, audits, publish', async () => {
        current.exec('setup', `create database ${database}`);
        current.exec('setup', `create database ${database}_expected`);
        current.exec('setup', `use ${database}`);
        // as build.ts's createTables: state/ (not build_tables), then readers/
        for (const folder of ['state', 'readers'] as const) {
          for (const [file, statements] of clickhouseFolder(folder, values)) {
            if (file === 'build_tables') continue;
            for (const statement of statements) current.exec(`sql/clickhouse/${folder}/${file}.sql`, withoutCluster(statement));
          }
        }
        for (const name of [...INPUT_TABLES, ...DUCKDB_TABLES]) {
          const table = dumped.get(name) as Dumped;
          if (statSync(table.file).size > 0) current.exec(`load ${name}`, `insert into ${database}.${name} select * from file(${clickhouseString(table.file)}, 'Native')`);
        }
        for (const statement of clickhouseSql('state', 'build_tables', values)) current.exec('sql/clickhouse/state/build_tables.sql', withoutCluster(statement));
        for (const model of SHARD_MODELS) {
          for (const statement of clickhouseSql('models', model, values)) current.exec(`sql/clickhouse/models/${model}.sql`, statement);
        }
        const audit = (subject: Placeholders, label: string) => {
          for (const [name, statements] of clickhouseFolder('audits', subject)) {
            for (const statement of statements) {
              const offending = current.rows(`sql/clickhouse/audits/${name}.sql (${label})`, statement);
              if (offending && offending.length) findings.push(`audit ${name} (${label}) fails on 26.7: ${JSON.stringify(offending[0])}`);
            }
          }
        };
        audit({ database, detail: 'fct_billable_conversations_next', counts: 'fct_conversation_counts_next' }, 'over the run');
        for (const name of new Set(MODEL_OUTPUTS.map(([, theirs]) => theirs))) loadExpected(current, database, dumped.get(name) as Dumped);
        for (const [ours, theirs] of MODEL_OUTPUTS) {
          comparisons.push(compare(current, ours === theirs ? ours : `${ours} vs 18.16 ${theirs}`, `${database}.${ours}`, dumped.get(theirs) as Dumped, `compare ${ours}`));
        }
        // publish as the build does: swap.ts over a stand-in for the cluster
        const cluster = standIn(current, database, () => step);
        try {
          step = 'src/build/clickhouse/swap.ts partitionChanges';
          const changes = await partitionChanges(cluster);
          step = 'src/build/clickhouse/swap.ts publishPartitions';
          await publishPartitions(cluster, { runId, historyRunId: Number(manifest.history_run_id), asOfMs: Number(manifest.as_of) }, changes);
          step = 'src/build/clickhouse/swap.ts partitionChanges (the same inputs again)';
          const again = await partitionChanges(cluster);
          if (again.length) {
            findings.push(
              `on 26.7 a rebuild of the same inputs would rewrite ${again.length} of ${changes.length} partitions (swap.ts partitionChanges; first: ${JSON.stringify(again[0])})`,
            );
          }
        } catch (error) {
          // the statement and its message are in current.failures
          if (!current.failures.length) findings.push(`publishing with swap.ts on 26.7 failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        audit({ database, detail: 'fct_billable_conversations', counts: 'fct_conversation_counts' }, 'over the readers\' views');
        for (const name of PUBLISHED) loadExpected(current, database, dumped.get(name) as Dumped);
        for (const name of PUBLISHED) comparisons.push(compare(current, name, `${database}.${name}`, dumped.get(name) as Dumped, `compare ${name}`));
      });
    } finally {
      session.close();
      if (!keep) rmSync(join(dir, 'chdb'), { recursive: true, force: true });
    }
    return { dataset: dataset.name, comparisons, failures: current.failures, findings, seconds };
  } finally {
    if (!keep) await dropOld().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------

function report(outcome: Outcome): boolean {
  console.log(`\n== ${outcome.dataset}`);
  const width = Math.max(...outcome.comparisons.map((comparison) => comparison.table.length), 10);
  console.log(`  ${'table'.padEnd(width)}  ${'18.16 rows'.padStart(10)}  ${'26.7 rows'.padStart(10)}  result`);
  for (const comparison of outcome.comparisons) {
    console.log(
      `  ${comparison.table.padEnd(width)}  ${String(comparison.oldRows).padStart(10)}  ${String(comparison.currentRows ?? '-').padStart(10)}  ${comparison.equal ? 'equal' : 'DIFFERENT'}`,
    );
    for (const line of comparison.detail) console.log(`      ${line}`);
  }
  for (const finding of outcome.findings) console.log(`  FINDING: ${finding}`);
  if (outcome.failures.length) {
    console.log(`  ${outcome.failures.length} statement(s) failed on 26.7:`);
    for (const failure of outcome.failures) {
      console.log(`  --- ${failure.step}\n${failure.sql.replace(/^/gm, '      ')}\n    => ${failure.message.trim().split('\n').slice(0, 3).join('\n       ')}`);
    }
  }
  console.log(`  seconds: ${Object.entries(outcome.seconds).map(([name, value]) => `${name} ${value.toFixed(1)}`).join(', ')}`);
  return outcome.failures.length === 0 && outcome.findings.length === 0 && outcome.comparisons.every((comparison) => comparison.equal);
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: process.env.CONVBILL_TEST_CLICKHOUSE_URL || 'http://127.0.0.1:18123' },
      rows: { type: 'string', default: '20000' },
      seed: { type: 'string', default: '1' },
      datasets: { type: 'string', default: 'demo,random' },
      chdb: { type: 'string', default: process.env.CONVBILL_CHDB },
      keep: { type: 'boolean', default: false },
    },
  });
  const started = performance.now();
  const { module: chdb, from } = await loadChdb(values.chdb);
  const version = chdb.version();
  const old = new Old((values.url as string).replace(/\/$/, ''), process.env.CONVBILL_TEST_CLICKHOUSE_USER || 'default', process.env.CONVBILL_TEST_CLICKHOUSE_PASSWORD ?? '');
  const oldVersion = (await old.text('select version()')).trim();
  console.log(`ClickHouse ${oldVersion} at ${old.url} (cluster ${CLUSTER}) against chdb ${version.chdb} (ClickHouse ${version.libchdb.replaceAll('"', '')}, ${from})`);
  const all: Record<string, Dataset> = { demo, random: randomDataset(Number(values.rows), Number(values.seed)) };
  const chosen = (values.datasets as string).split(',').map((name) => {
    const dataset = all[name.trim()];
    if (!dataset) throw new SetupError(`--datasets: no dataset "${name}" (demo, random)`);
    return dataset;
  });
  const work = mkdtempSync(join(tmpdir(), 'convbill-current-clickhouse-'));
  let ok = true;
  try {
    for (const dataset of chosen) ok = report(await checkDataset(dataset, old, chdb, work, Boolean(values.keep))) && ok;
  } finally {
    if (values.keep) console.log(`\nkept: ${work} (and the 18.16 databases convbill_current_${process.pid}_*)`);
    else rmSync(work, { recursive: true, force: true });
  }
  console.log(`\n${ok ? 'OK: the SQL computes the same on both releases' : 'FAILED: see above'} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`check:clickhouse-current: ${error instanceof SetupError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(error instanceof SetupError ? 2 : 1);
  },
);
