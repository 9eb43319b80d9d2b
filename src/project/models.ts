/**
 * The SQL model runner: reads `sql/`, works out the order from the tables each
 * model reads, and materialises the models into the warehouse.
 *
 * Hand-written rather than a dbt port: the whole runner is a topological sort
 * and dbt's delete+insert strategy over two dozen files, and a dependency
 * would bring Python or a large tree.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError, engineMessage } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';

/**
 * table: persisted in the database, rebuilt whole by every build (the small
 * marts); temp: lives for one build, in memory or spilled, never written to
 * the file; view: computed where it is read, kept in the database unless it
 * reads a temp model; incremental: a persisted table kept from build to
 * build, in which each build replaces the rows of the keys it touched
 * (dbt's delete+insert strategy), see runIncremental.
 */
export type Materialization = 'table' | 'temp' | 'view' | 'incremental';

export interface Model {
  name: string;
  file: string;
  materialized: Materialization;
  /** the select that computes the model (for incremental: its new rows) */
  sql: string;
  dependsOn: string[];
  /** incremental only: `create table if not exists`, the table's contract */
  ddl?: string;
  /** incremental only: the columns whose values the new rows replace */
  uniqueKey?: string[];
  /** incremental only: the relation listing the keys to replace (default: the new rows) */
  replaces?: string;
  /** persisted models whose state before this build the model reads: it runs before them */
  readsPrevious: string[];
  /** every relation the SQL reads, models or not */
  reads: string[];
  /** `-- full_refresh: empty`: a model that only says what an incremental build changes; empty in a full refresh */
  emptyInFullRefresh: boolean;
}

export interface ModelTiming {
  name: string;
  seconds: number;
  /** rows the model wrote (tables), when known */
  rows?: number;
  /** models: success or error; audits: pass or fail; phases: none */
  status?: 'success' | 'error' | 'pass' | 'fail';
}

/** The package's `sql/` folder, from src/ (tests) or dist/src/ (installed). */
export function sqlDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 5; depth += 1) {
    const candidate = join(dir, 'sql');
    try {
      if (statSync(join(candidate, 'macros')).isDirectory()) return candidate;
    } catch {
      // not here; look one level up
    }
    dir = dirname(dir);
  }
  throw new RunError('Cannot find the sql/ folder of the convbill package.');
}

function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sqlFiles(path);
      return entry.name.endsWith('.sql') ? [path] : [];
    })
    .sort();
}

/** Comments and string literals hide no dependency. */
function codeOnly(sql: string): string {
  return sql.replace(/--[^\n]*/g, ' ').replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/'(?:[^']|'')*'/g, "''");
}

function headerList(sql: string, key: string): string[] {
  const line = new RegExp(`^--\\s*${key}:\\s*(.+)$`, 'm').exec(sql)?.[1];
  return line ? line.split(',').map((item) => item.trim().toLowerCase()).filter(Boolean) : [];
}

export function loadModels(root = sqlDirectory()): Model[] {
  const files = sqlFiles(root).filter((file) => !/^(macros|audits|reconcile|reports)\b/.test(relative(root, file)));
  const names = new Set(files.map((file) => basename(file, '.sql')));
  const models = files.map((file): Model => {
    const text = readFileSync(file, 'utf8');
    const name = basename(file, '.sql');
    const materialized = (/^--\s*materialized:\s*(table|temp|view|incremental)\b/m.exec(text)?.[1] ?? 'table') as Materialization;
    let ddl: string | undefined;
    let sql = text;
    if (materialized === 'incremental') {
      const contract = /^create table if not exists\s+([a-z_][a-z0-9_]*)\s*\([\s\S]*?\);\s*$/im.exec(text);
      if (!contract || contract[1]?.toLowerCase() !== name) {
        throw new RunError(`Incremental model ${name} (${file}) must declare its table: "create table if not exists ${name} (...);".`);
      }
      ddl = contract[0].trim().replace(/;$/, '');
      sql = text.slice(0, contract.index) + text.slice(contract.index + contract[0].length);
    }
    const readsPrevious = headerList(text, 'reads_previous');
    const referenced = [...codeOnly(sql).matchAll(/\b(?:from|join)\s+([a-z_][a-z0-9_]*)/gi)].map((match) =>
      // X_delta is the rows incremental model X wrote in this build
      (match[1] as string).toLowerCase().replace(/_delta$/, (suffix, offset, whole) => (names.has(whole.slice(0, offset)) ? '' : suffix)),
    );
    const replaces = headerList(text, 'replaces')[0];
    // the relation naming the keys to replace must exist before the model runs
    const dependsOn = [...new Set(replaces ? [...referenced, replaces] : referenced)]
      .filter((ref) => ref !== name && names.has(ref) && !readsPrevious.includes(ref))
      .sort();
    const uniqueKey = headerList(text, 'unique_key');
    if (materialized === 'incremental' && uniqueKey.length === 0) {
      throw new RunError(`Incremental model ${name} (${file}) needs a "-- unique_key:" header.`);
    }
    return {
      name,
      file,
      materialized,
      sql: sql.trim().replace(/;\s*$/, ''),
      dependsOn,
      ddl,
      uniqueKey: materialized === 'incremental' ? uniqueKey : undefined,
      replaces,
      readsPrevious,
      reads: [...new Set(referenced)].sort(),
      emptyInFullRefresh: /^--\s*full_refresh:\s*empty\b/m.test(text),
    };
  });
  // A model reading another's previous state must run before it.
  for (const model of models) {
    for (const target of model.readsPrevious) {
      const later = models.find((candidate) => candidate.name === target);
      if (later && !later.dependsOn.includes(model.name)) later.dependsOn.push(model.name);
    }
  }
  return orderByDependencies(models);
}

