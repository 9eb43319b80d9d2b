/**
 * The ClickHouse side of the readers, on a real server (clickhouse-target.ts):
 * the Kysely dialect (values inlined, mapped as the DuckDB dialect maps them,
 * instants compared with DuckDB's own text), openWarehouse on a clickhouse
 * config, and `convbill query`'s read-only session, from the library and the CLI.
 * The warehouse's reader tables are made here, in a scratch database, with a few rows.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type ClickHouseClient, createClient } from '@clickhouse/client';
import { CompiledQuery, Kysely, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import type { ClickHouseSettings } from '../src/config/build-options.js';
import { READ_ONLY_SETTINGS, isReadOnlyRefusal } from '../src/engine/clickhouse/read-only.js';
import { readerClient } from '../src/engine/clickhouse/reader-client.js';
import { runStatement } from '../src/engine/clickhouse/results.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { queryClickHouse } from '../src/read/query.js';
import { ClickHouseDialect } from '../src/typed/clickhouse/dialect.js';
import { DuckDBDialect } from '../src/typed/dialect.js';
import { openWarehouse } from '../src/typed/open-warehouse.js';
import type { Database } from '../src/typed/schema.js';
import { describeClickHouse } from './clickhouse-target.js';
import { tempDir } from './helpers.js';

const database = `kysely_test_${process.pid}`;
const NASTY = ["o'brien", 'back\\slash', "\\'", 'ends with \\', "'; drop database x; --", 'nul\0byte', 'line\nbreak\ttab', 'tick`', 'zoë 🚀'];
const INSTANTS = [1704877200123, 1704877200000, 1704877200001, 1704877200120, 0, -1, 4102444800000];
const JAN = { org_id: 'acme', cycle_id: '2024-01', cycle_start: 1704067200000, cycle_end: 1706745600000, integration_id: 'wa-1', platform: 'whatsapp' };

const TABLES = [
  `fct_billable_conversations (org_id String, cycle_id String, cycle_start Int64, cycle_end Int64, integration_id String, platform String,
     customer_account_id String, interaction_count UInt64, first_activity_at Int64, last_activity_at Int64)
   engine = MergeTree() order by (org_id, cycle_id, customer_account_id)`,
  `fct_conversation_counts (org_id String, cycle_id String, cycle_start Int64, cycle_end Int64, integration_id String, platform String, conversations UInt64) engine = Memory`,
  `dim_billing_cycles (org_id String, cycle_id String, cycle_start Int64, cycle_end Int64, timezone String, cycle_source String, cycle_seq Int32) engine = Memory`,
  `dim_integrations (org_id String, integration_id String, platform String, integration_name Nullable(String), platform_source String) engine = Memory`,
  `rejected_interactions (source_file String, source_row Int64, reason String, raw String) engine = Memory`,
  `strings (id UInt32, s String) engine = Memory`,
];

describeClickHouse('ClickHouse readers', (target) => {
  const settings: ClickHouseSettings = { url: target.url, cluster: 'convbill_1shard', database, user: target.user, password: target.password };
  let admin: ClickHouseClient;
  let db: Kysely<Database>;
  let config = '';

  beforeAll(async () => {
    admin = createClient({ url: target.url, username: target.user, password: target.password, compression: { request: false, response: false } });
    await admin.command({ query: `create database ${database}` });
    for (const table of TABLES) await admin.command({ query: `create table ${database}.${table}` });
    const facts = NASTY.map((customer, i) => ({ ...JAN, customer_account_id: customer, interaction_count: i + 1, first_activity_at: INSTANTS[i % INSTANTS.length], last_activity_at: 1704880800000 }));
    await admin.insert({ table: `${database}.fct_billable_conversations`, values: facts, format: 'JSONEachRow' });
    await admin.insert({ table: `${database}.fct_conversation_counts`, values: [{ ...JAN, conversations: NASTY.length }], format: 'JSONEachRow' });
    db = new Kysely<Database>({ dialect: new ClickHouseDialect({ settings }) });
    config = join(tempDir(), 'convbill.json');
    writeFileSync(config, JSON.stringify({ engine: 'clickhouse', clickhouse: { url: target.url, cluster: 'convbill_1shard', database } }));
  });

  afterAll(async () => {
    await db?.destroy();
    await admin?.command({ query: `drop database if exists ${database}` });
    await admin?.close();
  });

  it('compiles every value into the SQL as a literal: no parameters', () => {
    const compiled = db
      .selectFrom('fct_billable_conversations')
      .select('org_id')
      .where('customer_account_id', 'in', ["it's", 'a\\b'])
      .where('interaction_count', '>', 2)
      .where(sql<number>`${10n ** 18n} + ${true} + ${null}`, '>', 0)
      .where('first_activity_at', '<', new Date('2024-01-10T09:00:00.123Z') as unknown as string)
      .compile();
    expect(compiled.parameters).toEqual([]);
    expect(compiled.sql).toBe(
      "select `org_id` from `fct_billable_conversations` where `customer_account_id` in ('it\\'s', 'a\\\\b') and `interaction_count` > 2" +
        ' and 1000000000000000000 + 1 + null > 0 and `first_activity_at` < 1704877200123',
    );
  });

  it('finds each string with quotes and backslashes exactly, by where and by an inlined insert read back', async () => {
    for (const customer of NASTY) {
      const rows = await db.selectFrom('fct_billable_conversations').select(['customer_account_id', 'interaction_count']).where('customer_account_id', '=', customer).execute();
      expect(rows, customer).toEqual([{ customer_account_id: customer, interaction_count: NASTY.indexOf(customer) + 1 }]);
    }
    const scratch = db as unknown as Kysely<{ strings: { id: number; s: string } }>;
    await scratch.insertInto('strings').values(NASTY.map((s, id) => ({ id, s }))).execute();
    expect((await scratch.selectFrom('strings').selectAll().orderBy('id').execute()).map((row) => row.s)).toEqual(NASTY);
    const odd = await sql<Record<string, number>>`select 1 as ${sql.ref('we`ird\\name')}`.execute(db);
    expect(odd.rows).toEqual([{ 'we`ird\\name': 1 }]);
  });

  it('maps integers to numbers, and fails beyond 2^53 naming the column', async () => {
    const counts = await db.selectFrom('fct_conversation_counts').select(['conversations', 'cycle_id']).execute();
    expect(counts).toEqual([{ conversations: NASTY.length, cycle_id: '2024-01' }]);
    const { rows } = await sql`select toInt8(-5) as i8, toUInt32(4000000000) as u32, toInt64(9007199254740991) as edge, toUInt64(3) > 2 as cmp`.execute(db);
    expect(rows).toEqual([{ i8: -5, u32: 4000000000, edge: 9007199254740991, cmp: 1 }]);
    await expect(sql`select toUInt64(18446744073709551615) as too_big`.execute(db)).rejects.toThrow(/Column "too_big" holds 18446744073709551615/);
    expect((await sql`select toString(toUInt64(18446744073709551615)) as exact`.execute(db)).rows).toEqual([{ exact: '18446744073709551615' }]);
  });

  it("prints instants as the DuckDB dialect prints the same instants", async () => {
    const clickhouse = await sql<{ first_activity_at: string; created_at: string }>`
      select first_activity_at, first_activity_at as created_at from ${sql.table('fct_billable_conversations')}
      where interaction_count <= ${INSTANTS.length} order by interaction_count`.execute(db);
    const warehouse = await Warehouse.open(':memory:');
    const duck = new Kysely<any>({ dialect: new DuckDBDialect({ connection: warehouse }) });
    try {
      await warehouse.run(`create table t as select i, epoch_ms(ms)::timestamptz as first_activity_at from (values ${INSTANTS.map((ms, i) => `(${i}, ${ms}::bigint)`).join(', ')}) v(i, ms)`);
      const duckdb = await duck.selectFrom('t').select('first_activity_at').orderBy('i').execute();
      expect(clickhouse.rows.map((row) => row.first_activity_at)).toEqual(duckdb.map((row) => row.first_activity_at));
      expect(clickhouse.rows.map((row) => row.created_at)).toEqual(duckdb.map((row) => row.first_activity_at));
    } finally {
      await duck.destroy();
      warehouse.close();
    }
    // the DuckDB mapping's text: milliseconds as 3 digits (none when whole), never padded to 6
    expect(clickhouse.rows.slice(0, 6).map((row) => row.first_activity_at)).toEqual([
      '2024-01-10T09:00:00.123Z', '2024-01-10T09:00:00Z', '2024-01-10T09:00:00.001Z', '2024-01-10T09:00:00.120Z', '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999Z',
    ]);
    const cycle = await db.selectFrom('fct_conversation_counts').select(['cycle_start', 'cycle_end']).execute();
    expect(cycle).toEqual([{ cycle_start: '2024-01-01T00:00:00Z', cycle_end: '2024-02-01T00:00:00Z' }]);
    const filtered = await db.selectFrom('fct_billable_conversations').select('customer_account_id')
      .where('first_activity_at', '=', new Date('2024-01-10T09:00:00.123Z') as unknown as string).orderBy('interaction_count').execute();
    // the fixture gives instants round: the 8th row has the first one again
    expect(filtered).toEqual([{ customer_account_id: NASTY[0] }, { customer_account_id: NASTY[INSTANTS.length] }]);
  });

  it('maps the other types exactly: Decimal text, floats, Nullable, arrays, tuples, dates', async () => {
    const { rows } = await sql`
      select toDecimal64('12.5', 6) as dec, toDecimal128('123456789012345678901234.5', 6) as big_dec, 1.25 as dbl, inf as pos, -inf as neg,
             toNullable(toInt64(3)) as n, cast(null as Nullable(Int64)) as none, [toInt64(1), 2] as list, (1, 'a') as pair,
             [toInt64(1704877200123)] as seen_at, toDate('2024-02-29') as day, toUUID('61f0c404-5cb3-11e7-907b-a6006ad3dba0') as id`.execute(db);
    expect(rows).toEqual([{
      dec: '12.500000', big_dec: '123456789012345678901234.500000', dbl: 1.25, pos: Infinity, neg: -Infinity,
      n: 3, none: null, list: [1, 2], pair: [1, 'a'], seen_at: ['2024-01-10T09:00:00.123Z'], day: '2024-02-29', id: '61f0c404-5cb3-11e7-907b-a6006ad3dba0',
    }]);
    expect((await sql<{ x: number }>`select nan as x`.execute(db)).rows[0]?.x).toBeNaN();
  });

  it('refuses transactions and bound parameters in a sentence; streams in chunks; introspects the database', async () => {
    await expect(db.transaction().execute(async () => 1)).rejects.toThrow(/^ClickHouse has no transactions/);
    await expect(db.executeQuery(CompiledQuery.raw('select ?', [1]))).rejects.toThrow(/binds no parameters/);
    const chunks: number[] = [];
    for await (const row of db.selectFrom('fct_billable_conversations').select('interaction_count').orderBy('interaction_count').stream(4)) chunks.push(row.interaction_count as number);
    expect(chunks).toEqual(NASTY.map((_, i) => i + 1));
    const tables = await db.introspection.getTables();
    expect(tables.map((table) => table.name)).toEqual(['dim_billing_cycles', 'dim_integrations', 'fct_billable_conversations', 'fct_conversation_counts', 'rejected_interactions', 'strings']);
    const integrations = tables.find((table) => table.name === 'dim_integrations');
    expect(integrations?.columns.map((column) => [column.name, column.dataType, column.isNullable])).toEqual([
      ['org_id', 'String', false], ['integration_id', 'String', false], ['platform', 'String', false],
      ['integration_name', 'Nullable(String)', true], ['platform_source', 'String', false],
    ]);
  });

  it('openWarehouse reads the ClickHouse database a clickhouse config names, read-only by default', async () => {
    const reader = openWarehouse(undefined, { config });
    try {
      expect(await reader.selectFrom('fct_conversation_counts').select(['org_id', 'conversations']).execute()).toEqual([{ org_id: 'acme', conversations: NASTY.length }]);
      await expect(reader.insertInto('rejected_interactions').values({ source_file: 'x', source_row: 1, reason: 'r', raw: '', load_id: 1 }).execute()).rejects.toThrow(/read-only.*INSERT statements are not reads/);
      await expect(sql`select * from numbers(2)`.execute(reader)).rejects.toThrow(/Table functions are forbidden in readonly mode/);
    } finally {
      await reader.destroy();
    }
  });

  it('query(): the same {columns, rows}, plain values, instants as ISO strings', async () => {
    const result = await queryClickHouse(settings, 'select cycle_id, cycle_start, conversations, [1, 2] as list from fct_conversation_counts');
    expect(result).toEqual({ columns: ['cycle_id', 'cycle_start', 'conversations', 'list'], rows: [['2024-01', '2024-01-01T00:00:00Z', NASTY.length, '[1,2]']] });
    const big = await queryClickHouse(settings, 'select toUInt64(18446744073709551615) as big');
    expect(big.rows).toEqual([['18446744073709551615']]);
  });

  it('query(): refuses writes, DDL, SET, settings, KILL and table functions, one sentence each; changes nothing', async () => {
    const refused = {
      [`insert into rejected_interactions values ('f', 1, 'r', '')`]: /INSERT statements are not reads/,
      'create table made (a Int8) engine = Memory': /CREATE statements are not reads/,
      'drop table fct_conversation_counts': /DROP statements are not reads/,
      'alter table fct_billable_conversations delete where 1': /ALTER statements are not reads/,
      'set max_threads = 1': /SET statements are not reads/,
      'select 1 settings readonly = 0': /Cannot execute SET query in readonly mode/,
      "kill query where query_id = 'x'": /KILL statements are not reads/,
      "select * from file('x.csv', 'CSV', 'a String')": /Table functions are forbidden in readonly mode/,
      "select * from url('http://127.0.0.1:1/', 'CSV', 'a String')": /Table functions are forbidden in readonly mode/,
      "select * from remote('127.0.0.2', system.one)": /Table functions are forbidden in readonly mode/,
      'select * from numbers(3)': /Table functions are forbidden in readonly mode/,
      '/* hidden */ (create table x (a Int8) engine = Memory)': /CREATE statements are not reads/,
    };
    for (const [text, words] of Object.entries(refused)) {
      const error = await queryClickHouse(settings, text).then(() => undefined, (thrown: Error) => thrown);
      expect(error?.message, text).toMatch(/^Query refused: [^\n]*\(convbill query on ClickHouse is read-only: select, with, show, describe and exists statements, no table functions, no settings\)\.$/);
      expect(error?.message, text).toMatch(words);
    }
    const tables = await queryClickHouse(settings, 'show tables');
    expect(tables.rows.flat()).toEqual(['dim_billing_cycles', 'dim_integrations', 'fct_billable_conversations', 'fct_conversation_counts', 'rejected_interactions', 'strings']);
    expect((await queryClickHouse(settings, 'select count() as n from rejected_interactions')).rows).toEqual([[0]]);
    await expect(queryClickHouse(settings, 'select nope from fct_conversation_counts')).rejects.toThrow(/^Query failed: Unknown identifier: nope[^\n]*\.$/);
    await expect(queryClickHouse({ ...settings, url: 'http://127.0.0.1:1' }, 'select 1')).rejects.toThrow(/^Query failed: ClickHouse at http:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
  });

  it('readonly=1 on 18.16 itself: refuses writes, DDL and SET, but lets KILL QUERY through (hence the statement check)', async () => {
    const client = readerClient(settings);
    try {
      for (const text of [`insert into strings values (99, 'x')`, 'create table made (a Int8) engine = Memory', 'drop table strings', 'truncate table strings',
        'alter table fct_billable_conversations delete where 1', 'rename table strings to gone', 'set max_threads = 1', 'optimize table strings']) {
        const error = await runStatement(client, text, READ_ONLY_SETTINGS).then(() => undefined, (thrown: unknown) => thrown);
        expect(isReadOnlyRefusal(error), text).toBe(true);
      }
      await expect(runStatement(client, "kill query where query_id = 'no such query'", READ_ONLY_SETTINGS)).resolves.toBeDefined();
    } finally {
      await client.close();
    }
  });

  async function cli(args: string[]) {
    let out = '';
    let err = '';
    const status = await runCli(args, { out: (text) => void (out += text), err: (text) => void (err += text) });
    return { status, out, err };
  }

  it('convbill query: --config with engine clickhouse or --engine clickhouse goes to ClickHouse; --db and --allow-dir are DuckDB-only', async () => {
    const sqlText = 'select org_id, cycle_start, conversations from fct_conversation_counts';
    const expected = [{ org_id: 'acme', cycle_start: '2024-01-01T00:00:00Z', conversations: NASTY.length }];
    const run = await cli(['query', sqlText, '--config', config, '--format', 'json']);
    expect(run.err).toBe('');
    expect(JSON.parse(run.out)).toEqual(expected);
    const plain = join(tempDir(), 'convbill.json');
    writeFileSync(plain, JSON.stringify({ clickhouse: { url: target.url, cluster: 'convbill_1shard', database } }));
    expect(JSON.parse((await cli(['query', sqlText, '--config', plain, '--engine', 'clickhouse', '--format', 'json'])).out)).toEqual(expected);
    const refused = await cli(['query', 'insert into strings values (1, \'x\')', '--config', config]);
    expect([refused.status, refused.out]).toEqual([1, '']);
    expect(refused.err).toMatch(/^convbill: Query refused: INSERT statements are not reads \(.*\)\.\n$/);
    for (const flags of [['--db', 'x.duckdb'], ['--allow-dir', '.'], ['--db', 'x.duckdb', '--allow-dir', '.']]) {
      const wrong = await cli(['query', 'select 1', '--config', config, ...flags]);
      expect([wrong.status, wrong.out]).toEqual([2, '']);
      expect(wrong.err).toMatch(/^convbill: Option (--db|--allow-dir|--db and --allow-dir) (is|are) DuckDB-only: with engine clickhouse, convbill query reads the database of the config key "clickhouse"\.\n$/);
    }
    // the DuckDB path is untouched: --engine duckdb reads the --db file even with this config
    const file = join(tempDir(), 'small.duckdb');
    const small = await Warehouse.open(file);
    await small.run('create table t as select 42 as answer');
    small.close();
    expect(JSON.parse((await cli(['query', 'select answer from t', '--config', config, '--engine', 'duckdb', '--db', file, '--format', 'json'])).out)).toEqual([{ answer: 42 }]);
  });

  it('the compiled binary answers a ClickHouse query as a user runs it', () => {
    const env = { ...process.env, CONVBILL_CLICKHOUSE_USER: target.user, CONVBILL_CLICKHOUSE_PASSWORD: target.password };
    const run = spawnSync(process.execPath, [resolve('dist/src/cli/main.js'), 'query', 'select customer_account_id from fct_billable_conversations where interaction_count = 2', '--config', config, '--format', 'csv'], { encoding: 'utf8', env });
    expect([run.status, run.stderr, run.stdout]).toEqual([0, '', 'customer_account_id\nback\\slash\n']);
  });
});
