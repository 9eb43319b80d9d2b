/**
 * Arrow and exports: every column type of the published tables round-trips
 * through arrowTable and the Arrow IPC file exactly (microseconds and
 * decimals included), every export format reads back in DuckDB with the
 * same rows, filters and bad names are handled, and a table far larger than
 * DuckDB's memory limit exports in bounded memory.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from '@duckdb/node-api';
import { type Data, type Decimal, RecordBatchReader, Table, Type, tableFromIPC } from 'apache-arrow';
import { beforeAll, describe, expect, it } from 'vitest';
import { arrowBatches, arrowTable, decimalString } from '../src/read/arrow.js';
import { ConfigError, RunError } from '../src/engine/errors.js';
import { PUBLISHED_TABLES } from '../src/build/publish.js';
import { publishedPathOf } from '../src/config/warehouse-paths.js';
import { type ExportFormat, exportTable, resolveExportFormat } from '../src/read/export-table.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';
import { type TestBuild, buildFacts, tempDir, writeCsv } from './helpers.js';

type Cell = string | number | boolean | bigint | null;

/** 128-bit two's complement from Arrow's Decimal layout. */
function decimalAt(data: Data<Decimal>, row: number): bigint {
  const words = data.values as Uint32Array;
  const halves = new BigInt64Array(words.buffer, words.byteOffset + row * 16, 2);
  return BigInt.asUintN(64, halves[0]!) + (halves[1]! << 64n);
}

/** Arrow's stored values as they are: micros and scaled decimals as bigint, days as number. */
function arrowRows(table: Table): Cell[][] {
  const rows: Cell[][] = Array.from({ length: table.numRows }, () => []);
  table.schema.fields.forEach((field, column) => {
    let row = 0;
    for (const data of table.getChildAt(column)!.data) {
      for (let i = 0; i < data.length; i += 1, row += 1) {
        let cell: Cell;
        if (!data.getValid(i)) cell = null;
        else if (field.typeId === Type.Timestamp) cell = (data.values as BigInt64Array)[i]!;
        else if (field.typeId === Type.Decimal) cell = decimalAt(data as Data<Decimal>, i);
        else if (field.typeId === Type.Date) cell = (data.values as Int32Array)[i]!;
        else cell = table.getChildAt(column)!.get(row) as Cell;
        rows[row]!.push(cell);
      }
    }
  });
  return rows;
}

/** DuckDB's own values in the same terms. */
function duckCell(value: DuckDBValue): Cell {
  if (value instanceof DuckDBTimestampTZValue || value instanceof DuckDBTimestampValue) return value.micros;
  if (value instanceof DuckDBDecimalValue) return value.value;
  if (value instanceof DuckDBDateValue) return value.days;
  return value as Cell;
}

async function duckRows(db: string | Warehouse, sql: string): Promise<{ columns: string[]; rows: Cell[][] }> {
  const warehouse = typeof db === 'string' ? await Warehouse.open(db, { readOnly: db !== ':memory:' }) : db;
  try {
    const { columns, rows } = await warehouse.table(sql);
    return { columns, rows: rows.map((row) => row.map(duckCell)) };
  } finally {
    if (typeof db === 'string') warehouse.close();
  }
}

