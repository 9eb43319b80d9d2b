/**
 * The data dictionary: every published table and column, described once.
 *
 * Each table describes itself in the header of the SQL file that declares
 * it (grain, purpose and a `-- columns:` block), so a column and its
 * description change in the same file: a model in sql/, or a state table's
 * DDL in sql/state/. `checkDictionary` holds the descriptions against a
 * real published database, so a column added without a description, or a
 * description left behind by a dropped column, fails a test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { RunError } from '../engine/errors.js';
import { type Model, loadModels, sqlDirectory } from '../project/load-models.js';
import { type ColumnDoc, headerList, parseHeader } from '../project/sql-header.js';
import { loadStateTables } from '../project/state-tables.js';
import { OPTIONAL, PUBLISHED_TABLES } from '../build/publish.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { isNonNull } from '../typed/non-null-columns.js';

export type { ColumnDoc } from '../project/sql-header.js';

export interface TableDoc {
  name: string;
  /** the SQL file that declares it, relative to the package */
  source: string;
  materialized?: string;
  grain: string;
  /** paragraphs, and `- ` list items */
  purpose: string;
  columns: ColumnDoc[];
  /** the relations it reads */
  reads: string[];
  /** written by `convbill reconcile`: absent until the first one */
  optional: boolean;
}

/**
 * Relations the models read that no model computes, in the order the
 * dictionary lists them. 'state': a state table, described by its header
 * in sql/state/; the others are created in TypeScript as each command
 * loads its configuration, and described here.
 */
const SOURCES: Record<string, 'state' | { description: string; reads?: string[] }> = {
  raw_files: 'state',
  raw_paths: 'state',
  raw_malformed_rows: 'state',
  raw_load_tables: { description: "each CSV or JSON load's rows as the file has them, one text column per file column (`raw_load_NNNNNN`); a Parquet load is a copy of the file in `<database>.raw/` (src/ingest/readers.ts)" },
  cfg_loads: 'state',
  raw_scope_rows: { description: "the rows of the loads this build stages, mapped by each load's projection in cfg_loads, with its source's timezone, epoch unit and filter verdict (temp view; src/ingest/raw-layer.ts)", reads: ['raw_load_tables', 'cfg_loads', 'cfg_scope_loads'] },
  cfg_scope_loads: { description: 'the loads this build stages: all in a full build, the new ones in an incremental one (src/ingest/raw-layer.ts)', reads: ['cfg_loads'] },
  cfg_run: { description: "the build's as-of, the previous as-of, full or incremental, and the default cycle rule (src/build/build.ts)" },
  cfg_export_rewrites: { description: "the (org, cycle) export partitions whose settled Parquet files are rewritten whole this build: 8 or more settled files, or an active file older than the last build (temp; src/build/parquet-exports.ts)" },
  cfg_cycle_rules: { description: 'per-org anchor day and timezone, from the config (src/reference/cycles.ts)' },
  cfg_calendar: { description: 'the explicit billing-cycle calendar, `--cycles` (src/reference/cycles.ts)' },
  cfg_integrations: { description: 'the integrations reference, `--integrations` (src/reference/integrations.ts)' },
  cfg_prices: { description: 'the price book and the config prices, one row per tier (src/reference/prices.ts)' },
  cfg_reconcile: { description: 'the tolerance of `convbill reconcile --tolerance` (src/read/reconcile.ts)' },
  invoice_lines: { description: "the invoice file's lines, typed and matched to cycles (src/reference/invoices.ts)" },
  convbill_reconciled_cycles: 'state',
};

/** A table described by its file's header; `file` is relative to the package. */
function described(name: string, text: string, file: string): Omit<TableDoc, 'materialized' | 'reads'> {
  const { fields, columns } = parseHeader(text);
  if (columns.length === 0) throw new RunError(`SQL file ${file} has no "-- columns:" block describing its columns.`);
  if (!fields.grain || !fields.purpose) throw new RunError(`SQL file ${file} needs "-- grain:" and "-- purpose:" headers.`);
  return { name, source: file, grain: fields.grain, purpose: fields.purpose, columns, optional: OPTIONAL.includes(name) };
}

