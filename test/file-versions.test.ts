/**
 * Incremental equals full, whatever arrives (docs/billing-rules.md §4,
 * "Files and versions"). Random nights of daily files in CSV, NDJSON, JSON
 * and Parquet, under configured sources and given with --input: late files,
 * the same bytes re-delivered under another path (alone or with other
 * changes that night), a corrected file at a known path, a path put back to
 * an earlier version (A → B → A), a superseded content arriving at another
 * path, a file type we do not read, source settings that change, and as-of
 * moving on (now and then back). After every night the warehouse, its
 * published copy and its Parquet export must equal one full build of the
 * files as they are now, into a fresh database; and the run history must
 * say what the night did with each path.
 *
 * FILE_VERSION_SEEDS=1-200 (or 7,9) runs other seeds, the default is 1-50;
 * FILE_VERSION_NIGHTS=8 runs longer sequences (default 3).
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import { EXPORTED_TABLES } from '../src/build/parquet-exports.js';
import type { BuildOptions } from '../src/config/build-options.js';
import type { SourceSpec } from '../src/ingest/ingest.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';
import { plainValue } from '../src/engine/duckdb/values.js';
import { mulberry32, seedsFromEnv, tempDir, type InputRow } from './helpers.js';

const DAY = 86_400_000;
const ORGS = ['default', 'acme', 'globex'];
const INTEGRATIONS = [['wa-1', 'whatsapp'], ['wa-2', 'whatsapp'], ['fb-1', 'facebook']] as const;
const COLUMNS = ['org_id', 'integration_id', 'interaction_id', 'customer_account_id', 'platform', 'started_at', 'ended_at', 'occurred_at'];
const EXTENSIONS = ['csv', 'ndjson', 'json', 'parquet'] as const;
type Extension = (typeof EXTENSIONS)[number];
const FOLDERS = ['inbox', 'archive', 'drops'] as const;
/** FILE_VERSION_NIGHTS: nights per seed */
const NIGHTS = Number(process.env.FILE_VERSION_NIGHTS ?? 3);

/** What a build must publish, in a stable order. Load ids differ between the two warehouses and are left out. */
const MARTS: Record<string, string> = {
  fct_billable_conversations: `select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, customer_account_id,
      interaction_count, first_activity_at, last_activity_at from fct_billable_conversations order by all`,
  fct_conversation_counts: `select org_id, cycle_id, cycle_start, integration_id, platform, conversations from fct_conversation_counts order by all`,
  fct_conversation_charges: `select org_id, cycle_id, integration_id, platform, conversations, currency, amount::varchar as amount
      from fct_conversation_charges order by all`,
  dim_billing_cycles: `select org_id, cycle_id, cycle_start, cycle_end from dim_billing_cycles order by all`,
  dim_integrations: `select org_id, integration_id, platform from dim_integrations order by all`,
  rejected_interactions: `select source_file, source_row, reason, raw from rejected_interactions order by all`,
  rpt_source_files: `select source_file, format, content_hash, rows_read, rows_accepted, rows_rejected, rows_filtered, identity_holds
      from rpt_source_files where counted order by all`,
  rpt_data_quality: `select check_name, affected_count from rpt_data_quality where check_name <> 'superseded_rows' order by all`,
};

type Event = 'new' | 'late' | 'other_path' | 'correct' | 'revert' | 'superseded_elsewhere' | 'same_again' | 'unreadable' | 'source_timezone' | 'source_archive';

interface World {
  dir: string;
  /** each path ever written: its versions' bytes, the last one on disk now */
  versions: Map<string, Buffer[]>;
  archiveConfigured: boolean;
  inboxTimezone: string;
  /** files of a type convbill does not read, under inbox/: ignored by every build */
  unreadable: string[];
}

