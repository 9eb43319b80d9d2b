/**
 * The typed API on real DuckDB files: the committed types match a fresh
 * build's schema and what the driver returns, the analyst queries docs/typed-api.md
 * shows give hand-computed numbers, and the dialect's connection handling
 * (transactions, one query at a time, streaming, read-only) holds.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { CompiledQuery, Kysely, sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { DuckDBDialect } from '../src/typed/dialect.js';
import { publishedPathOf } from '../src/config/warehouse-paths.js';
import type { Database } from '../src/typed/schema.js';
import { buildSchemaDatabase, schemaSource, tsType } from '../scripts/gen-schema-types.js';
import { openWarehouse } from '../src/typed/open-warehouse.js';
import { isNonNull } from '../src/typed/non-null-columns.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { type InputRow, buildFacts, tempDir, writeCsv } from './helpers.js';

describe('generated types', () => {
  let published: string;
  beforeAll(async () => {
    published = await buildSchemaDatabase(tempDir());
  });

  it('src/typed/schema.ts is what the generator writes for a fresh build (run `npm run gen:types` when this fails)', async () => {
    expect(await schemaSource(published)).toBe(readFileSync(new URL('../src/typed/schema.ts', import.meta.url), 'utf8'));
  });

  it('every value the driver returns has the type src/typed/schema.ts gives its column, null only where it allows one', async () => {
    const db = openWarehouse(published);
    try {
      const tables = await db.introspection.getTables();
      let checked = 0;
      for (const table of tables.filter((candidate) => candidate.name !== 'convbill_publication')) {
        const rows = await db.selectFrom(table.name as keyof Database).selectAll().execute();
        expect(rows.length, table.name).toBeGreaterThan(0);
        for (const row of rows as Record<string, unknown>[]) {
          for (const column of table.columns) {
            const value = row[column.name];
            if (value === null) {
              expect(isNonNull(table.name, column.name), `${table.name}.${column.name} is typed non-null but holds null`).toBe(false);
              continue;
            }
            expect(typeof value, `${table.name}.${column.name}`).toBe(tsType(column.dataType));
            if (column.dataType === 'TIMESTAMP WITH TIME ZONE') expect(value).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
            if (column.dataType.startsWith('DECIMAL')) expect(value).toMatch(/^-?\d+\.\d{6}$/);
            checked += 1;
          }
        }
      }
      expect(checked).toBeGreaterThan(1000);
    } finally {
      await db.destroy();
    }
  });
});

describe('values', () => {
  it('maps DuckDB types to exact, JSON-friendly JS and binds JS parameters', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const db = new Kysely<any>({ dialect: new DuckDBDialect({ connection }) });
    try {
      const { rows } = await sql<Record<string, unknown>>`
        select 42::bigint as big, 12345::hugeint as huge,
               1.25::double as dbl, 12.5::decimal(18, 6) as dec, true as flag,
               '2024-01-10 09:00:00.123456+00'::timestamptz as instant, '2024-02-29'::date as day,
               [1, 2]::bigint[] as list, {'a': 1.50::decimal(4, 2)} as struct,
               ${new Date('2024-03-01T10:00:00.250Z')} as bound_date, ${'2024-03-01T10:00:00+01:00'}::timestamptz as bound_text,
               current_setting('TimeZone') as zone`.execute(db);
      expect(rows).toEqual([{
        big: 42, huge: 12345, dbl: 1.25, dec: '12.500000', flag: true,
        instant: '2024-01-10T09:00:00.123456Z', day: '2024-02-29', list: [1, 2], struct: { a: '1.50' },
        bound_date: '2024-03-01T10:00:00.250Z', bound_text: '2024-03-01T09:00:00Z', zone: 'UTC',
      }]);
      // beyond 2^53 a number would round: it fails instead, naming the column
      await expect(sql`select 9007199254740993::bigint as too_big`.execute(db)).rejects.toThrow(/Column "too_big" holds 9007199254740993/);
      expect((await sql<{ exact: string }>`select 9007199254740993::bigint::varchar as exact`.execute(db)).rows).toEqual([{ exact: '9007199254740993' }]);
    } finally {
      await db.destroy();
      connection.closeSync();
      instance.closeSync();
    }
  });

  it('introspects tables, views, defaults and sequences from information_schema', async () => {
    const db = new Kysely<any>({ dialect: new DuckDBDialect({ path: ':memory:' }) });
    try {
      await sql`create sequence seq`.execute(db);
      await sql`create table t (id integer default nextval('seq'), name varchar not null, note varchar default 'none')`.execute(db);
      await sql`create view v as select name from t`.execute(db);
      expect(await db.introspection.getSchemas()).toContainEqual({ name: 'main' });
      expect(await db.introspection.getTables()).toEqual([
        {
          schema: 'main', name: 't', isView: false, columns: [
            { name: 'id', dataType: 'INTEGER', isNullable: true, hasDefaultValue: true, isAutoIncrementing: true },
            { name: 'name', dataType: 'VARCHAR', isNullable: false, hasDefaultValue: false, isAutoIncrementing: false },
            { name: 'note', dataType: 'VARCHAR', isNullable: true, hasDefaultValue: true, isAutoIncrementing: false },
          ],
        },
        { schema: 'main', name: 'v', isView: true, columns: [{ name: 'name', dataType: 'VARCHAR', isNullable: true, hasDefaultValue: false, isAutoIncrementing: false }] },
      ]);
    } finally {
      await db.destroy();
    }
  });
});

/*
 * One org, monthly cycles (day 1, UTC), three integrations on two platforms.
 * Conversations = distinct (cycle, integration, account):
 *   Jan: wa-1 {a1, a2}, wa-2 {a3}, fb-1 {a1, a6}        → whatsapp 3, messenger 2, total 5
 *   Feb: wa-1 {a1, a2, a3}, wa-2 {a4}, fb-1 {a1, a2, a6} → whatsapp 4, messenger 3, total 7
 *   Mar: wa-1 {a1}, wa-2 {a5}, fb-1 {a5}                 → whatsapp 2, messenger 1, total 3
 * a6's interaction crosses the Jan/Feb boundary, so it counts in both; a1's
 * two January interactions on wa-1 are one conversation.
 */
