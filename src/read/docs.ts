/**
 * The data dictionary: every published table and column, described once.
 *
 * The SQL marts describe themselves in their header (grain, purpose and a
 * `-- columns:` block), so a column and its description change in the same
 * file. The tables the TypeScript creates have no model file and are
 * described here. `checkDictionary` holds the descriptions against a real
 * published database, so a column added without a description, or a
 * description left behind by a dropped column, fails a test.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { RunError } from '../engine/errors.js';
import { type Model, loadModels, sqlDirectory } from '../project/models.js';
import { PUBLISHED_TABLES } from '../build/publish.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';

export interface ColumnDoc {
  name: string;
  description: string;
}

export interface TableDoc {
  name: string;
  /** the model file (relative to the package), or the module that creates the table */
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

interface Described {
  source: string;
  grain: string;
  purpose: string;
  columns: Record<string, string>;
  reads: string[];
  optional?: boolean;
}

/**
 * Tables the TypeScript creates (run history, count history, reconciles,
 * publication stamp): no SQL header to describe them, so they are described
 * once here, next to nothing else.
 */
const TYPESCRIPT_TABLES: Record<string, Described> = {
  convbill_runs: {
    source: 'src/runs.ts',
    grain: 'one row per command that changed the working database, (run_id).',
    purpose: 'The run history (`convbill runs`): written when a build or ingest starts, in a transaction of its own, and closed when it ends, so failed and interrupted runs are recorded too.',
    columns: {
      run_id: 'the run, numbered 1, 2, … in order',
      command: "'build' or 'ingest'",
      command_line: 'the command as typed',
      started_at: 'when the run started',
      finished_at: 'when it ended; null while running',
      as_of: 'the instant the facts were computed as of',
      status: 'running, success, failed or interrupted (killed; found by the next run)',
      error: 'the one-sentence error of a failed run',
      full_refresh: 'true for a full rebuild, false for an incremental one',
      refresh_reason: 'why the build was full or incremental',
      files_loaded: 'input files the run loaded',
      rows_staged: 'input rows the build staged (the new loads in an incremental build)',
      rows_read: 'rows of every current file version, after the run (rpt_source_files)',
      rows_accepted: 'of those, the rows accepted',
      rows_rejected: 'of those, the rows rejected (rejected_interactions)',
      partitions_rebuilt: 'the (org, cycle) partitions the build rewrote (convbill_run_partitions)',
      duration_seconds: 'how long the run took',
    },
    reads: ['rpt_source_files'],
  },
  convbill_run_partitions: {
    source: 'src/runs.ts',
    grain: 'one row per build and (org, cycle) partition it rewrote, (run_id, org_id, cycle_start).',
    purpose: 'What each build changed, and the partition as it stood after it.',
    columns: {
      run_id: 'the build (convbill_runs)',
      org_id: 'the organisation',
      cycle_id: "the cycle's name",
      cycle_start: "the cycle's first instant",
      cycle_end: 'the instant after the cycle, excluded',
      integrations: 'integrations with conversations in the partition after the build',
      conversations: 'conversations in the partition after the build',
    },
    reads: ['int_dirty_cycles', 'fct_conversation_counts'],
  },
  convbill_run_files: {
    source: 'src/runs.ts',
    grain: 'one row per run, file and event, (run_id, source_file, event, load_id).',
    purpose: 'What each build or ingest did with each file: which it loaded, which versions it superseded or put back, and which paths it dropped because they are under no current source or were forgotten.',
    columns: {
      run_id: 'the run (convbill_runs)',
      source_file: 'the path',
      load_id: 'the content the event is about (raw_files); null for dropped',
      event: 'loaded (new content), unchanged, repointed (the path now holds content already loaded: an earlier version put back, or the same bytes at another path), superseded (the version the path held before) or dropped',
    },
    reads: ['raw_paths'],
  },
  convbill_count_changes: {
    source: 'src/restatements.ts',
    grain: 'one row per build and count it changed, (run_id, org_id, cycle_start, integration_id).',
    purpose: 'Every count a build changed, before and after: the counts as published after any build are the latest change at or before it. `convbill diff` and the restatement flags of reconcile read it.',
    columns: {
      run_id: 'the build that changed the count',
      org_id: 'the organisation',
      cycle_id: "the cycle's name",
      cycle_start: "the cycle's first instant",
      integration_id: 'the messaging integration',
      platform: 'the platform it bills under',
      conversations_before: 'the count before the build (0 when new)',
      conversations_after: 'the count after the build (0 when gone)',
    },
    reads: ['fct_conversation_counts', 'int_dirty_cycles'],
  },
  convbill_reconciliations: {
    source: 'src/reconcile.ts',
    grain: 'one row per `convbill reconcile`, (reconcile_id).',
    purpose: 'Each reconcile: which invoice file, against which build, and how many lines differed; a later build that changes a reconciled cycle is flagged in the next reconcile.',
    columns: {
      reconcile_id: 'the reconcile, numbered 1, 2, … in order',
      reconciled_at: 'when it ran',
      invoice_file: 'the invoice file, as given',
      run_id: 'the last successful build it compared against',
      lines: 'invoice lines in the file',
      differences: 'lines (and uncovered usage) that did not match',
    },
    reads: ['rpt_invoice_reconciliation'],
    optional: true,
  },
  convbill_publication: {
    source: 'src/publish.ts',
    grain: 'one row, the build this copy holds.',
    purpose: 'Stamps the published copy with its build, so the next build knows whether it can update the copy in place.',
    columns: {
      run_id: 'the build whose facts the copy holds',
      published_at: 'when it was published',
    },
    reads: [],
  },
};