function scenario(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => rnd() < p;
  const accountOf = new Map<string, string>();
  const iso = (ms: number) => new Date(ms).toISOString();
  // an offset-less instant is read in its source's timezone
  const wallClock = (ms: number) => iso(ms).slice(0, 19).replace('T', ' ');

  const row = (asOfMs: number, late: boolean): InputRow => {
    const org = pick(ORGS);
    const [integration, platform] = pick(INTEGRATIONS);
    const key = `${org}/${integration}/i-${int(10)}`;
    let account = accountOf.get(key) ?? `cust-${int(6)}`;
    if (chance(0.04)) account = `other-${int(3)}`; // a conflict, perhaps with an older file's row
    accountOf.set(key, account);
    const base = late ? asOfMs - (40 + int(150)) * DAY : chance(0.07) ? asOfMs + int(4) * DAY : asOfMs - int(12) * DAY;
    const start = base + int(86_400) * 1000;
    const when = (ms: number) => (chance(0.25) ? wallClock(ms) : iso(ms));
    const out: InputRow = {
      org_id: org === 'default' && chance(0.5) ? '' : org,
      integration_id: integration,
      interaction_id: chance(0.05) ? '' : key.split('/')[2],
      customer_account_id: account,
      platform,
    };
    if (chance(0.3)) out.occurred_at = when(start);
    else {
      out.started_at = when(start);
      out.ended_at = chance(0.2) ? '' : when(start + pick([10 * 60_000, 5 * 3_600_000, 3 * DAY, 25 * DAY]) * (0.5 + rnd()));
    }
    const bad = rnd();
    if (bad < 0.02) out.customer_account_id = '  ';
    else if (bad < 0.04) out[out.started_at !== undefined ? 'started_at' : 'occurred_at'] = 'yesterday';
    return out;
  };
  return { rnd, int, pick, chance, row };
}

