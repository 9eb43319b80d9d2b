/**
 * The data dictionary against a real published copy: every published table
 * and column described exactly once, nothing described that is not there,
 * every mart's lineage reaching the raw layer, and the committed
 * docs/data-dictionary.md equal to what `convbill docs` writes.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type LineageNode, checkDictionary, dataDictionary, describeTables, lineageOf } from '../src/read/docs.js';
import { sqlDirectory } from '../src/project/load-models.js';
import { PUBLISHED_TABLES } from '../src/build/publish.js';
import { reconcile } from '../src/read/reconcile.js';
import { type InputRow, buildFacts, rows, tempDir, writeCsv } from './helpers.js';

const talk = (org: string, integration: string, account: string, start: string, minutes = 10): InputRow => ({
  org_id: org,
  interaction_id: `${integration}-${account}-${start}`,
  integration_id: integration,
  customer_account_id: account,
  started_at: start,
  ended_at: new Date(Date.parse(start) + minutes * 60_000).toISOString(),
});

/** Build, reconcile, build again: the second build publishes the reconcile tables too. */
async function publishedWarehouse(): Promise<string> {
  const dir = tempDir();
  const logs = writeCsv(dir, 'logs.csv', [
    talk('acme', 'wa-1', 'a1', '2024-01-10T10:00:00Z'),
    talk('acme', 'wa-1', 'a2', '2024-02-10T10:00:00Z'),
    talk('beta', 'sms-1', 'b1', '2024-01-12T10:00:00Z'),
    { ...talk('beta', 'sms-1', '', '2024-01-13T10:00:00Z'), customer_account_id: '' },
  ]);
  const options = {
    dir,
    inputs: [logs],
    integrations: writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-1', platform: 'whatsapp' }, { integration_id: 'sms-1', platform: 'sms' }]),
    prices: [{ currency: 'EUR', unit_price: '0.01' }],
    asOf: '2024-02-20T00:00:00Z',
  };
  const first = await buildFacts(options);
  const invoices = writeCsv(dir, 'invoices.csv', [
    { invoice_id: 'I-1', org_id: 'acme', cycle_id: '2024-01-01', quantity: 1 },
    { invoice_id: 'I-1', org_id: 'beta', cycle_id: '2024-01-01', quantity: 2 },
  ]);
  await reconcile({ db: first.db, invoices });
  const second = await buildFacts({ ...options, inputs: [] });
  return second.result.publishedDb;
}

function nodes(tree: LineageNode): LineageNode[] {
  return [tree, ...tree.reads.flatMap(nodes)];
}

describe('data dictionary', () => {
  let published: string;
  beforeAll(async () => {
    published = await publishedWarehouse();
  });

  it('describes every published table and column exactly once, and nothing the database lacks', async () => {
    const tables = describeTables();
    expect(tables.map((table) => table.name)).toEqual([...PUBLISHED_TABLES, 'convbill_publication']);
    for (const table of tables) {
      const names = table.columns.map((column) => column.name);
      expect(new Set(names).size, `${table.name} describes a column twice`).toBe(names.length);
      for (const column of table.columns) expect(column.description.length, `${table.name}.${column.name}`).toBeGreaterThan(5);
      expect(table.grain, table.name).not.toBe('');
      expect(table.purpose, table.name).not.toBe('');
    }
    // the check is not vacuous: the reconcile tables are there
    const present = await rows(published, `select distinct table_name from duckdb_columns() where not internal and schema_name = 'main'`);
    expect(present.map((row) => row.table_name)).toEqual(expect.arrayContaining([...PUBLISHED_TABLES, 'convbill_publication']));
    expect(await checkDictionary(published)).toEqual({ undescribed: [], absent: [] });
  });

  it('finds a column left undescribed and a description left behind', async () => {
    const root = join(tempDir(), 'sql');
    cpSync(sqlDirectory(), root, { recursive: true });
    const counts = join(root, 'marts', 'fct_conversation_counts.sql');
    const text = readFileSync(counts, 'utf8');
    writeFileSync(counts, text.replace(/^--   platform: .*\n/m, '--   plaform: a misspelt column\n'));
    expect(await checkDictionary(published, root)).toEqual({
      undescribed: ['fct_conversation_counts.platform'],
      absent: ['fct_conversation_counts.plaform'],
    });
  });

  it('every lineage reaches the raw layer through described relations only', () => {
    for (const table of describeTables()) {
      const all = nodes(lineageOf(table.name));
      expect(all.filter((node) => node.kind === 'undescribed').map((node) => node.name), table.name).toEqual([]);
      if (table.name !== 'convbill_publication') expect(all.map((node) => node.name), table.name).toContain('raw_load_tables');
    }
    // the models a mart reads directly are named, CTEs are not
    expect(lineageOf('fct_conversation_charges').reads.map((node) => node.name)).toEqual(['cfg_prices', 'fct_conversation_counts']);
  });

  it('docs/data-dictionary.md is the committed output of `convbill docs`', () => {
    const committed = resolve('docs/data-dictionary.md');
    const generated = dataDictionary();
    // CONVBILL_UPDATE_DOCS=1 rewrites the copy after a model's header or reads change
    if (process.env.CONVBILL_UPDATE_DOCS === '1') writeFileSync(committed, generated);
    expect(readFileSync(committed, 'utf8'), 'docs/data-dictionary.md is stale: run `convbill docs --out docs/data-dictionary.md` (or this test with CONVBILL_UPDATE_DOCS=1)').toBe(generated);
    for (const table of describeTables()) expect(generated.split('\n').filter((line) => line === `## ${table.name}`)).toHaveLength(1);
  });
});