const INTEGRATIONS = [
  { integration_id: 'wa-1', platform: 'whatsapp' },
  { integration_id: 'sms-1', platform: 'sms' },
  { integration_id: 'tg-1', platform: 'telegram' },
];
const PRICES = [
  { platform: 'whatsapp', currency: 'EUR', unit_price: '0.10', included_conversations: 1, tier_up_to: '' },
  { integration_id: 'sms-1', currency: 'EUR', unit_price: '0.0125' },
];
const LOGS = [
  { org_id: 'default', interaction_id: 'a', integration_id: 'wa-1', customer_account_id: '+33612345678', started_at: '2024-01-10T09:00:00.123456Z', ended_at: '2024-01-10T09:30:00Z' },
  { org_id: 'default', interaction_id: 'b', integration_id: 'wa-1', customer_account_id: '+33612345679', started_at: '2024-01-30T22:00:00Z', ended_at: '2024-02-02T10:00:00.000001Z' },
  { org_id: 'default', interaction_id: 'c', integration_id: 'sms-1', customer_account_id: 'ünïcødé 📞', started_at: '2024-01-11T08:00:00Z', ended_at: '' },
  { org_id: 'acme', interaction_id: 'd', integration_id: 'tg-1', customer_account_id: 'x"y,z', started_at: '2024-01-12T08:00:00.5Z', ended_at: '2024-01-12T09:00:00Z' },
  { org_id: 'acme', interaction_id: 'e', integration_id: 'tg-1', customer_account_id: '', started_at: '2024-01-12T08:00:00Z', ended_at: '2024-01-12T09:00:00Z' },
];