const PLATFORM: Record<string, string> = { 'wa-1': 'whatsapp', 'wa-2': 'whatsapp', 'fb-1': 'messenger' };
const INTERACTIONS: [string, string, string, string?][] = [
  ['a1', 'wa-1', '2024-01-05T09:00:00.123456Z'],
  ['a1', 'wa-1', '2024-01-20T09:00:00Z'],
  ['a2', 'wa-1', '2024-01-10T09:00:00Z'],
  ['a1', 'fb-1', '2024-01-11T09:00:00Z'],
  ['a3', 'wa-2', '2024-01-15T09:00:00Z'],
  ['a6', 'fb-1', '2024-01-31T22:00:00Z', '2024-02-01T02:00:00Z'],
  ['a1', 'wa-1', '2024-02-03T09:00:00Z'],
  ['a2', 'wa-1', '2024-02-04T09:00:00Z'],
  ['a3', 'wa-1', '2024-02-05T09:00:00Z'],
  ['a4', 'wa-2', '2024-02-06T09:00:00Z'],
  ['a1', 'fb-1', '2024-02-07T09:00:00Z'],
  ['a2', 'fb-1', '2024-02-08T09:00:00Z'],
  ['a1', 'wa-1', '2024-03-01T09:00:00Z'],
  ['a5', 'fb-1', '2024-03-02T09:00:00Z'],
  ['a5', 'wa-2', '2024-03-03T09:00:00Z'],
];

