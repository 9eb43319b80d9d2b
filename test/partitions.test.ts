/**
 * The Parquet export's folders, `org=<enc>/cycle=<enc>/`: whatever an org_id
 * (input rows) or a cycle_id (a calendar file) holds, the build succeeds,
 * every file lands inside the export version, folder names stay short and
 * plain, and the files carry the real values (docs/nightly.md, the export's
 * folders).
 */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';
import { installMacros } from '../src/project/run-models.js';
import { buildFacts, rows, tempDir, writeCsv, type InputRow } from './helpers.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('partition_folder: the encoding of a folder value', () => {
  let warehouse: Warehouse;
  beforeAll(async () => {
    warehouse = await Warehouse.open(':memory:');
    await installMacros(warehouse);
    return () => warehouse.close();
  });
  const encode = (value: string) => warehouse.value<string>(`select partition_folder($value)`, { value });

  // written out by hand from the rule in sql/macros/duckdb/partition_folder.sql
  const cases: [string, string][] = [
    ['acme', 'acme'],
    ['2024-01-01', '2024-01-01'],
    ['a.b_c-D9', 'a.b_c-D9'],
    ['..', '~2E.'],
    ['.', '~2E'],
    ['.hidden', '~2Ehidden'],
    ['a/b', 'a~2Fb'],
    ['/', '~2F'],
    ['/etc', '~2Fetc'],
    ['../../../tmp/evil', '~2E.~2F..~2F..~2Ftmp~2Fevil'],
    ['%2e%2e', '~252e~252e'],
    ['a=b', 'a~3Db'],
    ['=', '~3D'],
    ['~', '~7E'],
    ['~7E', '~7E7E'],
    ['', '~'],
    ['\u0001', '~01'],
    ['line\nbreak\ttab', 'line~0Abreak~09tab'],
    ['a b', 'a~20b'],
    ['é', '~C3~A9'],
    ['日本', '~E6~97~A5~E6~9C~AC'],
    ['a'.repeat(64), 'a'.repeat(64)],
  ];
  for (const [value, expected] of cases) {
    it(`${JSON.stringify(value)} is ${expected}`, async () => {
      expect(await encode(value)).toBe(expected);
    });
  }

  it('an encoding past 64 characters keeps 40 of them, then ~~ and 16 hex digits of the value\'s sha256', async () => {
    const long = 'a'.repeat(65);
    expect(await encode(long)).toBe(`${'a'.repeat(40)}~~${sha256(long).slice(0, 16)}`);
    const mega = 'o'.repeat(1 << 20);
    expect(await encode(mega)).toBe(`${'o'.repeat(40)}~~${sha256(mega).slice(0, 16)}`);
    // short in bytes, long once escaped
    const slashes = '/'.repeat(30);
    expect(await encode(slashes)).toBe(`${'~2F'.repeat(13)}~~${sha256(slashes).slice(0, 16)}`);
  });

  it('the cut never splits a ~XX: the 40th character falling inside one, the prefix stops before it', async () => {
    // 38 letters, then ~2F at characters 39-41
    const value = `${'a'.repeat(38)}/${'b'.repeat(30)}`;
    expect(await encode(value)).toBe(`${'a'.repeat(38)}~~${sha256(value).slice(0, 16)}`);
    // six é are 36 characters, the seventh's first byte 37-39, its second 40-42
    const accents = 'é'.repeat(20);
    expect(await encode(accents)).toBe(`${'~C3~A9'.repeat(6)}~C3~~${sha256(accents).slice(0, 16)}`);
  });

  it('values differing only past the 40th character get distinct folders', async () => {
    const [first, second] = [`${'p'.repeat(70)}A`, `${'p'.repeat(70)}B`];
    expect(await encode(first)).not.toBe(await encode(second));
    expect(await encode(first)).toMatch(/^p{40}~~[0-9a-f]{16}$/);
  });
});

// ---------------------------------------------------------------------------
// A build on hostile keys
// ---------------------------------------------------------------------------

