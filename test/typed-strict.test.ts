/**
 * The typed API is tight: strict code that uses the grain keys without a
 * null check compiles (test/strict/, under tsc --strict) and fails to as
 * soon as a key is typed nullable, while a nullable column still demands a
 * check; and the columns src/typed/non-null-columns.ts types non-null hold
 * no null on a build made to produce every kind of null the marts allow.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { PUBLISHED_TABLES } from '../src/build/publish.js';
import { publishedPathOf } from '../src/config/warehouse-paths.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlIdentifier } from '../src/engine/sql-text.js';
import { reconcile } from '../src/read/reconcile.js';
import { NON_NULL_COLUMNS, isNonNull } from '../src/typed/non-null-columns.js';
import { type TestBuild, buildFacts, tempDir, writeCsv } from './helpers.js';

const CONFIG = resolve('test/strict/tsconfig.json');
const SCHEMA = resolve('src/typed/schema.ts');

let previous: ts.Program | undefined;

/** Diagnostics of test/strict/ as tsc reports them, with src/typed/schema.ts's text replaced by `schema` when given. */
function compile(schema?: string): string[] {
  const { config } = ts.readConfigFile(CONFIG, ts.sys.readFile);
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, dirname(CONFIG));
  const host = ts.createCompilerHost(parsed.options);
  const readFile = host.readFile.bind(host);
  host.readFile = (file) => (schema !== undefined && resolve(file) === SCHEMA ? schema : readFile(file));
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (file, language, ...rest) =>
    schema !== undefined && resolve(file) === SCHEMA ? ts.createSourceFile(file, schema, language) : getSourceFile(file, language, ...rest);
  // the old program lends its parsed lib and src files: only the type check runs again
  const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options, host, oldProgram: previous });
  previous = program;
  expect(program.getCompilerOptions().strict).toBe(true);
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName.split('/').pop()}:${diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start ?? 0).line + 1}` : '';
    return `${where} TS${diagnostic.code} ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}`;
  });
}

/** schema.ts with one column of one interface given another type. */
function retyped(table: string, column: string, type: string): string {
  const text = ts.sys.readFile(SCHEMA) as string;
  const block = new RegExp(`(export interface ${table} \\{[^}]*\\n  ${column}: )[^;]+;`);
  expect(text).toMatch(block);
  return text.replace(block, `$1${type};`);
}

describe('the typed API under tsc --strict', () => {
  it('compiles strict code that reads grain keys and counts without a null check', () => {
    expect(compile()).toEqual([]);
  }, 120_000);

  it('fails to compile that code once org_id is typed nullable', () => {
    const errors = compile(retyped('FctConversationCharges', 'org_id', 'string | null'));
    expect(errors).toEqual([expect.stringMatching(/^typed-usage\.ts:\d+ TS2322 Type 'string \| null' is not assignable to type 'string'/)]);
  }, 120_000);

  it('a nullable column still needs its null check: the @ts-expect-error line errs when amount is not nullable', () => {
    const errors = compile(retyped('FctConversationCharges', 'amount', 'string'));
    expect(errors).toEqual([expect.stringMatching(/^typed-usage\.ts:\d+ TS2578 Unused '@ts-expect-error' directive/)]);
  }, 120_000);
});

/** `table.column` for each declared non-null column of `db` that holds a null, counted in SQL. */
async function nullsInNonNullColumns(db: string): Promise<string[]> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  try {
    const present = new Set(
      (await warehouse.rows<{ name: string }>(`select table_name as name from duckdb_tables() union all select view_name from duckdb_views()`)).map((row) => row.name),
    );
    const found: string[] = [];
    for (const [table, columns] of Object.entries(NON_NULL_COLUMNS)) {
      if (!present.has(table)) continue;
      const counts = columns.map((column) => `count(*) filter (where ${sqlIdentifier(column)} is null)::integer as ${sqlIdentifier(column)}`);
      const [row] = await warehouse.rows<Record<string, number>>(`select ${counts.join(', ')} from ${sqlIdentifier(table)}`);
      found.push(...columns.filter((column) => (row?.[column] ?? 0) > 0).map((column) => `${table}.${column}`));
    }
    return found;
  } finally {
    warehouse.close();
  }
}

/** `table.column` for every published column holding at least one null. */
async function columnsHoldingNulls(db: string): Promise<string[]> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  try {
    const columns = await warehouse.rows<{ table_name: string; column_name: string }>(
      `select table_name, column_name from duckdb_columns() where schema_name = 'main' and not internal order by table_name, column_index`,
    );
    const found: string[] = [];
    for (const { table_name: table, column_name: column } of columns.filter((row) => PUBLISHED_TABLES.includes(row.table_name))) {
      const nulls = await warehouse.value<bigint>(`select count(*) from ${sqlIdentifier(table)} where ${sqlIdentifier(column)} is null`);
      if (nulls > 0n) found.push(`${table}.${column}`);
    }
    return found;
  } finally {
    warehouse.close();
  }
}

const HEADER = 'org_id,interaction_id,integration_id,customer_account_id,platform,started_at,ended_at';
const LOGS = [
  'acme,i1,wa-1,+331,whatsapp,2024-01-10T09:00:00Z,2024-01-10T09:30:00Z',
  // still open at as-of; sms has no price
  'acme,i2,sms-1,+332,sms,2024-01-11T09:00:00Z,',
  // in no reference and naming no platform: billed as unknown, unpriced
  'acme,i3,x-1,+333,,2024-01-12T09:00:00Z,2024-01-12T10:00:00Z',
  // no org: default
  ',i4,wa-1,+334,whatsapp,2024-02-03T09:00:00Z,2024-02-03T09:30:00Z',
  'acme,i5,,+335,whatsapp,2024-01-13T09:00:00Z,2024-01-13T09:30:00Z',
  'acme,i6,wa-1,+336,whatsapp,not a time,',
  'acme,i7,wa-1,+337,whatsapp,2024-01-15T10:00:00Z,2024-01-15T09:00:00Z',
  'acme,i8,wa-1,+338,whatsapp,2024-05-01T00:00:00Z,',
  'acme,i9,wa-1,+339,whatsapp,2024-01-16T09:00:00Z,2024-01-16T09:30:00Z',
  'acme,i9,wa-1,+340,whatsapp,2024-01-16T09:10:00Z,2024-01-16T09:40:00Z',
  // in the gap of cal's calendar
  'cal,i10,wa-1,+341,whatsapp,2024-01-15T09:00:00Z,2024-01-15T09:30:00Z',
  'cal,i11,wa-1,+342,whatsapp,2024-01-05T09:00:00Z,2024-01-05T09:30:00Z',
  'a,row,with,far,too,many,fields,for,its,header',
];

describe('the non-null columns on real builds', () => {
  let built: TestBuild;
  let published: string;
  beforeAll(async () => {
    const dir = tempDir();
    const logs = join(dir, 'logs.csv');
    writeFileSync(logs, [HEADER, ...LOGS, ''].join('\n'));
    const options = {
      dir,
      inputs: [logs],
      integrations: writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-1', platform: 'whatsapp', name: 'Main number' }, { integration_id: 'sms-1', platform: 'sms', name: '' }]),
      priceBook: writeCsv(dir, 'prices.csv', [{ platform: 'whatsapp', currency: 'EUR', unit_price: '0.10', included_conversations: 0 }]),
      cycles: {
        calendar: writeCsv(dir, 'calendar.csv', [
          { org_id: 'cal', cycle_start: '2024-01-01', cycle_end: '2024-01-10' },
          { org_id: 'cal', cycle_start: '2024-01-20', cycle_end: '2024-02-01' },
        ]),
      },
      asOf: '2024-02-15T00:00:00Z',
    };
    await buildFacts(options);
    // a new version of the file supersedes the first, and changes counts
    writeFileSync(logs, [HEADER, ...LOGS, 'acme,i12,wa-1,+343,whatsapp,2024-02-05T09:00:00Z,2024-02-05T09:30:00Z', ''].join('\n'));
    await buildFacts(options);
    const invoices = writeCsv(dir, 'invoices.csv', [
      { invoice_id: 'INV-1', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'wa-1', quantity: 1, amount: '0.10', currency: 'EUR' },
      { invoice_id: 'INV-1', org_id: 'acme', cycle_id: '2024-01-01', integration_id: 'sms-1', quantity: 2, amount: '1.00', currency: 'EUR' },
      { invoice_id: 'INV-2', org_id: 'acme', period_start: '2023-06-01', period_end: '2023-06-30', integration_id: 'wa-1', quantity: 1 },
      { invoice_id: 'INV-3', org_id: 'acme', cycle_id: '2024-02-01', platform: 'whatsapp', quantity: 5 },
    ], ['invoice_id', 'org_id', 'cycle_id', 'period_start', 'period_end', 'platform', 'integration_id', 'quantity', 'amount', 'currency']);
    await reconcile({ db: join(dir, 'convbill.duckdb'), invoices });
    built = await buildFacts(options);
    published = publishedPathOf(built.db);
  });

  it('the build holds the nulls the marts allow, so the check below has something to miss', async () => {
    expect(await columnsHoldingNulls(published)).toEqual(expect.arrayContaining([
      'rejected_interactions.org_id', 'rejected_interactions.integration_id', 'rejected_interactions.interaction_key',
      'fct_conversation_charges.amount', 'fct_conversation_charges.currency', 'fct_conversation_charges.billable_conversations', 'fct_conversation_charges.price_scope',
      'dim_integrations.integration_name', 'rpt_source_files.superseded_by', 'convbill_runs.error',
      'rpt_invoice_reconciliation.source_row', 'rpt_invoice_reconciliation.invoice_id', 'rpt_invoice_reconciliation.cycle_start',
      'rpt_invoice_reconciliation.computed_amount', 'rpt_reconciliation_alternatives.recomputed_conversations',
    ]));
    const reasons = await built.rows(`select distinct reason from rejected_interactions order by reason`);
    expect(reasons.map((row) => row.reason)).toEqual([
      'after_as_of', 'conflicting_customer_account', 'ended_before_started', 'invalid_timestamp', 'malformed_row', 'missing_integration_id', 'outside_billing_cycles',
    ]);
  });

  it('no column typed non-null holds a null, in the published copy or the working database', async () => {
    expect(await nullsInNonNullColumns(published)).toEqual([]);
    expect(await nullsInNonNullColumns(built.db)).toEqual([]);
  });

  it('the list names every NOT NULL the working database declares, and only published tables', async () => {
    const warehouse = await Warehouse.open(built.db, { readOnly: true });
    try {
      const declared = await warehouse.rows<{ table_name: string; column_name: string }>(
        `select table_name, column_name from duckdb_columns() where schema_name = 'main' and not is_nullable order by all`,
      );
      const published = declared.filter((row) => PUBLISHED_TABLES.includes(row.table_name));
      expect(published.length).toBeGreaterThan(20);
      expect(published.filter((row) => !isNonNull(row.table_name, row.column_name))).toEqual([]);
    } finally {
      warehouse.close();
    }
    expect(Object.keys(NON_NULL_COLUMNS).sort()).toEqual([...PUBLISHED_TABLES].sort());
  });
});