export function orderByDependencies(models: Model[]): Model[] {
  const byName = new Map(models.map((model) => [model.name, model]));
  const ordered: Model[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (model: Model, path: string[]) => {
    if (state.get(model.name) === 'done') return;
    if (state.get(model.name) === 'visiting') {
      throw new RunError(`SQL models depend on each other in a cycle: ${[...path, model.name].join(' -> ')}.`);
    }
    state.set(model.name, 'visiting');
    for (const dependency of model.dependsOn) visit(byName.get(dependency) as Model, [...path, model.name]);
    state.set(model.name, 'done');
    ordered.push(model);
  };
  for (const model of [...models].sort((a, b) => a.name.localeCompare(b.name))) visit(model, []);
  return ordered;
}

/** Creates (or replaces) the SQL macros every model may call. */
export async function installMacros(warehouse: Engine, root = sqlDirectory()): Promise<void> {
  for (const file of sqlFiles(join(root, 'macros'))) await warehouse.run(readFileSync(file, 'utf8'));
}

export interface RunModelsOptions {
  /** rebuild every incremental table from empty instead of updating it */
  fullRefresh: boolean;
  /** told the name of each model as it starts (progress display) */
  onModel?: (name: string) => void;
  /** write DuckDB's JSON profile of each model's statements to `<dir>/<model>.json` */
  profileDir?: string;
}

export async function runModels(
  warehouse: Engine,
  options: RunModelsOptions,
  models = loadModels(),
): Promise<ModelTiming[]> {
  // Every incremental table exists before any model runs: models read their
  // own previous state, and others' (reads_previous).
  for (const model of models.filter((candidate) => candidate.materialized === 'incremental')) {
    if (options.fullRefresh) await dropRelation(warehouse, model.name);
    await warehouse.run(model.ddl as string);
  }
  const timings: ModelTiming[] = [];
  // relations that live for this session only: the build's own temp tables and views
  const transient = new Set(
    (
      await warehouse.rows<{ name: string }>(
        `select table_name as name from duckdb_tables() where temporary
         union all select view_name from duckdb_views() where temporary`,
      )
    ).map((row) => row.name),
  );
  for (const model of models) {
    // A view over a temp table would outlive it in the file and then fail.
    const readsTransient = model.reads.some((relation) => transient.has(relation));
    if (model.materialized === 'temp' || (model.materialized === 'view' && readsTransient)) transient.add(model.name);
    options.onModel?.(model.name);
    if (options.profileDir) {
      // the last statement of the model (its insert or create) is the one profiled
      await warehouse.run(`pragma enable_profiling = 'json'`);
      await warehouse.run(`pragma profiling_output = ${sqlString(join(options.profileDir, `${model.name}.json`))}`);
    }
    const started = performance.now();
    let rows: number | undefined;
    try {
      if (model.materialized === 'incremental') {
        rows = await runIncremental(warehouse, model, options.fullRefresh);
        transient.add(`${model.name}_delta`);
      } else {
        await dropRelation(warehouse, model.name);
        const kind = model.materialized === 'temp'
          ? 'or replace temp table'
          : model.materialized === 'view' && transient.has(model.name) ? 'or replace temp view' : model.materialized;
        // LIMIT 0 keeps the columns and skips the work
        const select = options.fullRefresh && model.emptyInFullRefresh ? `select * from (\n${model.sql}\n) limit 0` : model.sql;
        const statement = `create ${kind} ${model.name} as\n${select}`;
        if (model.materialized === 'view') await warehouse.run(statement);
        else rows = await written(warehouse, statement);
      }
    } catch (error) {
      timings.push({ name: model.name, seconds: (performance.now() - started) / 1000, status: 'error' });
      throw new ModelError(`Model ${model.name} (${model.file}) failed: ${engineMessage(error)}.`, timings, { cause: error });
    }
    timings.push({ name: model.name, seconds: (performance.now() - started) / 1000, rows, status: 'success' });
  }
  if (options.profileDir) await warehouse.run('pragma disable_profiling');
  return timings;
}

/** A failed model, with the timings of the models run up to it (for run_results.json). */
export class ModelError extends RunError {
  constructor(
    message: string,
    readonly timings: ModelTiming[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

async function written(warehouse: Engine, sql: string): Promise<number | undefined> {
  const [result] = await warehouse.rows<{ Count?: bigint }>(sql);
  return result?.Count === undefined ? undefined : Number(result.Count);
}

/**
 * One incremental model. The select computes the new rows of the keys the
 * build touched, reading the table's previous state where it needs it. Its
 * result stays readable as `<model>_delta` for the models after it. A full
 * refresh inserts straight into the emptied table (one write instead of
 * two), and `<model>_delta` is then the whole table.
 */
async function runIncremental(warehouse: Engine, model: Model, fullRefresh: boolean): Promise<number | undefined> {
  const list = (await warehouse.columnsOf(model.name)).join(', ');
  const delta = `${model.name}_delta`;
  if (fullRefresh) {
    const rows = await written(warehouse, `insert into ${model.name} (${list})\nselect ${list} from (\n${model.sql}\n)`);
    await warehouse.run(`create or replace temp view ${delta} as select ${list} from ${model.name}`);
    return rows;
  }
  await warehouse.run(`create or replace temp table ${delta} as\n${model.sql}`);
  const key = model.uniqueKey as string[];
  const matches = key.map((column) => `${model.name}.${column} is not distinct from replaced.${column}`).join(' and ');
  await warehouse.run(
    `delete from ${model.name}
     using (select distinct ${key.join(', ')} from ${model.replaces ?? delta}) as replaced
     where ${matches}`,
  );
  return written(warehouse, `insert into ${model.name} (${list}) select ${list} from ${delta}`);
}

/** Drops a persisted table or view by name, whichever it is: a model may change kind. */
export async function dropRelation(warehouse: Engine, name: string): Promise<void> {
  const [existing] = await warehouse.rows<{ kind: string }>(
    `select 'table' as kind from duckdb_tables()
     where database_name = current_database() and schema_name = 'main' and table_name = $name
     union all
     select 'view' from duckdb_views()
     where database_name = current_database() and schema_name = 'main' and view_name = $name`,
    { name },
  );
  if (existing) await warehouse.run(`drop ${existing.kind} ${name}`);
}

export interface AuditResult {
  name: string;
  file: string;
  passed: boolean;
  /** the first offending rows (at most 5) */
  rows: Record<string, unknown>[];
  seconds: number;
}

/**
 * Runs `sql/audits/*.sql`, each returning the rows that break an invariant.
 * Audits that check part of a mart read the temp views `audit_cycles`
 * (org_id, cycle_start) and `audit_conversations` (the detail keys): what a
 * build rewrote, or everything (`convbill test`).
 */
export async function runAudits(warehouse: Engine, root = sqlDirectory()): Promise<AuditResult[]> {
  const results: AuditResult[] = [];
  for (const file of sqlFiles(join(root, 'audits'))) {
    const sql = readFileSync(file, 'utf8').trim().replace(/;\s*$/, '');
    const started = performance.now();
    const rows = await warehouse.rows(`select * from (${sql}) limit 5`).catch((error: unknown) => {
      throw new RunError(`Audit ${basename(file, '.sql')} (${file}) could not run: ${engineMessage(error)}.`, { cause: error });
    });
    results.push({ name: basename(file, '.sql'), file, passed: rows.length === 0, rows, seconds: (performance.now() - started) / 1000 });
  }
  return results;
}
