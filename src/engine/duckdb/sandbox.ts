/**
 * The sandbox of a session that runs SQL a user wrote (`convbill query`,
 * `export --where`, the library's `query` and Arrow readers). DuckDB's own
 * settings do the fencing, so every file function, COPY, ATTACH and
 * extension load meets the same check inside the engine:
 *
 * - `allowed_directories`: the folders the database's own views read (the
 *   published copy's facts are a view over a Parquet export version) and
 *   those the caller allows. DuckDB refuses to change it once external
 *   access is off, so it is set first; DuckDB adds the session's
 *   temp_directory and the database file itself. A view's relative path is
 *   checked as written and again once file_search_path has resolved it, so
 *   both are allowed.
 * - `allowed_paths`: single files the caller may write (an export's file).
 * - `autoinstall/autoload_known_extensions = false`, then
 *   `enable_external_access = false`: no file outside those, no network, no
 *   INSTALL or LOAD of an extension.
 * - `lock_configuration = true`, last: no SET or RESET undoes any of it.
 *
 * ATTACH of a file inside an allowed folder would pass the file check, so
 * ATTACH and DETACH are refused by statement type, from DuckDB's own parser.
 */
import { type DuckDBConnection, type DuckDBExtractedStatements, type DuckDBResultReader, StatementType } from '@duckdb/node-api';
import { isAbsolute, resolve } from 'node:path';
import { sqlList } from '../sql-text.js';

export interface Sandbox {
  /** folders user SQL may read from and COPY ... TO */
  allowedDirectories?: string[];
  /** files convbill itself writes in the session (they are user SQL's too) */
  allowedPaths?: string[];
}

/** Thrown for a statement the sandbox refuses before the engine sees it. */
export class StatementRefused extends Error {}

/** Thrown when text that must be one statement holds none or several: a usage error, not a refusal. */
export class NotOneStatement extends Error {}

const REFUSED: Partial<Record<StatementType, string>> = {
  [StatementType.ATTACH]: 'ATTACH',
  [StatementType.DETACH]: 'DETACH',
  [StatementType.COPY_DATABASE]: 'COPY FROM DATABASE',
};

/** Whether an engine error is the sandbox (or read-only mode) saying no, rather than a failing query. */
export function isRefusal(error: unknown): boolean {
  if (error instanceof StatementRefused) return true;
  const text = error instanceof Error ? error.message : String(error);
  return /^Permission Error|the configuration has been locked|in read-only mode/m.test(text);
}

/** Applies the sandbox to an open session; nothing convbill sets afterwards can change a setting. */
export async function lockDown(connection: DuckDBConnection, sandbox: Sandbox, home?: string): Promise<void> {
  const views = (await viewFolders(connection)).flatMap((folder) =>
    isAbsolute(folder) || home === undefined ? [folder] : [folder, `${resolve(home, folder)}/`]);
  const folders = [...views, ...(sandbox.allowedDirectories ?? []).map((dir) => resolve(dir))];
  if (folders.length > 0) await connection.run(`set allowed_directories = ${sqlList(folders)}`);
  const paths = (sandbox.allowedPaths ?? []).map((path) => resolve(path));
  if (paths.length > 0) await connection.run(`set allowed_paths = ${sqlList(paths)}`);
  await connection.run('set autoinstall_known_extensions = false');
  await connection.run('set autoload_known_extensions = false');
  await connection.run('set enable_external_access = false');
  await connection.run('set lock_configuration = true');
}

/**
 * The folders the database's views read with read_parquet: each path
 * literal up to its first pattern character (publish.ts names a version
 * folder, never a pattern, before the partitions' wildcards).
 */
async function viewFolders(connection: DuckDBConnection): Promise<string[]> {
  const reader = await connection.runAndReadAll(
    `select sql from duckdb_views() where database_name = current_database() and not internal and sql is not null`,
  );
  const folders = new Set<string>();
  for (const [sql] of reader.getRowsJS() as [string][]) {
    for (const match of sql.matchAll(/\bread_parquet\(\s*'((?:[^']|'')*)'/gi)) {
      const path = (match[1] as string).replaceAll("''", "'");
      const plain = path.slice(0, path.search(/[*?[{]|$/));
      const folder = plain.slice(0, plain.lastIndexOf('/') + 1);
      if (folder.length > 1) folders.add(folder);
    }
  }
  return [...folders];
}

/**
 * Runs the statements of `sql` one after the other and returns the last
 * one's result, refusing ATTACH and DETACH before they run.
 */
export async function runUserSql(connection: DuckDBConnection, sql: string): Promise<DuckDBResultReader> {
  const statements = await extract(connection, sql);
  let result: DuckDBResultReader | undefined;
  for (let index = 0; index < statements.count; index += 1) {
    const prepared = await statements.prepare(index);
    try {
      refuseType(prepared.statementType);
      result = await prepared.runAndReadAll();
    } finally {
      prepared.destroySync();
    }
  }
  return result as DuckDBResultReader;
}

/**
 * Checks, without running it, that `sql` is exactly one statement the
 * sandbox allows: text convbill embeds (a filter, a query to stream) must not
 * end its statement and start another. Preparing binds it, which checks its files.
 */
export async function checkOneStatement(connection: DuckDBConnection, sql: string): Promise<void> {
  const statements = await extract(connection, sql);
  if (statements.count !== 1) throw new NotOneStatement(`the SQL holds ${statements.count} statements where one is expected`);
  const prepared = await statements.prepare(0);
  try {
    refuseType(prepared.statementType);
  } finally {
    prepared.destroySync();
  }
}

/** DuckDB's parser splits the text; it fails with no words of its own when there is no statement at all. */
async function extract(connection: DuckDBConnection, sql: string): Promise<DuckDBExtractedStatements> {
  try {
    return await connection.extractStatements(sql);
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    const parser = /^Failed to extract statements: (.*)/s.exec(text);
    if (parser) throw new Error(parser[1], { cause: error });
    throw new NotOneStatement('the SQL holds no statement', { cause: error });
  }
}

function refuseType(type: StatementType): void {
  const refused = REFUSED[type];
  if (refused) throw new StatementRefused(`${refused} is not allowed: SQL here reads this database only`);
}
