/**
 * The state tables: what the commands keep from run to run besides the
 * models' tables (the raw layer's manifests, the run history, the build's
 * state, the count history, the reconciles). Each is declared once, in
 * `sql/state/<table>.sql`, whose header the data dictionary reads; the
 * statement is `create table if not exists`, so creating again is a no-op.
 * A column added to a declaration later is added to an older warehouse's
 * table on its next run, without its `not null`: the rows already there have
 * no value for it, and the code reading it treats null as "not recorded".
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
    const qualified = catalog ? `${catalog}.${name}` : name;
    const existing = catalog ? [] : await warehouse.columnsOf(name);
    if (existing.length === 0) {
      await warehouse.run(catalog ? table.ddl.replace(/^(create table if not exists\s+)/i, `$1${catalog}.`) : table.ddl);
      continue;
    }
    for (const column of declaredColumns(table.ddl).filter((declared) => !existing.includes(declared.name))) {
      await warehouse.run(`alter table ${qualified} add column ${column.name} ${column.type}`);
    }
  }
}

/** Each column of a `create table` statement with its type, without constraints. */
function declaredColumns(ddl: string): { name: string; type: string }[] {
  const body = ddl.slice(ddl.indexOf('(') + 1, ddl.lastIndexOf(')'));
  return body.split('\n')
    .map((line) => /^\s*([a-z_][a-z0-9_]*)\s+([a-z0-9_]+(?:\s*\[\])?(?:\s*\(\s*\d+\s*(?:,\s*\d+\s*)?\))?)/i.exec(line))
    .filter((match): match is RegExpExecArray => match !== null && !/^(primary|unique|check|foreign|constraint)$/i.test(match[1] as string))
    .map((match) => ({ name: match[1] as string, type: (match[2] as string).replace(/\s+/g, '') }));
}