describe('arrow and exports', () => {
  let built: TestBuild;
  let published: string;
  let tables: string[];

  beforeAll(async () => {
    const dir = tempDir();
    const input = writeCsv(dir, 'logs.csv', LOGS);
    const integrations = writeCsv(dir, 'integrations.csv', INTEGRATIONS);
    const priceBook = writeCsv(dir, 'prices.csv', PRICES, ['org_id', 'platform', 'integration_id', 'currency', 'unit_price', 'included_conversations', 'tier_up_to']);
    built = await buildFacts({ dir, inputs: [input], integrations, priceBook, asOf: '2024-02-29T00:00:00Z' });
    published = publishedPathOf(built.db);
    const present = await duckRows(published, `select table_name from information_schema.tables where table_schema = 'main'`);
    tables = PUBLISHED_TABLES.filter((table) => present.rows.some(([name]) => name === table));
  });

  it('arrowTable gives every published table with its DuckDB values exactly, microseconds and decimals included', async () => {
    expect(tables).toEqual(expect.arrayContaining(['fct_billable_conversations', 'fct_conversation_counts', 'fct_conversation_charges', 'convbill_runs']));
    for (const table of tables) {
      const arrow = await arrowTable(published, table);
      const duck = await duckRows(published, `select * from ${table}`);
      expect(arrow.schema.names, table).toEqual(duck.columns);
      expect(arrowRows(arrow), table).toEqual(duck.rows);
    }
    const charges = await arrowTable(published, 'fct_conversation_charges');
    const types = Object.fromEntries(charges.schema.fields.map((field) => [field.name, String(field.type)]));
    expect(types).toMatchObject({
      org_id: 'Utf8',
      cycle_start: 'Timestamp<MICROSECOND, UTC>',
      conversations: 'Int64',
      amount: 'Decimal[38e+6]',
    });
    const amounts = arrowRows(await arrowTable(published, `select amount from fct_conversation_charges where amount is not null order by amount`));
    expect(amounts).toEqual([[0n], [12500n], [12500n], [100000n]]); // 0, 0.0125 (Jan and Feb) and 0.10, as scaled integers
    const [first] = arrowRows(await arrowTable(published, `select first_activity_at from fct_billable_conversations where customer_account_id = '+33612345678'`));
    expect(first).toEqual([1704877200123456n]); // 2024-01-10T09:00:00.123456Z
  });

  it('maps each DuckDB type used, and the ones a query may add, with nulls kept', async () => {
    const warehouse = await Warehouse.open(':memory:');
    try {
      const sql = `
        select 'é' as v, 42::integer as i, 9007199254740993::bigint as b, 0.1::double as d, true as t,
               123.456789::decimal(38,6) as m, -0.000001::decimal(38,6) as neg, -99999999999999999999999999999999999999::hugeint as h,
               timestamptz '2024-01-10 09:00:00.123456+00' as tz, timestamp '1969-12-31 23:59:59.999999' as ts, date '1960-02-29' as dt,
               [1, 2] as list
        union all
        select null, null, null, null, null, null, null, null, null, null, null, null`;
      const table = await arrowTable(warehouse, sql);
      expect(table.schema.fields.map((field) => String(field.type))).toEqual([
        'Utf8', 'Int32', 'Int64', 'Float64', 'Bool', 'Decimal[38e+6]', 'Decimal[38e+6]', 'Decimal[38e0]',
        'Timestamp<MICROSECOND, UTC>', 'Timestamp<MICROSECOND>', 'Date32<DAY>', 'Utf8',
      ]);
      const duck = await duckRows(warehouse, sql);
      expect(arrowRows(table)).toEqual(duck.rows.map((row) => row.map((cell, i) => (i === 11 && cell !== null ? '[1, 2]' : cell))));
      expect(arrowRows(table)[0]).toEqual(['é', 42, 9007199254740993n, 0.1, true, 123456789n, -1n, -99999999999999999999999999999999999999n, 1704877200123456n, -1n, -3594, '[1, 2]']);
      expect(arrowRows(table)[1]!.every((cell) => cell === null)).toBe(true);
      // Nulls between values, across DuckDB's 2048-row chunks and the batches built from them.
      const mixed = `select case when range % 3 = 0 then null else repeat('é', range % 5) end as s, case when range % 4 = 0 then null else range % 2 = 0 end as b,
                            case when range % 5 = 0 then null else range::decimal(18,3) / 8 end as m, case when range % 7 = 0 then null else range end as n
                     from range(10000) order by range`;
      const batches: Cell[][] = [];
      for await (const batch of arrowBatches(warehouse, mixed, { batchRows: 3000 })) batches.push(...arrowRows(new Table(batch)));
      expect(batches).toEqual((await duckRows(warehouse, mixed)).rows);
      await expect(arrowTable(warehouse, 'select nope')).rejects.toThrow(/^Query failed: Binder Error: .*nope/);
      // An empty result still says what its columns are.
      const empty = await arrowTable(warehouse, `select 1::integer as n where false`);
      expect([empty.numRows, empty.schema.names]).toEqual([0, ['n']]);
      // Batches hold batchRows rows, from DuckDB chunks of 2048.
      const sizes: number[] = [];
      for await (const batch of arrowBatches(warehouse, `select range as n from range(10000)`, { batchRows: 3000 })) sizes.push(batch.numRows);
      expect(sizes).toEqual([4096, 4096, 1808]);
    } finally {
      warehouse.close();
    }
  });

  it("decimals come back as DuckDB's exact text: as strings with decimals 'string', and through decimalString from Decimal128", async () => {
    const order = 'order by org_id, cycle_start, integration_id';
    const expected = (await duckRows(published, `select amount::varchar from fct_conversation_charges ${order}`)).rows.map(([text]) => text);
    expect(expected).toEqual(expect.arrayContaining(['0.012500', '0.100000', null]));
    const select = `select amount from fct_conversation_charges ${order}`;
    const asText = await arrowTable(published, select, { decimals: 'string' });
    expect(String(asText.schema.fields[0]!.type)).toBe('Utf8');
    expect(asText.toArray().map((row) => row.amount)).toEqual(expected);
    expect(JSON.parse(JSON.stringify(asText.toArray()))).toEqual(expected.map((amount) => ({ amount })));
    const exact = await arrowTable(published, select);
    const { scale } = exact.schema.fields[0]!.type as Decimal;
    expect(scale).toBe(6);
    expect(exact.toArray().map((row) => decimalString(row.amount, scale))).toEqual(expected);

    // the edges of DECIMAL(38, s) and HUGEINT, both ways, against DuckDB's own casts to text
    const warehouse = await Warehouse.open(':memory:');
    try {
      const values = [
        '12.5::decimal(38,6)', '-12.5::decimal(38,6)', '-0.000001::decimal(38,6)', '0::decimal(38,6)', '1.50::decimal(4,2)', '-7.125::decimal(18,3)',
        '99999999999999999999999999999999.999999::decimal(38,6)', '-99999999999999999999999999999999.999999::decimal(38,6)',
        '170141183460469231731687303715884105727::hugeint', '(-170141183460469231731687303715884105727 - 1)::hugeint', '-1::hugeint',
      ];
      // one column per value, each of its own type; a second row of nulls
      const columns = values.map((value, i) => `${value} as c${i}`).join(', ');
      const nulls = values.map((value, i) => `null::${value.split('::').pop()} as c${i}`).join(', ');
      const sql = `select 1 as row, ${columns} union all select 2, ${nulls} order by row`;
      const texts = (await duckRows(warehouse, `select ${values.map((_, i) => `c${i}::varchar`).join(', ')} from (${sql})`)).rows;
      expect(texts[0]!.slice(0, 3)).toEqual(['12.500000', '-12.500000', '-0.000001']);
      expect(texts[0]![8]).toBe('170141183460469231731687303715884105727');
      const cells = (table: Table, cell: (value: unknown, column: number) => unknown) =>
        table.toArray().map((row) => values.map((_, i) => cell(row[`c${i}`], i + 1)));
      const strings = await arrowTable(warehouse, sql, { decimals: 'string' });
      expect(strings.schema.fields.slice(1).map((field) => String(field.type))).toEqual(values.map(() => 'Utf8'));
      expect(cells(strings, (value) => value)).toEqual(texts);
      const decimals = await arrowTable(warehouse, sql);
      expect(cells(decimals, (value, column) => decimalString(value as Uint32Array | null, (decimals.schema.fields[column]!.type as Decimal).scale))).toEqual(texts);
      expect(decimalString(-1234567n, 2)).toBe('-12345.67');
    } finally {
      warehouse.close();
    }
  });

  it('the Arrow IPC file reads back with tableFromIPC equal to the source', async () => {
    const out = join(tempDir(), 'charges.arrow');
    const rows = await exportTable({ db: published, table: 'fct_conversation_charges', format: 'arrow', out });
    const source = await arrowTable(published, 'fct_conversation_charges');
    const read = tableFromIPC(readFileSync(out));
    expect(rows).toBe(source.numRows);
    expect(read.schema.fields.map((field) => [field.name, String(field.type)])).toEqual(
      source.schema.fields.map((field) => [field.name, String(field.type)]),
    );
    expect(arrowRows(read)).toEqual(arrowRows(source));
    expect((read.schema.fields.find((field) => field.name === 'cycle_start')!.type as { timezone: string }).timezone).toBe('UTC');
  });

  it('each format reads back in DuckDB with the same rows and values, instants in UTC ISO-8601', async () => {
    const dir = tempDir();
    const reader: Record<Exclude<ExportFormat, 'arrow'>, (path: string, columns: string) => string> = {
      parquet: (path) => `read_parquet(${sqlString(path)})`,
      csv: (path, columns) => `read_csv(${sqlString(path)}, header = true, columns = ${columns})`,
      ndjson: (path, columns) => `read_json(${sqlString(path)}, format = 'newline_delimited', columns = ${columns})`,
    };
    const check = await Warehouse.open(':memory:');
    try {
      // the copy's detail view names its export relative to the copy's folder (docs/nightly.md)
      await check.run(`set file_search_path = ${sqlString(dirname(published))}`);
      await check.run(`attach ${sqlString(published)} as src (read_only)`);
      for (const table of tables) {
        const types = await check.rows<{ column_name: string; data_type: string }>(
          `select column_name, data_type from duckdb_columns() where database_name = 'src' and table_name = $table order by column_index`,
          { table },
        );
        const columns = `{${types.map((column) => `${sqlString(column.column_name)}: ${sqlString(column.data_type)}`).join(', ')}}`;
        const expected = Number(await check.value(`select count(*) from src.${table}`));
        for (const format of Object.keys(reader) as (keyof typeof reader)[]) {
          const out = join(dir, `${table}.${format}`);
          expect(await exportTable({ db: published, table, format, out }), `${table} ${format}`).toBe(expected);
          const back = reader[format](out, columns);
          expect(Number(await check.value(`select count(*) from ${back}`)), `${table} ${format}`).toBe(expected);
          const differ = await check.value(
            `select count(*) from ((select * from src.${table} except all select * from ${back})
                                   union all (select * from ${back} except all select * from src.${table}))`,
          );
          expect(Number(differ), `${table} ${format}`).toBe(0);
        }
      }
    } finally {
      check.close();
    }
    const csv = readFileSync(join(dir, 'fct_billable_conversations.csv'), 'utf8');
    expect(csv).toContain(',2024-01-10T09:00:00.123456Z,');
    expect(csv).toContain(',2024-01-01T00:00:00Z,');
    const ndjson = readFileSync(join(dir, 'fct_billable_conversations.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(ndjson.map((row) => row.first_activity_at)).toContain('2024-01-12T08:00:00.500Z');
  });

  it('--where filters the rows; a table can be named in any case', async () => {
    const dir = tempDir();
    for (const format of ['parquet', 'arrow'] as const) {
      const out = join(dir, `acme.${format}`);
      const rows = await exportTable({ db: published, table: 'FCT_BILLABLE_CONVERSATIONS', format, out, where: `org_id = 'acme' and customer_account_id <> ''` });
      expect(rows).toBe(1);
    }
    const back = await duckRows(':memory:', `select org_id, customer_account_id from read_parquet(${sqlString(join(dir, 'acme.parquet'))})`);
    expect(back.rows).toEqual([['acme', 'x"y,z']]);
    expect(arrowRows(tableFromIPC(readFileSync(join(dir, 'acme.arrow'))).select(['org_id', 'customer_account_id']))).toEqual([['acme', 'x"y,z']]);
  });

  it('the format comes from --format, else from the file name', () => {
    expect(['x.csv.gz', 'x.jsonl', 'x.ndjson', 'x.arrow', 'x.parquet', 'x'].map((out) => resolveExportFormat(undefined, out))).toEqual([
      'csv', 'ndjson', 'ndjson', 'arrow', 'parquet', 'parquet',
    ]);
    expect(resolveExportFormat('arrow', 'x.csv')).toBe('arrow');
    expect(resolveExportFormat(undefined, 'out.v2/x.pq')).toBe('parquet');
    // an extension no format writes is refused, not written as Parquet under that name
    expect(() => resolveExportFormat(undefined, 'x.xlsx')).toThrow(
      new ConfigError('--out x.xlsx ends in ".xlsx", which convbill export does not write: name it .parquet, .csv, .ndjson (.jsonl, .json) or .arrow, or pass --format.'),
    );
    expect(resolveExportFormat('parquet', 'x.xlsx')).toBe('parquet');
    // DuckDB compresses text by the name; a compressed Parquet or Arrow name would be a lie
    expect(() => resolveExportFormat(undefined, 'x.parquet.gz')).toThrow(/ends in "\.gz", which convbill export does not write/);
    expect(() => resolveExportFormat(undefined, 'x.arrow.zst')).toThrow(/ends in "\.zst"/);
    expect(() => resolveExportFormat('xlsx', 'x')).toThrow(new ConfigError('Option --format must be one of parquet, csv, ndjson, arrow, not "xlsx".'));
  });

  it('a bad table name, a bad filter or a failing export is one sentence, and leaves no file behind', async () => {
    const dir = tempDir();
    const out = join(dir, 'x.parquet');
    const attempt = (options: Partial<Parameters<typeof exportTable>[0]>) =>
      exportTable({ db: published, table: 'fct_conversation_counts', format: 'parquet', out, ...options }).then(
        () => undefined,
        (error: unknown) => error,
      );
    const badTable = await attempt({ table: 'fct_nope' });
    expect(badTable).toBeInstanceOf(ConfigError);
    expect((badTable as ConfigError).exitCode).toBe(2);
    expect((badTable as Error).message).toMatch(/^Table "fct_nope" is not in .*convbill_published\.duckdb; its tables are .*fct_conversation_counts.*\.$/);
    for (const where of ['no_such_column = 1', `org_id = `, `org_id = 'a'); select 1; --`]) {
      const badFilter = await attempt({ where });
      expect(badFilter, where).toBeInstanceOf(ConfigError);
      expect((badFilter as Error).message, where).toMatch(/^Option --where ".*" is not a valid filter on fct_conversation_counts: [^\n]*\.$/);
    }
    // Valid SQL that fails on the rows: the run fails, and neither the file nor a temporary one is left.
    const failing = await attempt({ where: `cycle_id::integer > 0`, format: 'arrow' });
    expect(failing).toBeInstanceOf(RunError);
    expect((failing as Error).message).toMatch(/^Exporting fct_conversation_counts where cycle_id::integer > 0 to .*x\.parquet failed: [^\n]*\.$/);
    expect(readdirSync(dir)).toEqual([]);
    expect(await attempt({ out: join(dir, 'missing', 'x.csv') })).toBeInstanceOf(ConfigError);
  });

  it('exports a table far larger than the memory limit in bounded memory', async () => {
    const dir = tempDir();
    const db = join(dir, 'big.duckdb');
    const rowCount = 3_000_000;
    const make = await Warehouse.open(db, { memoryLimit: '64MB' });
    try {
      await make.run(
        `create table big as
         select i, repeat('x', 200) || i as pad, i * 0.25 as d, timestamptz '2024-01-01 00:00:00+00' + to_microseconds(i) as at
         from range(${rowCount}) t(i)`,
      );
    } finally {
      make.close();
    }
    let peak = 0;
    const sample = () => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const timer = setInterval(sample, 20);
    const before = process.memoryUsage().rss;
    let arrowRowsWritten: number;
    let parquetRowsWritten: number;
    try {
      arrowRowsWritten = await exportTable({ db, table: 'big', format: 'arrow', out: join(dir, 'big.arrow'), memoryLimit: '64MB' });
      parquetRowsWritten = await exportTable({ db, table: 'big', format: 'parquet', out: join(dir, 'big.parquet'), memoryLimit: '64MB' });
    } finally {
      clearInterval(timer);
      sample();
    }
    const growth = peak - before;
    // The Arrow file is the table's size in memory: strings, offsets and values, uncompressed.
    const dataSize = statSync(join(dir, 'big.arrow')).size;
    expect(dataSize).toBeGreaterThan(600e6);
    expect(growth, `RSS grew ${Math.round(growth / 1e6)} MB for ${Math.round(dataSize / 1e6)} MB of data`).toBeLessThan(dataSize / 2);
    expect([arrowRowsWritten, parquetRowsWritten]).toEqual([rowCount, rowCount]);

    expect(Number((await duckRows(':memory:', `select count(*) from read_parquet(${sqlString(join(dir, 'big.parquet'))})`)).rows[0]![0])).toBe(rowCount);
    let read = 0;
    let last: unknown;
    const file = await open(join(dir, 'big.arrow'));
    try {
      for await (const batch of await RecordBatchReader.from(file)) {
        read += batch.numRows;
        if (batch.numRows > 0) last = batch.get(batch.numRows - 1)?.pad;
      }
    } finally {
      await file.close();
    }
    expect(read).toBe(rowCount);
    expect(last).toBe(`${'x'.repeat(200)}${rowCount - 1}`);
  }, 60_000);
});