/** The org whose cycles come from a calendar file with hostile cycle ids. */
const CALENDAR_ORG = '../../../tmp/evil';
const MEGA_ORG = 'o'.repeat(1 << 20);
const HOSTILE_ORGS = [
  'acme', '/', '/leading', '..', '.', '%2e%2e', '%2F..%2F', '=', 'org_id=x', 'a=b/c=d', '~', '~7E',
  '\u0001', 'ctl\u0001x', 'line\nbreak', 'tab\there', 'café', '日本語', 'x'.repeat(300),
  `${'p'.repeat(70)}A`, `${'p'.repeat(70)}B`, MEGA_ORG, CALENDAR_ORG,
];
const HOSTILE_CYCLES = [
  '..', '.', '/', '/root', '../../../tmp/evil', '%2e%2e', '=', 'cycle_id=x', '~', '\u0001', 'new\nline', 'tab\tbed',
  'été', 'y'.repeat(300), `${'q'.repeat(70)}1`, `${'q'.repeat(70)}2`,
];
const AS_OF = '2024-05-20T00:00:00Z';
const DAY = 86_400_000;
const CALENDAR_START = Date.parse('2024-01-01T00:00:00Z');
const WEEK = 7 * DAY;

function interactionRows(): InputRow[] {
  const out: InputRow[] = [];
  for (const [n, org] of HOSTILE_ORGS.entries()) {
    // settled in January, and one still open at as-of
    out.push({ org_id: org, interaction_id: `s-${n}`, integration_id: 'wa-1', customer_account_id: `c-${n}`,
      started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-10T10:00:00Z' });
    out.push({ org_id: org, interaction_id: `o-${n}`, integration_id: 'wa-1', customer_account_id: `c-${n}`,
      started_at: '2024-04-02T09:00:00Z', ended_at: '' });
  }
  // one settled conversation in each calendar cycle
  for (const index of HOSTILE_CYCLES.keys()) {
    const start = new Date(CALENDAR_START + index * WEEK + DAY).toISOString();
    out.push({ org_id: CALENDAR_ORG, interaction_id: `w-${index}`, integration_id: 'wa-2', customer_account_id: 'weekly',
      started_at: start, ended_at: start });
  }
  return out;
}

/** One cycle per week from 2024-01-01, each with a hostile id, through as-of. */
function calendarRows(): InputRow[] {
  const weeks = Math.ceil((Date.parse(AS_OF) - CALENDAR_START) / WEEK) + 1;
  return Array.from({ length: Math.max(weeks, HOSTILE_CYCLES.length) }, (_, index) => ({
    org_id: CALENDAR_ORG,
    cycle_start: new Date(CALENDAR_START + index * WEEK).toISOString(),
    cycle_end: new Date(CALENDAR_START + (index + 1) * WEEK).toISOString(),
    cycle_id: HOSTILE_CYCLES[index] ?? `week-${index}`,
  }));
}

function options(work: string, db: string, inputs: string[]): BuildOptions {
  return {
    db: join(work, `${db}.duckdb`),
    parquetDir: join(work, `${db}_parquet`),
    sources: [],
    inputs,
    cycles: { defaultRule: { anchorDay: 1, timezone: 'UTC' }, orgRules: {}, calendar: join(work, 'calendar.csv') },
    asOf: AS_OF,
  };
}

/** Every path under `root` (symbolic links are listed, not followed). */
function walk(root: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    out.push(path);
    if (entry.isDirectory()) out.push(...walk(path));
  }
  return out;
}

/** Strictly below `folder`. */
const inside = (path: string, folder: string) => {
  const from = relative(folder, path);
  return from !== '' && from !== '..' && !from.startsWith(`..${sep}`) && !isAbsolute(from);
};

/** What a build writes in the warehouse folder besides the export versions. */
const BESIDE_THE_EXPORT = new RegExp(
  '^(convbill\\.duckdb(\\.wal)?|convbill\\.duckdb\\.tmp(/.*)?|convbill_published\\.duckdb|convbill_runs(/[\\w-]+\\.json)?' +
    '|convbill_parquet|\\.convbill_parquet\\.versions)$',
);

const FACT_COLUMNS = 'org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, customer_account_id, ' +
  'interaction_count, first_activity_at, last_activity_at';

/** Rows of one relation missing from the other, either way (exact, in DuckDB). */
async function differences(db: string, left: string, right: string): Promise<number> {
  const [row] = await rows(db, `select count(*)::integer as n from (
      (select ${FACT_COLUMNS} from ${left} except all select ${FACT_COLUMNS} from ${right})
      union all
      (select ${FACT_COLUMNS} from ${right} except all select ${FACT_COLUMNS} from ${left}))`);
  return row?.n as number;
}

const detail = (version: string, hive: boolean, more = '') =>
  `read_parquet(${sqlString(join(version, 'fct_billable_conversations', '*', '*', '*.parquet'))}, hive_partitioning = ${hive}${more})`;

describe('the export of a build whose org ids and cycle ids are hostile', () => {
  // the work folder sits deep in the test's own folder, so that a path
  // climbing out of it would still land where the walk sees it
  const root = tempDir('convbill-partitions-');
  const work = join(root, 'a', 'b', 'c', 'd', 'work');
  let before: Set<string>;
  let version: string;
  let db: string;
  let publishedDb: string;

  beforeAll(async () => {
    mkdirSync(work, { recursive: true });
    writeCsv(work, 'calendar.csv', calendarRows());
    writeCsv(work, 'logs.csv', interactionRows());
    before = new Set(walk(root));
    const result = await build(options(work, 'convbill', [join(work, 'logs.csv')]));
    db = result.db;
    publishedDb = result.publishedDb;
    version = realpathSync(join(work, 'convbill_parquet'));
  });

  it('succeeds and bills every hostile org and every hostile cycle id', async () => {
    const orgs = await rows(db, `select distinct sha256(org_id) as digest from fct_billable_conversations`);
    expect(orgs.map((row) => row.digest).sort()).toEqual(HOSTILE_ORGS.map(sha256).sort());
    const cycles = await rows(db, `select distinct sha256(cycle_id) as digest from fct_billable_conversations
      where org_id = ${sqlString(CALENDAR_ORG)}`);
    expect(cycles.map((row) => row.digest)).toEqual(expect.arrayContaining(HOSTILE_CYCLES.map(sha256)));
  });

  it('the export round-trips the real org_id and cycle_id, with Hive partitioning off and on', async () => {
    const count = await rows(db, `select count(*)::integer as n from fct_billable_conversations`);
    expect(count[0]?.n).toBeGreaterThan(HOSTILE_ORGS.length * 3);
    expect(await differences(db, 'fct_billable_conversations', detail(version, false))).toBe(0);
    expect(await differences(db, 'fct_billable_conversations', detail(version, true))).toBe(0);
    const counts = (hive: boolean) =>
      `read_parquet(${sqlString(join(version, 'fct_conversation_counts', '*', '*', '*.parquet'))}, hive_partitioning = ${hive})`;
    for (const hive of [false, true]) {
      const [row] = await rows(db, `select count(*)::integer as n from (
          (select org_id, cycle_id, cycle_start, integration_id, conversations from fct_conversation_counts
           except all select org_id, cycle_id, cycle_start, integration_id, conversations from ${counts(hive)})
          union all
          (select org_id, cycle_id, cycle_start, integration_id, conversations from ${counts(hive)}
           except all select org_id, cycle_id, cycle_start, integration_id, conversations from fct_conversation_counts))`);
      expect(row?.n, `counts, hive_partitioning = ${hive}`).toBe(0);
    }
  });

  it('the published view returns the real values', async () => {
    const orgs = await rows(publishedDb, `select distinct sha256(org_id) as digest from fct_billable_conversations`);
    expect(orgs.map((row) => row.digest).sort()).toEqual(HOSTILE_ORGS.map(sha256).sort());
    const [row] = await rows(publishedDb, `select count(*)::integer as n from fct_billable_conversations
      where org_id = ${sqlString(MEGA_ORG)}`);
    expect(row?.n).toBeGreaterThan(0);
  });

  it('every file the build wrote is inside the export version or is one of the warehouse files beside it', () => {
    const created = walk(root).filter((path) => !before.has(path));
    const versions = join(work, '.convbill_parquet.versions');
    for (const path of created) {
      const real = join(realpathSync(dirname(path)), basename(path));
      expect(inside(real, work), path).toBe(true);
      if (inside(real, versions)) expect(real === version || inside(real, version), path).toBe(true);
      else expect(relative(work, real), path).toMatch(BESIDE_THE_EXPORT);
    }
    expect(readlinkSync(join(work, 'convbill_parquet'))).toBe(relative(work, version));
    for (const path of walk(version)) {
      const real = realpathSync(path);
      expect(inside(real, version), path).toBe(true);
      if (lstatSync(path).isFile()) {
        expect(relative(version, path), path).toMatch(
          /^(_convbill_run|fct_\w+\/org=[^/]+\/cycle=[^/]+\/(data|settled|(settled|active)_r\d+)_\d+\.parquet)$/,
        );
      }
    }
  });

  it('folder names are a key, then at most 64 characters of A-Z a-z 0-9 . _ ~ -, never . or ..', () => {
    for (const table of ['fct_billable_conversations', 'fct_conversation_counts']) {
      for (const orgFolder of readdirSync(join(version, table))) {
        for (const [name, key] of [
          [orgFolder, 'org'],
          ...readdirSync(join(version, table, orgFolder)).map((cycle) => [cycle, 'cycle']),
        ] as [string, string][]) {
          expect(name.length, name).toBeLessThanOrEqual(64 + 18);
          const value = name.slice(key.length + 1);
          expect(name.startsWith(`${key}=`), name).toBe(true);
          expect(value, name).toMatch(/^[A-Za-z0-9._~-]{1,64}$/);
          expect(['.', '..']).not.toContain(value);
        }
      }
    }
  });

  it('each folder holds one org and cycle, named as partition_folder names it (DuckDB adds no escapes of its own)', async () => {
    const folders = await rows(db, `
      select
          parse_dirpath(filename) as folder,
          count(distinct org_id)::integer as orgs,
          count(distinct cycle_id)::integer as cycles,
          any_value('org=' || partition_folder(org_id) || '/cycle=' || partition_folder(cycle_id)) as expected
      from ${detail(version, false, ', filename = true')}
      group by folder`);
    const partitions = await rows(db, `select count(*)::integer as n from (select distinct org_id, cycle_id from fct_billable_conversations)`);
    expect(folders).toHaveLength(partitions[0]?.n as number);
    for (const folder of folders) {
      expect([folder.orgs, folder.cycles], String(folder.folder)).toEqual([1, 1]);
      expect(String(folder.folder).endsWith(`/${String(folder.expected)}`), String(folder.folder)).toBe(true);
    }
    // the two orgs that differ past the 40th character
    const pp = readdirSync(join(version, 'fct_billable_conversations')).filter((name) => name.startsWith(`org=${'p'.repeat(40)}~~`));
    expect(pp).toHaveLength(2);
  });

  it('an incremental build after a change in one hostile org rewrites its partition and equals a fresh full build', async () => {
    const changed = writeCsv(work, 'more.csv', [
      { org_id: CALENDAR_ORG, interaction_id: 'late', integration_id: 'wa-3', customer_account_id: 'new',
        started_at: '2024-01-02T12:00:00Z', ended_at: '2024-01-02T13:00:00Z' },
      { org_id: MEGA_ORG, interaction_id: 'late', integration_id: 'wa-3', customer_account_id: 'new',
        started_at: '2024-01-03T12:00:00Z', ended_at: '2024-01-03T13:00:00Z' },
    ]);
    const inodes = (folder: string) =>
      new Map(walk(folder).filter((path) => statSync(path).isFile()).map((path) => [relative(folder, path), statSync(path).ino]));
    const previous = inodes(version);
    const nightly = await build(options(work, 'convbill', [join(work, 'logs.csv'), changed]));
    expect(nightly.plan.fullRefresh).toBe(false);
    const next = realpathSync(join(work, 'convbill_parquet'));
    expect(next).not.toBe(version);
    const now = inodes(next);

    const encode = async (value: string) =>
      (await rows(db, `select partition_folder(${sqlString(value)}) as folder`))[0]?.folder as string;
    const detailFolder = async (org: string, cycle: string) =>
      join('fct_billable_conversations', `org=${await encode(org)}`, `cycle=${await encode(cycle)}`);
    const rewritten = [await detailFolder(CALENDAR_ORG, HOSTILE_CYCLES[0] as string), await detailFolder(MEGA_ORG, '2024-01-01')];
    const untouched = [await detailFolder('..', '2024-01-01'), await detailFolder(`${'p'.repeat(70)}A`, '2024-01-01')];
    for (const folder of [...rewritten, ...untouched]) {
      expect([...now.keys()].some((path) => path.startsWith(`${folder}/`)), folder).toBe(true);
    }
    for (const [path, inode] of now) {
      if (!path.startsWith('fct_billable_conversations/')) continue;
      // a rewritten partition keeps its earlier settled files and adds one of the conversations settled since
      const dirty = rewritten.some((folder) => path.startsWith(`${folder}/`));
      if (dirty && !/\/settled_\d+\.parquet$/.test(path)) expect(previous.get(path), `${path} is written anew`).not.toBe(inode);
      if (dirty && /\/settled_\d+\.parquet$/.test(path)) expect(previous.get(path), `${path} is kept`).toBe(inode);
      if (untouched.some((folder) => path.startsWith(`${folder}/`))) expect(previous.get(path), `${path} is linked`).toBe(inode);
    }
    for (const folder of rewritten) {
      const added = [...now.keys()].filter((path) => path.startsWith(`${folder}/settled_r${nightly.runId}_`));
      expect(added, `${folder} gets a file of the conversations settled in run ${nightly.runId}`).toHaveLength(1);
    }

    const fresh = await build(options(work, 'fresh', [join(work, 'logs.csv'), changed]));
    expect(fresh.plan.fullRefresh).toBe(true);
    const freshVersion = realpathSync(join(work, 'fresh_parquet'));
    expect(await differences(fresh.db, detail(freshVersion, false), detail(next, false))).toBe(0);
    expect(await differences(fresh.db, 'fct_billable_conversations', detail(next, true))).toBe(0);
  });
});

describe('an export version of the earlier layout', () => {
  it('is never linked from: the next incremental build writes the export whole in the new layout', async () => {
    const dir = tempDir();
    const day = (n: number, org: string): InputRow => ({ org_id: org, interaction_id: `i-${n}`, integration_id: 'wa-1',
      customer_account_id: `c-${n}`, started_at: `2024-01-${String(10 + n).padStart(2, '0')}T09:00:00Z`, ended_at: '' });
    const first = await buildFacts({ dir, inputs: [writeCsv(dir, 'one.csv', [day(1, 'acme'), day(2, 'globex')])], asOf: AS_OF });
    // what an earlier convbill left: org_id=…/cycle_id=… folders, a marker with the run alone
    const old = realpathSync(join(dir, 'convbill_parquet'));
    const facts = join(old, 'fct_billable_conversations');
    for (const org of readdirSync(facts)) {
      for (const cycle of readdirSync(join(facts, org))) renameSync(join(facts, org, cycle), join(facts, org, `cycle_id=${cycle.slice(6)}`));
      renameSync(join(facts, org), join(facts, `org_id=${org.slice(4)}`));
    }
    writeFileSync(join(old, '_convbill_run'), `${first.result.runId}\n`);

    const second = await buildFacts({ dir, inputs: [join(dir, 'one.csv'), writeCsv(dir, 'two.csv', [day(3, 'acme')])], asOf: AS_OF });
    expect(second.result.plan.fullRefresh).toBe(false);
    const next = realpathSync(join(dir, 'convbill_parquet'));
    expect(readdirSync(join(next, 'fct_billable_conversations')).sort()).toEqual(['org=acme', 'org=globex']);
    expect(await differences(second.db, 'fct_billable_conversations', detail(next, false))).toBe(0);
  });
});
