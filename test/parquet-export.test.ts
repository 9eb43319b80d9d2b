/**
 * The Parquet export as a reader that ignores Hive paths sees it
 * (docs/nightly.md, the export): each exported table's files hold the
 * table's own columns with its types, org_id and cycle_id included and the
 * folder keys not; the charges are exported and equal the mart; and a night
 * rewrites only the charge partitions whose charges changed, a price change
 * included, linking every other file.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sqlString } from '../src/engine/sql-text.js';
import type { PriceEntry } from '../src/reference/prices.js';
import { buildFacts, rows, tempDir, writeCsv, type InputRow } from './helpers.js';

const TABLES = ['fct_billable_conversations', 'fct_conversation_counts', 'fct_conversation_charges'];
const AS_OF = '2024-03-20T00:00:00Z';
const CHARGE_COLUMNS = `org_id, cycle_id, cycle_start, cycle_end, platform, integration_id, conversations,
  billable_conversations, currency, amount, price_scope, price_status`;

function logs(org: string, count: number, prefix = 'i'): InputRow[] {
  return Array.from({ length: count }, (_, n) => {
    const day = `2024-0${1 + (n % 3)}-${String(2 + (n % 25)).padStart(2, '0')}`;
    return {
      org_id: org, interaction_id: `${prefix}-${n}`, integration_id: `wa-${n % 2}`, customer_account_id: `${prefix}-c-${n}`,
      started_at: `${day}T09:00:00Z`, ended_at: `${day}T10:00:00Z`,
    };
  });
}

const PRICES: PriceEntry[] = [
  { currency: 'EUR', unit_price: '0.0125', included_conversations: 2 },
  { org_id: 'globex', currency: 'USD', tiers: [{ up_to: 3, unit_price: '0.10' }, { up_to: null, unit_price: '0.0333' }] },
];

/** Every file under `folder`, by its path inside it, with its inode. */
function inodes(folder: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else out.set(relative(folder, path), statSync(path).ino);
    }
  };
  walk(folder);
  return out;
}

const files = (version: string, table: string) => sqlString(join(version, table, '*', '*', '*.parquet'));