async function bytesOf(extension: Extension, dataRows: InputRow[], scratch: string): Promise<Buffer> {
  const full = dataRows.map((dataRow) => Object.fromEntries(COLUMNS.map((column) => [column, dataRow[column] ?? ''])));
  if (extension === 'csv') {
    const cell = (value: unknown) => (/[",\n]/.test(String(value)) ? `"${String(value).replaceAll('"', '""')}"` : String(value));
    return Buffer.from([COLUMNS.join(','), ...full.map((dataRow) => COLUMNS.map((column) => cell(dataRow[column])).join(','))].join('\n') + '\n');
  }
  if (extension === 'ndjson') return Buffer.from(full.map((dataRow) => JSON.stringify(dataRow)).join('\n') + '\n');
  if (extension === 'json') return Buffer.from(JSON.stringify(full, null, 1));
  // Parquet: every column text, written by DuckDB
  const ndjson = join(scratch, 'parquet-source.ndjson');
  const out = join(scratch, 'parquet-out.parquet');
  writeFileSync(ndjson, full.map((dataRow) => JSON.stringify(dataRow)).join('\n') + '\n');
  const engine = await Warehouse.open(':memory:');
  try {
    const columns = `{${COLUMNS.map((column) => `${sqlString(column)}: 'varchar'`).join(', ')}}`;
    await engine.run(`copy (select ${COLUMNS.join(', ')} from read_json(${sqlString(ndjson)}, columns = ${columns})) to ${sqlString(out)} (format parquet)`);
  } finally {
    engine.close();
  }
  const bytes = readFileSync(out);
  rmSync(out);
  return bytes;
}

function sourcesOf(world: World): SourceSpec[] {
  const sources: SourceSpec[] = [{ key: 'sources[0]', path: join(world.dir, 'inbox'), timezone: world.inboxTimezone, columns: {} }];
  if (world.archiveConfigured) sources.push({ key: 'sources[1]', path: join(world.dir, 'archive'), timezone: 'UTC', columns: {} });
  return sources;
}

/** The --input paths: every file ever written under drops/ (they stay loaded). */
const dropsOf = (world: World) => [...world.versions.keys()].filter((path) => path.startsWith(join(world.dir, 'drops'))).sort();

function optionsFor(world: World, db: string, inputs: string[], asOfMs: number, fullRefresh = false): BuildOptions {
  return {
    db: join(world.dir, `${db}.duckdb`),
    parquetDir: join(world.dir, `${db}_parquet`),
    sources: sourcesOf(world),
    inputs,
    cycles: { defaultRule: { anchorDay: 1, timezone: 'UTC' }, orgRules: { acme: { anchorDay: 15, timezone: 'Europe/Paris' } } },
    prices: [
      { platform: 'whatsapp', currency: 'EUR', unit_price: '0.0125', included_conversations: 2 },
      { platform: 'facebook', currency: 'EUR', unit_price: '0.01' },
    ],
    asOf: new Date(asOfMs).toISOString(),
    fullRefresh,
    // tiny builds: one thread costs a quarter less CPU, and CI runs two test files at once
    threads: 1,
  };
}

/** Runs each query on one read-only connection to `db`: opening a file per query would cost more than the builds. */
async function readAll(db: string, queries: Record<string, string>): Promise<Record<string, unknown[]>> {
  const engine = await Warehouse.open(db, { readOnly: true });
  try {
    const result: Record<string, unknown[]> = {};
    for (const [name, sql] of Object.entries(queries)) {
      const table = await engine.table(sql);
      result[name] = table.rows.map((row) => Object.fromEntries(table.columns.map((column, i) => [column, plainValue(row[i] ?? null)])));
    }
    return result;
  } finally {
    engine.close();
  }
}

/** The nightly warehouse's Parquet export, read as a tool that globs the folder would; a table with no rows has no file. */
const exportsOf = (world: World): Record<string, string> => Object.fromEntries(Object.entries(EXPORTED_TABLES).map(([table, columns]) => {
  const folder = join(world.dir, 'nightly_parquet', table);
  const empty = !readdirSync(folder, { recursive: true }).some((file) => String(file).endsWith('.parquet'));
  return [
    `${table} exported`,
    empty ? `select 1 where false` : `select ${columns.join(', ')} from read_parquet(${sqlString(join(folder, '**', '*.parquet'))},
         hive_partitioning = true, hive_types_autocast = false, union_by_name = true)
     order by all`,
  ];
}));

async function expectFullBuildOf(world: World, asOfMs: number, label: string): Promise<void> {
  const name = `full-${label.replace(/\W+/g, '-')}`;
  const full = await build(optionsFor(world, name, dropsOf(world), asOfMs));
  expect(full.plan.fullRefresh).toBe(true);
  const detail = Object.fromEntries(Object.entries(EXPORTED_TABLES).map(([table, columns]) => [`${table} detail`, `select ${columns.join(', ')} from ${table} order by all`]));
  const expected = await readAll(full.db, { ...MARTS, ...detail });
  const nightly = await readAll(join(world.dir, 'nightly.duckdb'), { ...MARTS, ...exportsOf(world) });
  for (const table of Object.keys(MARTS)) expect(nightly[table], `${table}, ${label}`).toEqual(expected[table]);
  const published = await readAll(join(world.dir, 'nightly_published.duckdb'), Object.fromEntries(
    ['fct_billable_conversations', 'fct_conversation_counts', 'fct_conversation_charges', 'rejected_interactions'].map((table) => [table, MARTS[table] as string]),
  ));
  for (const [table, values] of Object.entries(published)) expect(values, `${table} published, ${label}`).toEqual(expected[table]);
  for (const table of Object.keys(EXPORTED_TABLES)) expect(nightly[`${table} exported`], `${table} exported, ${label}`).toEqual(expected[`${table} detail`]);
  for (const file of [full.db, `${full.db}.wal`, join(world.dir, `${name}_published.duckdb`)]) rmSync(file, { force: true });
  for (const folder of [join(world.dir, `${name}_parquet`), join(world.dir, `.${name}_parquet.versions`), join(world.dir, `${name}_runs`), `${full.db}.raw`]) {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** One night: its events, applied to the files and the config; returns the --input paths to name. */
async function night(world: World, plan: ReturnType<typeof scenario>, asOfMs: number, index: number, seen: Seen) {
  const { int, pick, chance, row } = plan;
  const inputs = new Set<string>();
  const events: Event[] = [];
  const writtenTonight = new Set<string>();
  const write = (path: string, bytes: Buffer) => {
    writeFileSync(path, bytes);
    writtenTonight.add(path);
    world.versions.set(path, [...(world.versions.get(path) ?? []), bytes]);
    if (path.startsWith(join(world.dir, 'drops'))) inputs.add(path);
  };
  const onDisk = (path: string) => world.versions.get(path)?.at(-1) as Buffer;
  const newPath = (extension: Extension) => join(world.dir, pick(FOLDERS), `day-${index}-${int(1e6)}.${extension}`);
  const extensionOf = (path: string) => path.slice(path.lastIndexOf('.') + 1) as Extension;
  const existing = () => [...world.versions.keys()];

  const count = index === 0 ? 1 + int(2) : 1 + int(4);
  for (let n = 0; n < count; n += 1) {
    const event = index === 0 ? 'new' : pick<Event>([
      'new', 'new', 'late', 'other_path', 'other_path', 'correct', 'correct', 'revert', 'revert', 'superseded_elsewhere',
      'superseded_elsewhere', 'same_again', 'unreadable', 'source_timezone', 'source_archive',
    ]);
    events.push(event);
    if (event === 'new' || event === 'late') {
      const extension = pick(EXTENSIONS);
      const dataRows = Array.from({ length: 4 + int(14) }, () => row(asOfMs, event === 'late'));
      write(newPath(extension), await bytesOf(extension, dataRows, world.dir));
    } else if (event === 'other_path' || event === 'same_again') {
      const from = pick(existing());
      write(event === 'same_again' ? from : newPath(extensionOf(from)), onDisk(from));
    } else if (event === 'correct') {
      const path = pick(existing());
      // a corrected export: other rows, some of them late
      const dataRows = Array.from({ length: 3 + int(10) }, () => row(asOfMs, chance(0.3)));
      write(path, await bytesOf(extensionOf(path), dataRows, world.dir));
    } else if (event === 'revert' || event === 'superseded_elsewhere') {
      // versions the warehouse has read, so the event is a real one: a path it saw hold A, then B, goes back to A;
      // a content it read that no path holds now arrives at another path
      const candidates = event === 'revert'
        ? existing().filter((path) => !writtenTonight.has(path) && seen.earlierVersionsOf(path, onDisk(path)).length > 0)
        : existing();
      const held = new Set(existing().map((path) => onDisk(path).toString('base64')));
      const superseded = candidates.flatMap((path) => (world.versions.get(path) as Buffer[])
        .filter((bytes) => seen.knows(bytes) && !held.has(bytes.toString('base64')))
        .map((bytes) => ({ path, bytes })));
      if (event === 'revert' && candidates.length > 0) {
        const path = pick(candidates);
        write(path, pick(seen.earlierVersionsOf(path, onDisk(path)).map((content) => Buffer.from(content, 'base64'))));
      } else if (event === 'superseded_elsewhere' && superseded.length > 0) {
        const { path, bytes } = pick(superseded);
        write(newPath(extensionOf(path)), bytes);
      } else {
        // nothing to put back yet: correct a file, so that later nights have versions to go back to
        const path = pick(existing());
        write(path, await bytesOf(extensionOf(path), Array.from({ length: 3 + int(10) }, () => row(asOfMs, chance(0.3))), world.dir));
        events[events.length - 1] = 'correct';
      }
    } else if (event === 'unreadable') {
      const path = join(world.dir, 'inbox', `notes-${index}-${n}.txt`);
      writeFileSync(path, 'not a log\n');
      world.unreadable.push(path);
    } else if (event === 'source_timezone') {
      world.inboxTimezone = world.inboxTimezone === 'UTC' ? 'Asia/Kolkata' : 'UTC';
    } else {
      world.archiveConfigured = !world.archiveConfigured;
    }
  }
  return { inputs: [...inputs], events };
}

/**
 * What the warehouse has seen: each path's versions as it read them, and
 * the contents that counted at the last build. The run history of a night
 * is told against it.
 */
class Seen {
  private readonly paths = new Map<string, string[]>();
  private readonly known = new Set<string>();
  private counted = new Set<string>();

  /** The paths a build reads: every file under a configured source, and the --input paths it names. */
  static scanned(world: World, inputs: string[]): string[] {
    const folders = ['inbox', ...(world.archiveConfigured ? ['archive'] : [])].map((folder) => join(world.dir, folder) + '/');
    return [...world.versions.keys()].filter((path) => folders.some((folder) => path.startsWith(folder)) || inputs.includes(path));
  }

  knows(bytes: Buffer): boolean {
    return this.known.has(bytes.toString('base64'));
  }

  /** The contents the warehouse saw at `path` before, other than what it holds now. */
  earlierVersionsOf(path: string, now: Buffer): string[] {
    const content = now.toString('base64');
    const versions = this.paths.get(path) ?? [];
    return versions.at(-1) === content ? [...new Set(versions.filter((version) => version !== content))] : [];
  }

  /** loaded, unchanged, reverted, duplicate or restored: what the night did with `path`, told against the state before it. */
  eventOf(path: string, bytes: Buffer): string {
    const content = bytes.toString('base64');
    const versions = this.paths.get(path) ?? [];
    if (versions.at(-1) === content) return 'unchanged';
    if (versions.includes(content)) return 'reverted';
    if (!this.known.has(content)) return 'loaded';
    return this.counted.has(content) ? 'duplicate' : 'restored';
  }

  update(world: World, scanned: string[]): void {
    for (const path of scanned) {
      const content = (world.versions.get(path)?.at(-1) as Buffer).toString('base64');
      const versions = this.paths.get(path) ?? [];
      if (versions.at(-1) !== content) this.paths.set(path, [...versions, content]);
      this.known.add(content);
    }
    const counting = (path: string) =>
      [join(world.dir, 'inbox'), join(world.dir, 'drops'), ...(world.archiveConfigured ? [join(world.dir, 'archive')] : [])]
        .some((folder) => path.startsWith(folder + '/'));
    this.counted = new Set([...this.paths].filter(([path]) => counting(path)).map(([, versions]) => versions.at(-1) as string));
  }
}

describe('file versions: incremental equals full', () => {
  for (const seed of seedsFromEnv(process.env.FILE_VERSION_SEEDS) ?? Array.from({ length: 50 }, (_, i) => i + 1)) {
    it(`seed ${seed}: after every night of loads, re-deliveries, corrections and reversions, the warehouse equals a fresh full build`, async () => {
      const dir = tempDir();
      for (const folder of FOLDERS) mkdirSync(join(dir, folder));
      const world: World = { dir, versions: new Map(), archiveConfigured: seed % 2 === 0, inboxTimezone: 'UTC', unreadable: [] };
      const plan = scenario(seed);
      const seen = new Seen();
      let asOfMs = Date.UTC(2026, 0, 1) + plan.int(300) * DAY;
      const nights: string[] = [];
      for (let index = 0; index < NIGHTS; index += 1) {
        if (index > 0) asOfMs = plan.chance(0.07) ? asOfMs - plan.int(20) * DAY : asOfMs + plan.pick([0, 1, 1, 2, 20, 35]) * DAY + plan.int(3_600) * 1000;
        const { inputs, events } = await night(world, plan, asOfMs, index, seen);
        const label = `seed ${seed}, night ${index} (${events.join(', ')})`;
        const scanned = Seen.scanned(world, inputs);
        const expected = new Map(scanned.map((path) => [path, seen.eventOf(path, world.versions.get(path)?.at(-1) as Buffer)]));
        for (const path of world.unreadable) expected.set(path, 'ignored');
        const result = await build(optionsFor(world, 'nightly', inputs, asOfMs));
        seen.update(world, scanned);
        await expectFullBuildOf(world, asOfMs, label);
        // the run history says what the night did with every path it read
        const { history } = await readAll(join(dir, 'nightly.duckdb'), {
          history: `select source_file, event from convbill_run_files where run_id = ${result.runId} and event not in ('superseded', 'dropped')`,
        }) as { history: { source_file: string; event: string }[] };
        const said = new Map(history.map((entry) => [entry.source_file, entry.event]));
        // new content at several paths this night: one of them loads it, the others are duplicates
        const byContent = new Map<string, string[]>();
        for (const [path, event] of expected) {
          if (event !== 'loaded') continue;
          const content = (world.versions.get(path)?.at(-1) as Buffer).toString('base64');
          byContent.set(content, [...(byContent.get(content) ?? []), path]);
        }
        for (const paths of byContent.values()) {
          const loadedAt = paths.filter((path) => said.get(path) === 'loaded');
          expect(loadedAt, `${label}: one path loads new content`).toHaveLength(1);
          for (const path of paths) if (path !== loadedAt[0]) expected.set(path, 'duplicate');
        }
        expect(Object.fromEntries(said), `${label}: the run history`).toEqual(Object.fromEntries(expected));
        const told = [...said.values()].reduce((tally, event) => tally.set(event, (tally.get(event) ?? 0) + 1), new Map<string, number>());
        nights.push(`${label}: ${result.plan.reason}; history: ${[...told].map(([event, n]) => `${event} ${n}`).join(', ')}`);
      }
      expect(existsSync(join(dir, 'nightly_runs', 'run_results.json'))).toBe(true);
      // FILE_VERSION_LOG=1 prints each night's events and plan
      if (process.env.FILE_VERSION_LOG) console.log(nights.join('\n'));
    }, 300_000);
  }
});