interface Catalog {
  models: Map<string, Model>;
  /** the state tables, each with the relations its header says it is written from */
  state: Map<string, Omit<TableDoc, 'materialized'>>;
}

function catalogOf(root: string): Catalog {
  const models = new Map([...loadModels(root), ...loadModels(join(root, 'reconcile'))].map((model) => [model.name, model]));
  const state = new Map(
    loadStateTables(root).map((table) => [
      table.name,
      { ...described(table.name, table.text, relative(dirname(root), table.file)), reads: headerList(table.text, 'reads') },
    ]),
  );
  for (const name of state.keys()) {
    if (models.has(name)) throw new RunError(`Table ${name} is declared twice: as a model (${models.get(name)?.file}) and in sql/state/.`);
  }
  return { models, state };
}

/** Every published table (and the copy's publication stamp), in the order readers meet them. */
export function describeTables(root = sqlDirectory()): TableDoc[] {
  const { models, state } = catalogOf(root);
  return [...PUBLISHED_TABLES, 'convbill_publication'].map((name): TableDoc => {
    const stateTable = state.get(name);
    if (stateTable) return stateTable;
    const model = models.get(name);
    if (!model) throw new RunError(`Published table ${name} has no model file and no file in sql/state/.`);
    return {
      ...described(name, readFileSync(model.file, 'utf8'), relative(dirname(root), model.file)),
      materialized: model.materialized,
      reads: model.reads,
    };
  });
}

export interface LineageNode {
  name: string;
  /** a model's materialization; 'source' (see SOURCES); 'its state before this build'; 'undescribed' */
  kind: string;
  reads: LineageNode[];
  /** expanded higher up in the same tree */
  repeated?: boolean;
  /** a published table, not expanded: it has a lineage of its own */
  published?: boolean;
}

/**
 * What a table reads, recursively, down to the raw layer. Tables in `stopAt`
 * are leaves, marked published, so one mart's tree does not repeat another's.
 */
export function lineageOf(name: string, root = sqlDirectory(), stopAt: ReadonlySet<string> = new Set()): LineageNode {
  const { models, state } = catalogOf(root);
  const seen = new Set<string>();
  const node = (relation: string, previous: boolean): LineageNode => {
    const model = models.get(relation);
    const stateTable = state.get(relation);
    const source = SOURCES[relation];
    const kind = previous
      ? 'its state before this build'
      : model?.materialized ?? (source ? 'source' : stateTable ? `created in ${stateTable.source}` : 'undescribed');
    if (previous) return { name: relation, kind, reads: [] };
    if (relation !== name && stopAt.has(relation)) return { name: relation, kind, reads: [], published: true };
    const reads = model?.reads ?? stateTable?.reads ?? (typeof source === 'object' ? source.reads : undefined) ?? [];
    if (seen.has(relation)) return { name: relation, kind, reads: [], repeated: reads.length > 0 };
    seen.add(relation);
    return { name: relation, kind, reads: reads.map((read) => node(read, model?.readsPrevious.includes(read) ?? false)) };
  };
  return node(name, false);
}

