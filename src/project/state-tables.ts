/**
 * The state tables: what the commands keep from run to run besides the
 * models' tables (the raw layer's manifests, the run history, the build's
 * state, the count history, the reconciles). Each is declared once, in
 * `sql/state/<table>.sql`, whose header the data dictionary reads; the
 * statement is `create table if not exists`, so creating again is a no-op.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { RunError } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { sqlDirectory, sqlFiles } from './load-models.js';

export interface StateTable {
  name: string;
  file: string;
  /** the whole file: header and statement */
  text: string;
  /** the `create table if not exists` statement */
  ddl: string;
}

const DDL = /^create table if not exists\s+([a-z_][a-z0-9_]*)\s*\([\s\S]*?^\);?\s*$/im;

export function loadStateTables(root = sqlDirectory()): StateTable[] {
  return sqlFiles(join(root, 'state')).map((file) => {
    const name = basename(file, '.sql');
    const text = readFileSync(file, 'utf8');
    const ddl = DDL.exec(text);
    if (!ddl || ddl[1] !== name) {
      throw new RunError(`State table file ${file} must hold one statement: "create table if not exists ${name} (...);".`);
    }
    return { name, file, text, ddl: ddl[0].trim().replace(/;$/, '') };
  });
}

/** Creates the named state tables where missing; in an attached database when `catalog` is given. */
/** The package's own state tables, read once per process: they do not change while it runs. */
let packageTables: Map<string, StateTable> | undefined;

export async function createStateTables(warehouse: Engine, names: string[], catalog?: string): Promise<void> {
  packageTables ??= new Map(loadStateTables().map((table) => [table.name, table]));
  const tables = packageTables;
  for (const name of names) {
    const table = tables.get(name);
    if (!table) throw new RunError(`No state table ${name} in the sql/state/ folder of the convbill package.`);
    await warehouse.run(catalog ? table.ddl.replace(/^(create table if not exists\s+)/i, `$1${catalog}.`) : table.ddl);
  }
}