/** Relations created in TypeScript that the models read: the lineage's leaves. */
const SOURCES: Record<string, { description: string; reads?: string[] }> = {
  raw_files: { description: 'the load manifest: one row per loaded content read one way, with its first path, size, SHA-256, format, columns as read, physical rows read and malformed rows (src/raw-layer.ts)' },
  raw_paths: { description: "each loaded path's current content (load), and whether --input named it (src/raw-layer.ts)" },
  raw_malformed_rows: { description: 'the physical rows a reader could not fit, with their line number, text and the reader\'s words (src/readers.ts)' },
  raw_load_tables: { description: "each CSV or JSON load's rows as the file has them, one text column per file column (`raw_load_NNNNNN`); a Parquet load is a copy of the file in `<database>.raw/` (src/readers.ts)" },
  cfg_loads: { description: "the loads that count now, each with its source's settings and the projection that maps the file's columns to the contract's (src/staging.ts)", reads: ['raw_files', 'raw_paths'] },
  raw_scope_rows: { description: "the rows of the loads this build stages, mapped by each load's projection in cfg_loads, with its source's timezone, epoch unit and filter verdict (temp view; src/raw-layer.ts)", reads: ['raw_load_tables', 'cfg_loads', 'cfg_scope_loads'] },
  cfg_scope_loads: { description: 'the loads this build stages: all in a full build, the new ones in an incremental one (src/raw-layer.ts)', reads: ['cfg_loads'] },
  cfg_run: { description: "the build's as-of, the previous as-of, full or incremental, and the default cycle rule (src/build.ts)" },
  cfg_cycle_rules: { description: 'per-org anchor day and timezone, from the config (src/cycles.ts)' },
  cfg_calendar: { description: 'the explicit billing-cycle calendar, `--cycles` (src/cycles.ts)' },
  cfg_integrations: { description: 'the integrations reference, `--integrations` (src/integrations.ts)' },
  cfg_prices: { description: 'the price book and the config prices, one row per tier (src/prices.ts)' },
  cfg_reconcile: { description: 'the tolerance of `convbill reconcile --tolerance` (src/reconcile.ts)' },
  invoice_lines: { description: "the invoice file's lines, typed and matched to cycles (src/invoices.ts)" },
  convbill_reconciled_cycles: { description: 'the (org, cycle) each reconcile compared (src/reconcile.ts)' },
};

/** One leading comment block, as key: lines, with `-- columns:` as name: description lines. */
function parseHeader(text: string, file: string): { fields: Record<string, string>; columns: ColumnDoc[] } {
  const fields: Record<string, string[]> = {};
  const columns: ColumnDoc[] = [];
  let key: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('--')) break;
    const body = line.slice(2);
    const field = /^ ?([a-z_]+):\s*(.*)$/.exec(body);
    const column = /^ {2,}([a-z_][a-z0-9_]*):\s+(.+)$/.exec(body);
    if (key === 'columns' && column) {
      columns.push({ name: column[1] as string, description: (column[2] as string).trim() });
    } else if (field) {
      key = field[1] as string;
      fields[key] = field[2] ? [field[2]] : [];
    } else if (key === 'columns' && columns.length > 0 && body.trim() !== '') {
      const last = columns[columns.length - 1] as ColumnDoc;
      last.description += ` ${body.trim()}`;
    } else if (key && key !== 'columns') {
      (fields[key] as string[]).push(body);
    }
  }
  if (columns.length === 0) throw new RunError(`Model file ${file} has no "-- columns:" block describing its columns.`);
  return { fields: Object.fromEntries(Object.entries(fields).map(([name, lines]) => [name, prose(lines)])), columns };
}