describe('analyst queries on a hand-built dataset', () => {
  let dir: string;
  let db: Kysely<Database>;
  beforeAll(async () => {
    dir = tempDir();
    const rows: InputRow[] = INTERACTIONS.map(([account, integration, start, end], i) => ({
      interaction_id: `i${i + 1}`,
      integration_id: integration,
      customer_account_id: account,
      platform: PLATFORM[integration],
      started_at: start,
      ended_at: end ?? start.replace(/T09:00:00(\.\d+)?Z$/, 'T09:30:00Z'),
    }));
    await buildFacts({ dir, inputs: [writeCsv(dir, 'logs.csv', rows)], asOf: '2024-03-31T00:00:00Z' });
    db = openWarehouse(join(dir, 'convbill_published.duckdb'));
    return () => db.destroy();
  });

  it('conversations per platform per cycle', async () => {
    const perPlatform = await db
      .selectFrom('fct_conversation_counts')
      .select(({ fn }) => ['org_id', 'cycle_id', 'platform', fn.sum<number>('conversations').as('conversations')])
      .groupBy(['org_id', 'cycle_id', 'cycle_start', 'platform'])
      .orderBy('org_id')
      .orderBy('cycle_start')
      .orderBy('platform')
      .execute();
    expect(perPlatform).toEqual([
      { org_id: 'default', cycle_id: '2024-01-01', platform: 'messenger', conversations: 2 },
      { org_id: 'default', cycle_id: '2024-01-01', platform: 'whatsapp', conversations: 3 },
      { org_id: 'default', cycle_id: '2024-02-01', platform: 'messenger', conversations: 3 },
      { org_id: 'default', cycle_id: '2024-02-01', platform: 'whatsapp', conversations: 4 },
      { org_id: 'default', cycle_id: '2024-03-01', platform: 'messenger', conversations: 1 },
      { org_id: 'default', cycle_id: '2024-03-01', platform: 'whatsapp', conversations: 2 },
    ]);
  });

  it('month-over-month growth, with a window function', async () => {
    const growth = await db
      .with('per_cycle', (qb) =>
        qb
          .selectFrom('fct_conversation_counts')
          .select(({ fn }) => ['org_id', 'cycle_id', 'cycle_start', fn.sum<number>('conversations').as('conversations')])
          .groupBy(['org_id', 'cycle_id', 'cycle_start']),
      )
      .selectFrom('per_cycle')
      .select(({ fn, ref }) => {
        const previous = fn.agg<number | null>('lag', ['conversations']).over((over) => over.partitionBy('org_id').orderBy('cycle_start'));
        return [
          'org_id',
          'cycle_id',
          'conversations',
          previous.as('previous'),
          sql<number | null>`round(100 * (${ref('conversations')} - ${previous}) / ${previous}, 1)`.as('growth_pct'),
        ];
      })
      .orderBy('org_id')
      .orderBy('cycle_start')
      .execute();
    expect(growth).toEqual([
      { org_id: 'default', cycle_id: '2024-01-01', conversations: 5, previous: null, growth_pct: null },
      { org_id: 'default', cycle_id: '2024-02-01', conversations: 7, previous: 5, growth_pct: 40 },
      { org_id: 'default', cycle_id: '2024-03-01', conversations: 3, previous: 7, growth_pct: -57.1 },
    ]);
  });

  it('accounts active on several integrations in a cycle', async () => {
    const multi = await db
      .selectFrom('fct_billable_conversations')
      .select(({ fn }) => [
        'org_id',
        'cycle_id',
        'customer_account_id',
        fn.count<number>('integration_id').distinct().as('integrations'),
        fn.agg<string[]>('list', ['integration_id']).orderBy('integration_id').as('integration_ids'),
      ])
      .groupBy(['org_id', 'cycle_id', 'cycle_start', 'customer_account_id'])
      .having(({ fn }) => fn.count('integration_id').distinct(), '>', 1)
      .orderBy('org_id')
      .orderBy('cycle_start')
      .orderBy('customer_account_id')
      .execute();
    expect(multi).toEqual([
      { org_id: 'default', cycle_id: '2024-01-01', customer_account_id: 'a1', integrations: 2, integration_ids: ['fb-1', 'wa-1'] },
      { org_id: 'default', cycle_id: '2024-02-01', customer_account_id: 'a1', integrations: 2, integration_ids: ['fb-1', 'wa-1'] },
      { org_id: 'default', cycle_id: '2024-02-01', customer_account_id: 'a2', integrations: 2, integration_ids: ['fb-1', 'wa-1'] },
      { org_id: 'default', cycle_id: '2024-03-01', customer_account_id: 'a5', integrations: 2, integration_ids: ['fb-1', 'wa-2'] },
    ]);
  });

  it('instants keep their microseconds', async () => {
    const first = await db
      .selectFrom('fct_billable_conversations')
      .select(['first_activity_at', 'cycle_start', 'cycle_end'])
      .where('customer_account_id', '=', 'a1')
      .where('integration_id', '=', 'wa-1')
      .where('cycle_start', '=', '2024-01-01T00:00:00Z')
      .executeTakeFirstOrThrow();
    expect(first).toEqual({ first_activity_at: '2024-01-05T09:00:00.123456Z', cycle_start: '2024-01-01T00:00:00Z', cycle_end: '2024-02-01T00:00:00Z' });
  });

  it('is read-only by default: a write fails and changes nothing', async () => {
    await expect(db.deleteFrom('fct_conversation_counts').execute()).rejects.toThrow(/read-only/i);
    expect(await db.selectFrom('fct_conversation_counts').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirst()).toEqual({ n: 9 });
  });

  it('opens the published copy of the configured database when given no path', async () => {
    const config = join(dir, 'convbill.json');
    writeFileSync(config, JSON.stringify({ db: 'convbill.duckdb' }));
    const configured = openWarehouse(undefined, { config });
    try {
      const runs = await configured.selectFrom('convbill_runs').select(['run_id', 'status']).execute();
      expect(runs).toEqual([{ run_id: 1, status: 'success' }]);
    } finally {
      await configured.destroy();
    }
    expect(publishedPathOf(join(dir, 'convbill.duckdb'))).toBe(join(dir, 'convbill_published.duckdb'));
  });
});

