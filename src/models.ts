/**
 * The SQL model runner: reads `sql/`, works out the order from the tables each
 * model reads, and materialises the models into the warehouse.
 *
 * Hand-written rather than a dbt port: the whole runner is a topological sort
 * over a dozen files, and a dependency would bring Python or a large tree.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError, engineMessage } from './errors.js';
import type { Warehouse } from './warehouse.js';

/**
 * table: persisted in the database (the marts); temp: lives for one build,
 * in memory or spilled, never written to the file (staging and intermediate
 * steps: writing them would cost more than computing them); view: computed
 * where it is read, kept in the database unless it reads a temp model.
 */
export type Materialization = 'table' | 'temp' | 'view';

export interface Model {
  name: string;
  file: string;
  materialized: Materialization;
  sql: string;
  dependsOn: string[];
}

export interface ModelTiming {
  name: string;
  seconds: number;
}

/** The package's `sql/` folder, from src/ (tests) or dist/src/ (installed). */
export function sqlDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 4; depth += 1) {
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

export function loadModels(root = sqlDirectory()): Model[] {
  const files = sqlFiles(root).filter((file) => !/^(macros|audits)\b/.test(relative(root, file)));
  const names = new Set(files.map((file) => basename(file, '.sql')));
  const models = files.map((file): Model => {
    const sql = readFileSync(file, 'utf8');
    const name = basename(file, '.sql');
    const materialized = (/^--\s*materialized:\s*(table|temp|view)\b/m.exec(sql)?.[1] ?? 'table') as Materialization;
    const referenced = [...codeOnly(sql).matchAll(/\b(?:from|join)\s+([a-z_][a-z0-9_]*)/gi)].map((match) =>
      (match[1] as string).toLowerCase(),
    );
    const dependsOn = [...new Set(referenced)].filter((ref) => ref !== name && names.has(ref)).sort();
    return { name, file, materialized, sql: sql.trim().replace(/;\s*$/, ''), dependsOn };
  });
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
export async function installMacros(warehouse: Warehouse, root = sqlDirectory()): Promise<void> {
  for (const file of sqlFiles(join(root, 'macros'))) await warehouse.run(readFileSync(file, 'utf8'));
}

export async function runModels(warehouse: Warehouse, models = loadModels()): Promise<ModelTiming[]> {
  const timings: ModelTiming[] = [];
  const transient = new Set<string>();
  for (const model of models) {
    // A view over a temp table would outlive it in the file and then fail.
    const readsTransient = model.dependsOn.some((dependency) => transient.has(dependency));
    if (model.materialized === 'temp' || (model.materialized === 'view' && readsTransient)) transient.add(model.name);
    const started = performance.now();
    try {
      await dropRelation(warehouse, model.name);
      const kind = model.materialized === 'temp'
        ? 'or replace temp table'
        : model.materialized === 'view' && transient.has(model.name) ? 'or replace temp view' : model.materialized;
      await warehouse.run(`create ${kind} ${model.name} as\n${model.sql}`);
    } catch (error) {
      throw new RunError(`Model ${model.name} (${model.file}) failed: ${engineMessage(error)}.`, { cause: error });
    }
    timings.push({ name: model.name, seconds: (performance.now() - started) / 1000 });
  }
  return timings;
}

/** Drops a persisted table or view by name, whichever it is: a model may change kind. */
export async function dropRelation(warehouse: Warehouse, name: string): Promise<void> {
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

export interface AuditFailure {
  name: string;
  file: string;
  rows: Record<string, unknown>[];
}

/**
 * Runs `sql/audits/*.sql`, each returning the rows that break an invariant,
 * and reports the audits that returned any.
 */
export async function runAudits(warehouse: Warehouse, root = sqlDirectory()): Promise<AuditFailure[]> {
  const failures: AuditFailure[] = [];
  for (const file of sqlFiles(join(root, 'audits'))) {
    const sql = readFileSync(file, 'utf8').trim().replace(/;\s*$/, '');
    const rows = await warehouse.rows(`select * from (${sql}) limit 5`);
    if (rows.length > 0) failures.push({ name: basename(file, '.sql'), file, rows });
  }
  return failures;
}