/** Header text as Markdown: wrapped lines joined, `* ` items (and their indented continuations) kept as list items. */
function prose(lines: string[]): string {
  const parts: string[] = [];
  let itemIndent: number | undefined;
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    const content = line.trim();
    if (content === '') continue;
    if (content.startsWith('* ')) {
      parts.push(`\n- ${content.slice(2)}`);
      itemIndent = indent;
    } else if (itemIndent !== undefined && indent <= itemIndent) {
      parts.push(`\n\n${content}`);
      itemIndent = undefined;
    } else {
      parts.push(parts.length === 0 ? content : ` ${content}`);
    }
  }
  return parts.join('').replace(/^([^\n]*)\n- /, '$1\n\n- ');
}

function codeOnly(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/'(?:[^']|'')*'/g, "''");
}

/**
 * The relations a model reads, less its own CTEs and its own previous state.
 * Not Model.reads: that one also takes `is distinct from alias.column` for
 * a relation, which orders models harmlessly but would print a wrong lineage.
 */
function relationsRead(model: Model, names: Set<string>): string[] {
  const code = codeOnly(model.sql);
  const ctes = new Set(
    [...code.matchAll(/(?:\bwith|,)\s*(?:recursive\s+)?([a-z_][a-z0-9_]*)\s+as\s*(?:not\s+)?(?:materialized\s+)?\(/gi)].map((match) =>
      (match[1] as string).toLowerCase(),
    ),
  );
  const read = [...code.matchAll(/\b(?:from|join)\s+([a-z_][a-z0-9_]*)\b(?!\s*[.(])/gi)].map((match) => {
    const relation = (match[1] as string).toLowerCase();
    // X_delta is the rows incremental model X wrote in this build
    return relation.endsWith('_delta') && names.has(relation.slice(0, -6)) ? relation.slice(0, -6) : relation;
  });
  return [...new Set(read)].filter((relation) => relation !== model.name && !ctes.has(relation)).sort();
}

function allModels(root: string): Map<string, Model> {
  return new Map([...loadModels(root), ...loadModels(join(root, 'reconcile'))].map((model) => [model.name, model]));
}

/** Every published table (and the copy's publication stamp), in the order readers meet them. */
export function describeTables(root = sqlDirectory()): TableDoc[] {
  const models = allModels(root);
  return [...PUBLISHED_TABLES, 'convbill_publication'].map((name): TableDoc => {
    const model = models.get(name);
    const typescript = TYPESCRIPT_TABLES[name];
    if (model && typescript) throw new RunError(`Table ${name} is described twice: in ${model.file} and in src/docs.ts.`);
    if (typescript) {
      return {
        name,
        source: typescript.source,
        grain: typescript.grain,
        purpose: typescript.purpose,
        columns: Object.entries(typescript.columns).map(([column, description]) => ({ name: column, description })),
        reads: typescript.reads,
        optional: Boolean(typescript.optional),
      };
    }
    if (!model) throw new RunError(`Published table ${name} has no model file and no description in src/docs.ts.`);
    const { fields, columns } = parseHeader(readFileSync(model.file, 'utf8'), model.file);
    if (!fields.grain || !fields.purpose) throw new RunError(`Model file ${model.file} needs "-- grain:" and "-- purpose:" headers.`);
    return {
      name,
      source: relative(dirname(root), model.file),
      materialized: model.materialized,
      grain: fields.grain,
      purpose: fields.purpose,
      columns,
      reads: relationsRead(model, new Set(models.keys())),
      optional: relative(root, model.file).startsWith('reconcile'),
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
  const models = allModels(root);
  const names = new Set(models.keys());
  const seen = new Set<string>();
  const node = (relation: string, previous: boolean): LineageNode => {
    const model = models.get(relation);
    const typescript = TYPESCRIPT_TABLES[relation];
    const kind = previous
      ? 'its state before this build'
      : model?.materialized ?? (typescript ? `created in ${typescript.source}` : SOURCES[relation] ? 'source' : 'undescribed');
    if (previous) return { name: relation, kind, reads: [] };
    if (relation !== name && stopAt.has(relation)) return { name: relation, kind, reads: [], published: true };
    const reads = model ? relationsRead(model, names) : typescript?.reads ?? SOURCES[relation]?.reads ?? [];
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
    '<!-- Generated by `convbill docs` from the model headers in sql/ and src/docs.ts; edit those, not this file. -->',
    '',
    'The tables of the published copy (`<db name>_published.duckdb`, schema `main`), which `convbill query`, analysts and BI tools read.',
    'Instants are `TIMESTAMPTZ` (UTC); amounts are exact `DECIMAL`. The reconcile tables appear after the first `convbill reconcile` and the build after it.',
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
      '| column | description |',
      '|---|---|',
      ...table.columns.map((column) => `| \`${column.name}\` | ${cell(column.description)} |`),
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
    ...Object.entries(SOURCES).map(([name, source]) => `| \`${name}\` | ${cell(source.description)} |`),
    '',
  );
  return out.join('\n');
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
