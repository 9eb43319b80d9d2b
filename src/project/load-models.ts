/**
 * The model loader: reads the SQL models of `sql/` and their headers, and
 * orders them by the relations each reads (relations-read.ts).
 *
 * Hand-written rather than a dbt port: the whole runner is a topological sort
 * and dbt's delete+insert strategy over two dozen files, and a dependency
 * would bring Python or a large tree.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunError } from '../engine/errors.js';
import { relationsRead } from './relations-read.js';
import { headerList, parseHeader } from './sql-header.js';

/**
 * table: persisted in the database, rebuilt whole by every build (the small
 * marts); temp: lives for one build, in memory or spilled, never written to
 * the file; view: computed where it is read, kept in the database unless it
 * reads a temp model; incremental: a persisted table kept from build to
 * build, in which each build replaces the rows of the keys it touched
 * (dbt's delete+insert strategy), see runIncremental in run-models.ts.
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
  /**
   * incremental only (`-- delete_by: relation.column`): the stored rows to
   * replace are those whose rowid that column lists, which a model read
   * while it looked them up; `<model>_delta` stands for the new rows. One
   * delete by rowid instead of a join of the keys with the whole table.
   */
  deleteBy?: { relation: string; column: string };
  /** persisted models whose state before this build the model reads: it runs before them */
  readsPrevious: string[];
  /** every relation the SQL reads, models or not, less its own table */
  reads: string[];
  /** the models whose rows written in this build (`<model>_delta`) the SQL reads */
  readsDeltaOf: string[];
  /** `-- full_refresh: empty`: a model that only says what an incremental build changes; empty in a full refresh */
  emptyInFullRefresh: boolean;
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

export function sqlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sqlFiles(path);
      return entry.name.endsWith('.sql') ? [path] : [];
    })
    .sort();
}

/**
 * Folders of `sql/` that hold no model of the build: macros, audits, the
 * models of reconcile and diff (run by those commands, from their folder),
 * the state tables' DDL and the named queries.
 */
const NOT_BUILD_MODELS = /^(macros|audits|reconcile|reports|state|queries|clickhouse)\b/;

export function loadModels(root = sqlDirectory()): Model[] {
  const files = sqlFiles(root).filter((file) => !NOT_BUILD_MODELS.test(relative(root, file)));
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
    const { relations, deltasOf } = relationsRead(sql, names, name);
    const replaces = headerList(text, 'replaces')[0];
    // the relation naming the keys to replace must exist before the model runs
    const dependsOn = [...new Set(replaces ? [...relations, replaces] : relations)]
      .filter((ref) => ref !== name && names.has(ref) && !readsPrevious.includes(ref))
      .sort();
    const [deleteRelation, deleteColumn] = (headerList(text, 'delete_by')[0] ?? '').split('.');
    const deleteBy = deleteRelation && deleteColumn ? { relation: deleteRelation, column: deleteColumn } : undefined;
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
      deleteBy: materialized === 'incremental' ? deleteBy : undefined,
      readsPrevious,
      reads: relations,
      readsDeltaOf: deltasOf,
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

export interface Audit {
  name: string;
  file: string;
  /** the select returning the rows that break the invariant */
  sql: string;
  /**
   * `-- on_incremental_failure: full_refresh` with `-- refresh_reason:`: an
   * incremental build that fails this audit (and no other) starts over as
   * a full refresh, for this reason, instead of failing.
   */
  fullRefreshReason?: string;
}

/** The audits of `sql/audits/`, in file order. */
export function loadAudits(root = sqlDirectory()): Audit[] {
  return sqlFiles(join(root, 'audits')).map((file): Audit => {
    const text = readFileSync(file, 'utf8');
    const name = basename(file, '.sql');
    const { fields } = parseHeader(text);
    const onFailure = fields.on_incremental_failure;
    if (onFailure !== undefined && (onFailure !== 'full_refresh' || !fields.refresh_reason)) {
      throw new RunError(`Audit ${name} (${file}): "-- on_incremental_failure:" takes full_refresh, with a "-- refresh_reason:".`);
    }
    return { name, file, sql: text.trim().replace(/;\s*$/, ''), fullRefreshReason: onFailure ? fields.refresh_reason : undefined };
  });
}
