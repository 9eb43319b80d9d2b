/**
 * The model runner: materialises the models the loader ordered into the
 * warehouse, each as its header says (see Materialization in load-models.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError, engineMessage } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';
import { type Model, loadModels, sqlDirectory, sqlFiles } from './load-models.js';

export interface ModelTiming {
  name: string;
  seconds: number;
  /** rows the model wrote (tables), when known */
  rows?: number;
  /** models: success or error; audits: pass or fail; phases: none */
  status?: 'success' | 'error' | 'pass' | 'fail';
}

/**
 * Creates (or replaces) the SQL macros every model may call, in the engine's
 * own dialect: the models are written once, and what an engine spells its
 * own way (timestamp parsing, JSON) is one macro per engine.
 */
export async function installMacros(warehouse: Engine, root = sqlDirectory()): Promise<void> {
  for (const file of sqlFiles(join(root, 'macros', warehouse.dialect))) await warehouse.run(readFileSync(file, 'utf8'));
}

export interface RunModelsOptions {
  /** rebuild every incremental table from empty instead of updating it */
  fullRefresh: boolean;
  /** told the name of each model as it starts (the run's step lines) */
  onModel?: (name: string) => void;
  /** told each model's timing as it ends, failed ones included (the run's log) */
  onModelDone?: (timing: ModelTiming) => void;
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
  const runValues = await runValuesOf(warehouse);
  // relations that live for this session only: the build's own temp tables and views
  const transient = new Set(
    (
      await warehouse.rows<{ name: string }>(
        `select table_name as name from duckdb_tables() where temporary
         union all select view_name from duckdb_views() where temporary`,
      )
    ).map((row) => row.name),
  );
  for (const listed of models) {
    const model = { ...listed, sql: bindRunValues(listed, runValues) };
    // A view over a temp table would outlive it in the file and then fail.
    const readsTransient =
      model.reads.some((relation) => transient.has(relation)) || model.readsDeltaOf.some((name) => transient.has(`${name}_delta`));
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
        rows = await runIncremental(warehouse, model, options.fullRefresh, options.profileDir);
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
      const failed: ModelTiming = { name: model.name, seconds: (performance.now() - started) / 1000, status: 'error' };
      timings.push(failed);
      options.onModelDone?.(failed);
      throw new ModelError(`Model ${model.name} (${model.file}) failed: ${engineMessage(error)}.`, timings, { cause: error });
    }
    const timing: ModelTiming = { name: model.name, seconds: (performance.now() - started) / 1000, rows, status: 'success' };
    timings.push(timing);
    options.onModelDone?.(timing);
  }
  if (options.profileDir) await warehouse.run('pragma disable_profiling');
  return timings;
}

/**
 * `{{ as_of }}` and `{{ previous_as_of }}` in a model stand for the run's
 * values (cfg_run) written as literals. A literal is a filter DuckDB pushes
 * into the scan of a stored table, and its zone maps; the same comparison
 * against a column of cfg_run is a join, which reads every stored row.
 * Only models that are not persisted views may use them: a view would keep
 * the value of the build that created it.
 */
type RunValues = Record<'as_of' | 'previous_as_of', string | null>;

async function runValuesOf(warehouse: Engine): Promise<RunValues | undefined> {
  if ((await warehouse.columnsOf('cfg_run')).length === 0) return undefined;
  const [values] = await warehouse.rows<RunValues>(
    `select strftime(as_of, '%Y-%m-%d %H:%M:%S.%f+00') as as_of, strftime(previous_as_of, '%Y-%m-%d %H:%M:%S.%f+00') as previous_as_of
     from (select timezone('UTC', as_of) as as_of, timezone('UTC', previous_as_of) as previous_as_of from cfg_run)`,
  );
  return values;
}

function bindRunValues(model: Model, values: RunValues | undefined): string {
  return model.sql.replace(/\{\{\s*(as_of|previous_as_of)\s*\}\}/g, (_match, name: keyof RunValues) => {
    if (!values) throw new RunError(`Model ${model.name} (${model.file}) names {{ ${name} }}, which only a build's models can.`);
    if (model.materialized === 'view' || model.materialized === 'table') {
      throw new RunError(`Model ${model.name} (${model.file}) names {{ ${name} }}: only temp and incremental models may, since a stored model would keep this build's value.`);
    }
    const value = values[name];
    return value === null ? 'null::timestamptz' : `${sqlString(value)}::timestamptz`;
  });
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
async function runIncremental(warehouse: Engine, model: Model, fullRefresh: boolean, profileDir?: string): Promise<number | undefined> {
  // with --profile, each statement of the merge gets a profile of its own
  const profileAs = async (step: string) => {
    if (profileDir) await warehouse.run(`pragma profiling_output = ${sqlString(join(profileDir, `${model.name}.${step}.json`))}`);
  };
  const list = (await warehouse.columnsOf(model.name)).join(', ');
  const delta = `${model.name}_delta`;
  if (fullRefresh) {
    const rows = await written(warehouse, `insert into ${model.name} (${list})\nselect ${list} from (\n${model.sql}\n)`);
    await warehouse.run(`create or replace temp view ${delta} as select ${list} from ${model.name}`);
    return rows;
  }
  await profileAs('delta');
  await warehouse.run(`create or replace temp table ${delta} as\n${model.sql}`);
  const key = model.uniqueKey as string[];
  if (model.replaces) await assertWithinReplaced(warehouse, model, key);
  await profileAs('delete');
  if (model.deleteBy) {
    const { relation, column } = model.deleteBy;
    await warehouse.run(`delete from ${model.name} where rowid in (select ${column} from ${relation} where ${column} is not null)`);
  } else {
    const matches = key.map((column) => `${model.name}.${column} is not distinct from replaced.${column}`).join(' and ');
    await warehouse.run(
      `delete from ${model.name}
       using (select distinct ${key.join(', ')} from ${model.replaces ?? delta}) as replaced
       where ${matches}`,
    );
  }
  await profileAs('insert');
  return written(warehouse, `insert into ${model.name} (${list}) select ${list} from ${delta}`);
}

/**
 * A model that names the keys it `replaces` must write rows of those keys
 * only: its stored rows of any other key are not deleted first, and would
 * sit beside the new ones. The grain audit of an incremental build relies
 * on it, and this check costs what the new rows cost, not the table.
 */
async function assertWithinReplaced(warehouse: Engine, model: Model, key: string[]): Promise<void> {
  const stray = await warehouse.value<bigint>(
    `select count(*) from (select distinct ${key.join(', ')} from ${model.name}_delta) as written
     anti join ${model.replaces} as replaced on ${key.map((column) => `written.${column} is not distinct from replaced.${column}`).join(' and ')}`,
  );
  if (stray > 0n) {
    throw new RunError(
      `Model ${model.name} (${model.file}) wrote ${stray} key(s) of ${key.join(', ')} that ${model.replaces} does not list, whose stored rows it did not replace.`,
    );
  }
}

/**
 * Drops a persisted table or view by name, whichever it is: a model may
 * change kind. One drop, and a second only for a view, is cheaper than
 * looking the name up in the catalog first (some thirty times a build); a
 * catalog error leaves an open transaction usable.
 */
export async function dropRelation(warehouse: Engine, name: string): Promise<void> {
  try {
    await warehouse.run(`drop table if exists ${name}`);
  } catch (error) {
    if (!/is of type View/.test(String(error))) throw error;
    await warehouse.run(`drop view if exists ${name}`);
  }
}