describe('the Parquet export of the detail, the counts and the charges', () => {
  const dir = tempDir('convbill-export-');
  const inputs = [writeCsv(dir, 'acme.csv', logs('acme', 30)), writeCsv(dir, 'globex.csv', logs('globex', 20))];
  let db: string;
  let published: string;
  const version = () => realpathSync(join(dir, 'convbill_parquet'));

  beforeAll(async () => {
    const first = await buildFacts({ dir, inputs, prices: PRICES, asOf: AS_OF });
    db = first.db;
    published = first.result.publishedDb;
  });

  /** Rows of the published table and of its export read with Hive partitioning off, each missing from the other. */
  async function exportDifferences(table: string, columns: string): Promise<number> {
    const exported = `read_parquet(${files(version(), table)}, hive_partitioning = false)`;
    const [row] = await rows(published, `select count(*)::integer as n from (
        (select ${columns} from ${table} except all select ${columns} from ${exported})
        union all
        (select ${columns} from ${exported} except all select ${columns} from ${table}))`);
    return row?.n as number;
  }

  it('each table\'s files hold exactly its columns and types, org_id and cycle_id included, the folder keys not', async () => {
    for (const table of TABLES) {
      const table_ = await rows(published, `select column_name, column_type from (describe ${table})`);
      const [org] = readdirSync(join(version(), table));
      const [cycle] = readdirSync(join(version(), table, org as string));
      const [file] = readdirSync(join(version(), table, org as string, cycle as string));
      const path = join(version(), table, org as string, cycle as string, file as string);
      const parquet = await rows(published, `select column_name, column_type from (describe select * from read_parquet(${sqlString(path)}, hive_partitioning = false))`);
      expect(parquet, `${table}: ${path}`).toEqual(table_);
      const names = parquet.map((column) => column.column_name);
      expect(names).toEqual(expect.arrayContaining(['org_id', 'cycle_id']));
      expect(names).not.toContain('org');
      expect(names).not.toContain('cycle');
      // the file's org and cycle are those its folders name (plain ids are their own encoding)
      const [values] = await rows(published, `select count(distinct org_id)::integer as orgs, count(distinct cycle_id)::integer as cycles,
          any_value('org=' || org_id || '/cycle=' || cycle_id) as folders
        from read_parquet(${sqlString(path)}, hive_partitioning = false)`);
      expect(values).toEqual({ orgs: 1, cycles: 1, folders: `${org}/${cycle}` });
    }
  });

  it('the exported charges equal the mart, amounts exact, with Hive partitioning off and on', async () => {
    const [count] = await rows(published, `select count(*)::integer as n, count(amount)::integer as priced from fct_conversation_charges`);
    expect(count?.n).toBeGreaterThanOrEqual(10);
    expect(count?.priced).toBe(count?.n);
    expect(await exportDifferences('fct_conversation_charges', CHARGE_COLUMNS)).toBe(0);
    const [hive] = await rows(published, `select count(*)::integer as n from (
        select ${CHARGE_COLUMNS} from read_parquet(${files(version(), 'fct_conversation_charges')}, hive_partitioning = true)
        except all select ${CHARGE_COLUMNS} from fct_conversation_charges)`);
    expect(hive?.n).toBe(0);
    const [amounts] = await rows(published, `select string_agg(amount::varchar, ',' order by org_id, cycle_start, integration_id) as exported
      from read_parquet(${files(version(), 'fct_conversation_charges')}, hive_partitioning = false)`);
    const [mart] = await rows(published, `select string_agg(amount::varchar, ',' order by org_id, cycle_start, integration_id) as exported
      from fct_conversation_charges`);
    expect(amounts?.exported).toBe(mart?.exported);
  });

  it('a night with new rows in one org and cycle rewrites that partition\'s charges only, and links the rest', async () => {
    const before = inodes(version());
    const late = writeCsv(dir, 'late.csv', [
      { org_id: 'acme', interaction_id: 'late', integration_id: 'wa-0', customer_account_id: 'new', started_at: '2024-02-03T09:00:00Z', ended_at: '2024-02-03T10:00:00Z' },
    ]);
    const night = await buildFacts({ dir, inputs: [...inputs, late], prices: PRICES, asOf: AS_OF });
    expect(night.result.plan.fullRefresh).toBe(false);
    const after = inodes(version());
    const charges = [...after].filter(([path]) => path.startsWith('fct_conversation_charges/'));
    expect(charges.length).toBeGreaterThan(1);
    for (const [path, inode] of charges) {
      const changed = path.startsWith('fct_conversation_charges/org=acme/cycle=2024-02-01/');
      expect(before.get(path) === inode, `${path} ${changed ? 'is written anew' : 'is linked'}`).toBe(!changed);
    }
    expect(await exportDifferences('fct_conversation_charges', CHARGE_COLUMNS)).toBe(0);
    expect(await exportDifferences('fct_conversation_counts', 'org_id, cycle_id, cycle_start, integration_id, platform, conversations')).toBe(0);
  });

  it('a price change, with no new row, rewrites the charges it changes and no count or detail file', async () => {
    const lines = await rows(published, `select count(*)::integer as n from fct_conversation_charges where org_id = 'globex'`);
    const before = inodes(version());
    const repriced: PriceEntry[] = [PRICES[0] as PriceEntry, { org_id: 'globex', currency: 'USD', unit_price: '0.07' }];
    const night = await buildFacts({ dir, inputs: [...inputs, join(dir, 'late.csv')], prices: repriced, asOf: AS_OF });
    expect(night.result.plan).toMatchObject({ fullRefresh: false, loadsStaged: 0 });
    const after = inodes(version());
    // the version's marker names its build: always new
    const rewritten = [...after].filter(([path, inode]) => path.startsWith('fct_') && before.get(path) !== inode).map(([path]) => path);
    expect(rewritten.length).toBeGreaterThan(0);
    for (const path of rewritten) expect(path).toMatch(/^fct_conversation_charges\/org=globex\/cycle=[^/]+\/data_\d+\.parquet$/);
    const globexFolders = new Set(rewritten.map((path) => path.split('/').slice(0, 3).join('/')));
    expect(globexFolders.size).toBe(readdirSync(join(version(), 'fct_conversation_charges', 'org=globex')).length);
    expect(await exportDifferences('fct_conversation_charges', CHARGE_COLUMNS)).toBe(0);
    const [priced] = await rows(published, `select count(*)::integer as n, sum(amount)::varchar as total, sum(conversations)::integer as conversations
      from read_parquet(${files(version(), 'fct_conversation_charges')}, hive_partitioning = false) where org_id = 'globex'`);
    expect(priced?.n).toBe(lines[0]?.n);
    expect(priced?.total).toBe((Number(priced?.conversations) * 0.07).toFixed(6));
  });
});

describe('an export with no rows', () => {
  it('the export writes the charges folder even with no charge: an empty table, not a missing one', async () => {
    const dir = tempDir();
    // every row rejected: no conversation, so no count and no charge
    const built = await buildFacts({ dir, inputs: [writeCsv(dir, 'bad.csv', [{ interaction_id: 'x', integration_id: '', customer_account_id: 'c', started_at: '2024-01-02T00:00:00Z', ended_at: '' }])], asOf: AS_OF });
    const version = realpathSync(join(dir, 'convbill_parquet'));
    for (const table of TABLES) expect(readdirSync(join(version, table)), table).toEqual([]);
    expect((await built.rows(`select count(*)::integer as n from fct_conversation_charges`))[0]?.n).toBe(0);
  });
});