describe('connection handling', () => {
  let published: string;
  beforeAll(async () => {
    const dir = tempDir();
    const rows: InputRow[] = Array.from({ length: 5000 }, (_, i) => ({
      interaction_id: `i${i}`,
      integration_id: `int-${i % 7}`,
      customer_account_id: `acct-${String(i).padStart(5, '0')}`,
      started_at: '2024-01-10T09:00:00Z',
      ended_at: '2024-01-10T09:30:00Z',
    }));
    await buildFacts({ dir, inputs: [writeCsv(dir, 'logs.csv', rows)], asOf: '2024-01-31T00:00:00Z' });
    published = join(dir, 'convbill_published.duckdb');
  });

  const writable = () => {
    const copy = join(tempDir(), 'scratch.duckdb');
    copyFileSync(published, copy);
    return openWarehouse(copy, { readOnly: false });
  };
  const countIntegrations = async (db: Kysely<Database>) =>
    (await db.selectFrom('dim_integrations').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n;

  it('commits and rolls back transactions, and reports affected rows', async () => {
    const db = writable();
    try {
      expect(await countIntegrations(db)).toBe(7);
      const inserted = await db.transaction().execute((trx) =>
        trx.insertInto('dim_integrations').values({ org_id: 'default', integration_id: 'new', platform: 'sms', platform_source: 'input' }).executeTakeFirstOrThrow(),
      );
      expect(inserted.numInsertedOrUpdatedRows).toBe(1n);
      expect(await countIntegrations(db)).toBe(8);

      await expect(
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('dim_integrations').execute();
          expect(await countIntegrations(trx)).toBe(0);
          throw new Error('changed my mind');
        }),
      ).rejects.toThrow('changed my mind');
      expect(await countIntegrations(db)).toBe(8);

      const updated = await db.updateTable('dim_integrations').set({ platform: 'whatsapp' }).where('integration_id', '!=', 'new').executeTakeFirstOrThrow();
      expect(updated.numUpdatedRows).toBe(7n);
      const deleted = await db.deleteFrom('dim_integrations').where('integration_id', '=', 'new').returning('platform').execute();
      expect(deleted).toEqual([{ platform: 'sms' }]);
    } finally {
      await db.destroy();
    }
  });

  it('runs one query at a time: a query waits for the open transaction to end', async () => {
    const db = writable();
    try {
      const events: string[] = [];
      let outside: Promise<number> | undefined;
      await expect(
        db.transaction().execute(async (trx) => {
          await trx.deleteFrom('dim_integrations').execute();
          outside = countIntegrations(db).then((n) => (events.push('outside query'), n));
          await new Promise((resolve) => setTimeout(resolve, 100));
          events.push('transaction ends');
          throw new Error('roll back');
        }),
      ).rejects.toThrow('roll back');
      // had it run on the shared connection inside the transaction, it would have counted 0
      expect(await outside).toBe(7);
      expect(events).toEqual(['transaction ends', 'outside query']);
    } finally {
      await db.destroy();
    }
  });

  it('streams a table chunk by chunk, every row in order', async () => {
    const db = openWarehouse(published);
    try {
      const accounts: string[] = [];
      for await (const row of db.selectFrom('fct_billable_conversations').select('customer_account_id').orderBy('customer_account_id').stream()) {
        accounts.push(row.customer_account_id as string);
      }
      expect(accounts).toEqual(Array.from({ length: 5000 }, (_, i) => `acct-${String(i).padStart(5, '0')}`));
      // leaving a stream early releases the connection
      for await (const row of db.selectFrom('fct_billable_conversations').select('customer_account_id').stream()) {
        expect(row.customer_account_id).toMatch(/^acct-/);
        break;
      }
      expect(await db.selectFrom('fct_billable_conversations').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirst()).toEqual({ n: 5000 });
    } finally {
      await db.destroy();
    }
    // DuckDB's own chunks, not one read-all result
    const driver = new DuckDBDialect({ path: published, readOnly: true }).createDriver();
    await driver.init();
    try {
      const connection = await driver.acquireConnection();
      const sizes: number[] = [];
      for await (const result of connection.streamQuery(CompiledQuery.raw('select customer_account_id from fct_billable_conversations'))) {
        sizes.push(result.rows.length);
      }
      expect(sizes).toEqual([2048, 2048, 904]);
      await driver.releaseConnection(connection);
    } finally {
      await driver.destroy();
    }
  });

  it('wraps an open Warehouse without closing it', async () => {
    const warehouse = await Warehouse.open(published, { readOnly: true });
    try {
      const db = new Kysely<Database>({ dialect: new DuckDBDialect({ connection: warehouse }) });
      expect(await countIntegrations(db)).toBe(7);
      await db.destroy();
      expect(await warehouse.value<bigint>('select count(*) from dim_integrations')).toBe(7n);
    } finally {
      warehouse.close();
    }
  });
});