function lineageLines(tree: LineageNode, depth = 0): string[] {
  const label = tree.published ? `[\`${tree.name}\`](#${tree.name})` : `\`${tree.name}\``;
  const note = tree.published ? ', published: lineage in its own section' : tree.repeated ? ', see above' : '';
  return [`${'  '.repeat(depth)}- ${label} (${tree.kind}${note})`, ...tree.reads.flatMap((child) => lineageLines(child, depth + 1))];
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The Markdown data dictionary (docs/data-dictionary.md is a committed copy). */
export function dataDictionary(root = sqlDirectory()): string {
  const tables = describeTables(root);
  const published = new Set(tables.map((table) => table.name));
  const out = [
    '# Data dictionary',
    '',
    '<!-- Generated by `convbill docs` from the headers of the models in sql/ and the state tables in sql/state/, and from src/read/docs.ts; edit those, not this file. -->',
    '',
    'The tables of the published copy (`<db name>_published.duckdb`, schema `main`), which `convbill query`, analysts and BI tools read.',
    'Instants are `TIMESTAMPTZ` (UTC); amounts are exact `DECIMAL`. The reconcile tables appear after the first `convbill reconcile` and the build after it.',
    'A column whose null is "never" holds a value on every row, and the typed API (`openWarehouse()`) types it without `| null`.',
    '',
    '| table | grain | defined in |',
    '|---|---|---|',
    ...tables.map((table) => `| [\`${table.name}\`](#${table.name}) | ${cell(table.grain)} | \`${table.source}\` |`),
  ];
  for (const table of tables) {
    out.push(
      '',
      `## ${table.name}`,
      '',
      `Defined in \`${table.source}\`${table.materialized ? ` (materialized: ${table.materialized})` : ''}${table.optional ? '; written by `convbill reconcile`' : ''}.`,
      '',
      `**Grain:** ${table.grain}`,
      '',
      `**Purpose:** ${table.purpose}`,
      '',
      // "never": the column is in src/typed/non-null-columns.ts, so the typed API gives it no `| null`
      '| column | null | description |',
      '|---|---|---|',
      ...table.columns.map((column) => `| \`${column.name}\` | ${isNonNull(table.name, column.name) ? 'never' : 'can be'} | ${cell(column.description)} |`),
      '',
      '**Lineage** (what it reads, down to the raw layer):',
      '',
      ...lineageOf(table.name, root, published).reads.flatMap((child) => lineageLines(child)),
    );
    if (table.reads.length === 0) out.push('- nothing: written by the build itself');
  }
  out.push(
    '',
    '## Sources',
    '',
    'The relations the models read that no model computes: the raw layer, and the configuration each command loads. They live in the working database only.',
    '',
    '| relation | what it holds |',
    '|---|---|',
    ...Object.keys(SOURCES).map((name) => `| \`${name}\` | ${cell(sourceDescription(name, root))} |`),
    '',
  );
  return out.join('\n');
}

/** A source's line in the dictionary: a state table's purpose and file, or the description above. */
function sourceDescription(name: string, root: string): string {
  const source = SOURCES[name];
  if (typeof source === 'object') return source.description;
  const table = catalogOf(root).state.get(name);
  if (!table) throw new RunError(`Source ${name} has no file in sql/state/.`);
  return `${table.purpose.replace(/\.$/, '')} (${table.source})`;
}

export function writeDataDictionary(out: string): void {
  writeFileSync(out, dataDictionary());
}

export interface DictionaryCheck {
  /** `table.column` in the database with no description */
  undescribed: string[];
  /** `table.column` described, not in the database (reconcile tables only once there is one) */
  absent: string[];
}

/** Compares the descriptions with the tables of a database (a published copy), read-only. */
export async function checkDictionary(db: string, root = sqlDirectory()): Promise<DictionaryCheck> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  let actual: { table_name: string; column_name: string }[];
  try {
    actual = await warehouse.rows<{ table_name: string; column_name: string }>(
      `select table_name, column_name from duckdb_columns()
       where database_name = current_database() and schema_name = 'main' and not internal
       order by table_name, column_index`,
    );
  } finally {
    warehouse.close();
  }
  const present = new Set(actual.map((row) => `${row.table_name}.${row.column_name}`));
  const tablesPresent = new Set(actual.map((row) => row.table_name));
  const tables = describeTables(root);
  const described = new Set(tables.flatMap((table) => table.columns.map((column) => `${table.name}.${column.name}`)));
  return {
    undescribed: [...present].filter((column) => !described.has(column)),
    absent: tables
      .filter((table) => !(table.optional && !tablesPresent.has(table.name)))
      .flatMap((table) => table.columns.map((column) => `${table.name}.${column.name}`))
      .filter((column) => !present.has(column)),
  };
}

/** For the CLI: a published database whose tables and the descriptions disagree is an error. */
export async function assertDictionaryMatches(db: string): Promise<void> {
  const { undescribed, absent } = await checkDictionary(db);
  if (undescribed.length > 0 || absent.length > 0) {
    throw new RunError(
      `The data dictionary and ${db} disagree: undescribed ${undescribed.join(', ') || 'none'}; described but absent ${absent.join(', ') || 'none'}.`,
    );
  }
}
