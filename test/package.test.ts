/**
 * The package as a user gets it: imported by its own name, which Node
 * resolves through package.json's `exports` to the compiled dist/ (a
 * package may import itself by name), not to src/. Its names are exactly
 * the public API, and a build, a query, the typed API and Arrow work
 * through it on a small real input.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { type InputRow, tempDir, writeCsv } from './helpers.js';

type Package = typeof import('../src/index.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// A variable, so tsc does not resolve the name to a dist/ that may not be built yet.
const NAME = 'convbill';

/** Every runtime name the package exports (types have none): adding or dropping one is a decision, taken here. */
const PUBLIC_NAMES = [
  'ClickHouseDialect',
  'ConfigError',
  'ConvbillError',
  'DifferencesFound',
  'DuckDBDialect',
  'RunError',
  'RunLog',
  'Warehouse',
  'arrowBatches',
  'arrowTable',
  'build',
  'checkDictionary',
  'dataDictionary',
  'decimalString',
  'diffRuns',
  'explain',
  'exportClickHouseTable',
  'exportTable',
  'ingestOnly',
  'init',
  'listRuns',
  'openWarehouse',
  'parseTolerance',
  'query',
  'queryClickHouse',
  'reconcile',
  'renderReport',
  'resolveBuildOptions',
  'testClickHouseWarehouse',
  'testWarehouse',
  'writeReport',
];

/** Internals the index once exported or a module exports for its neighbours: none is the package's. */
const INTERNAL_NAMES = [
  'loadModels',
  'runAudits',
  'readConfigFile',
  'publishedPathOf',
  'formatResult',
  'formatSummary',
  'formatReconciliation',
  'formatExplain',
  'parseExportFormat',
  'resolveExportFormat',
  'EXPORT_FORMATS',
  'initHelp',
  'describeTables',
  'lineageOf',
  'selectOf',
  'writeArrowFile',
  'copyToFile',
  'sqlString',
  'sqlIdentifier',
];

describe('the package, imported by name', () => {
  let convbill: Package;
  beforeAll(async () => {
    convbill = (await import(NAME)) as Package;
  });

  it('resolves to the compiled dist/, as for a user', () => {
    expect(fileURLToPath(import.meta.resolve(NAME))).toBe(join(ROOT, 'dist', 'src', 'index.js'));
  });

  it('exports exactly the public API, and no internal', () => {
    const names = Object.keys(convbill).sort();
    expect(names).toEqual([...PUBLIC_NAMES].sort());
    for (const internal of INTERNAL_NAMES) expect(names).not.toContain(internal);
  });

  it('exports the same names to plain Node, outside vitest', () => {
    const script = `const names = Object.keys(await import(${JSON.stringify(NAME)})).sort(); process.stdout.write(JSON.stringify(names));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([...PUBLIC_NAMES].sort());
  });

  it('builds from a config file, then query, openWarehouse and arrowTable read the same counts', async () => {
    const { ConfigError, Warehouse, arrowTable, build, openWarehouse, query, resolveBuildOptions } = convbill;
    const dir = tempDir();
    // docs/billing-rules.md §1: one conversation per (account, integration, cycle)
    const interactions: [string, string, string, string][] = [
      ['a1', 'wa-1', 'whatsapp', '2024-01-10T09:00:00Z'],
      ['a1', 'wa-1', 'whatsapp', '2024-01-20T09:00:00Z'],
      ['a2', 'wa-1', 'whatsapp', '2024-01-12T09:00:00Z'],
      ['a1', 'fb-1', 'facebook', '2024-01-15T09:00:00Z'],
      ['a1', 'wa-1', 'whatsapp', '2024-02-03T09:00:00Z'],
    ];
    const rows: InputRow[] = interactions.map(([account, integration, platform, start], i) => ({
      interaction_id: `i${i + 1}`,
      integration_id: integration,
      customer_account_id: account,
      platform,
      started_at: start,
      ended_at: start.replace('T09:00', 'T09:30'),
    }));
    writeCsv(dir, 'logs.csv', rows);
    const config = join(dir, 'convbill.json');
    writeFileSync(config, JSON.stringify({ db: 'convbill.duckdb', sources: ['logs.csv'], as_of: '2024-03-31T00:00:00Z' }));
    expect(() => resolveBuildOptions({ config: join(dir, 'missing.json') })).toThrow(ConfigError);

    const result = await build(resolveBuildOptions({ config }));
    expect(result.publishedDb).toBe(join(dir, 'convbill_published.duckdb'));
    const expected = [
      { cycle_id: '2024-01-01', integration_id: 'fb-1', conversations: 1 },
      { cycle_id: '2024-01-01', integration_id: 'wa-1', conversations: 2 },
      { cycle_id: '2024-02-01', integration_id: 'wa-1', conversations: 1 },
    ];
    const counts = 'select cycle_id, integration_id, conversations from fct_conversation_counts order by cycle_start, integration_id';

    const queried = await query(result.publishedDb, counts);
    expect(queried.rows.map((row) => Object.fromEntries(queried.columns.map((column, i) => [column, row[i]])))).toEqual(expected);

    const db = openWarehouse(result.publishedDb);
    try {
      const typed = await db
        .selectFrom('fct_conversation_counts')
        .select(['cycle_id', 'integration_id', 'conversations'])
        .orderBy('cycle_start')
        .orderBy('integration_id')
        .execute();
      expect(typed).toEqual(expected);
    } finally {
      await db.destroy();
    }

    const arrowRows = (table: Awaited<ReturnType<Package['arrowTable']>>) =>
      table.toArray().map((row) => ({ cycle_id: row.cycle_id, integration_id: row.integration_id, conversations: Number(row.conversations) }));
    expect(arrowRows(await arrowTable(result.publishedDb, counts))).toEqual(expected);
    const warehouse = await Warehouse.open(result.publishedDb, { readOnly: true });
    try {
      expect(arrowRows(await arrowTable(warehouse, counts))).toEqual(expected);
    } finally {
      warehouse.close();
    }
  });
});
