/**
 * The ClickHouse SQL of `sql/clickhouse/` (its README says what each folder
 * holds): read, filled in and split into statements. Templates rather than
 * server macros because 18.16 has no user-defined functions, and names
 * rather than parameters because its server-side parameters fail.
 */
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sqlDirectory, sqlFiles } from '../../project/load-models.js';

export interface Placeholders {
  database: string;
  cluster?: string;
  run_id?: number;
  /** the audits' subjects: the run's _next tables in a build, the readers' views in convbill test */
  detail?: string;
  counts?: string;
}

export type ClickHouseFolder = 'state' | 'models' | 'audits' | 'readers';

export function fill(sql: string, values: Placeholders): string {
  return sql.replace(/\{(database|cluster|run_id|detail|counts)\}/g, (_, name: keyof Placeholders) => {
    const value = values[name];
    if (value === undefined) throw new Error(`ClickHouse SQL needs {${name}}.`);
    return String(value);
  });
}

/** Statements end with `;` at a line's end; comment lines are dropped. */
export function statements(sql: string): string[] {
  return sql
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(/;\s*$/m)
    .map((statement) => statement.trim())
    .filter(Boolean);
}

/** The statements of one file of a folder, filled in. */
export function clickhouseSql(folder: ClickHouseFolder, file: string, values: Placeholders): string[] {
  return statements(fill(readFileSync(join(sqlDirectory(), 'clickhouse', folder, `${file}.sql`), 'utf8'), values));
}

/** Every file of a folder: [name, statements] in name order. */
export function clickhouseFolder(folder: ClickHouseFolder, values: Placeholders): [string, string[]][] {
  return sqlFiles(join(sqlDirectory(), 'clickhouse', folder)).map((file) => [
    basename(file, '.sql'),
    statements(fill(readFileSync(file, 'utf8'), values)),
  ]);
}
