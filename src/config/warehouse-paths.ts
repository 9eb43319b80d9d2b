/**
 * Every file and folder convbill keeps beside a working database, derived
 * from its path in this one place so that writers and readers never
 * disagree about where something lives:
 *
 *   convbill.duckdb             the working database (the builds write it)
 *   convbill_published.duckdb   the read-only copy readers open
 *   convbill_parquet            the Parquet exports (a symlink into .convbill_parquet.versions/)
 *   convbill_runs/              run_results.json and run-NNNNNN.json
 *   convbill.duckdb.raw/        stored copies of Parquet inputs
 *   convbill.duckdb.tmp/        DuckDB's spill folder
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';

const IN_MEMORY = ':memory:';

/** The database's name without its extension, beside it: `dir/convbill.duckdb` → `dir/convbill`. */
function stem(db: string): string {
  return join(dirname(db), basename(db, extname(db)));
}

export function publishedPathOf(db: string): string {
  return `${stem(db)}_published${extname(db) || '.duckdb'}`;
}

export function defaultParquetDir(db: string): string {
  const extension = extname(db);
  return `${extension ? db.slice(0, -extension.length) : db}_parquet`;
}

/** The versioned folders behind the export link, hidden beside it. */
export function parquetVersionsOf(parquetDir: string): string {
  const target = resolve(parquetDir);
  return join(dirname(target), `.${basename(target)}.versions`);
}

/** `<db name>_runs/`: run_results.json of the last run, and run-NNNNNN.json of each. */
export function runsDirectory(db: string): string {
  return `${stem(db)}_runs`;
}

/** The folder of stored Parquet copies of a database file. */
export function rawStoreOf(db: string): string | undefined {
  return db === IN_MEMORY ? undefined : `${resolve(db)}.raw`;
}

/** DuckDB's spill folder for a build. */
export function spillDirectoryOf(db: string): string | undefined {
  return db === IN_MEMORY ? undefined : `${db}.tmp`;
}

/**
 * The database a reader opens when it names none: the published copy, or
 * the working file when nothing was published yet (readers never take the
 * working file from a build that is running, since publish makes the copy).
 */
export function readerDatabase(options: { db: string; publishedDb?: string }): string {
  const published = options.publishedDb ?? publishedPathOf(options.db);
  return existsSync(published) || !existsSync(options.db) ? published : options.db;
}
