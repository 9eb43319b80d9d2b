/**
 * `convbill runs`: the run history (build/run-history.ts writes it), newest
 * first, through Kysely over the database file.
 */
import { existsSync } from 'node:fs';
import { Kysely, sql } from 'kysely';
import { ConvbillError, RunError, engineMessage } from '../engine/errors.js';
import { publishedPathOf } from '../config/warehouse-paths.js';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database } from '../typed/schema.js';
import type { QueryResult } from './query.js';

/** Recent runs, newest first: from the working database, or from the published copy while a build holds it. */
export async function listRuns(options: { db: string; publishedDb?: string }, limit: number): Promise<QueryResult> {
  try {
    return await recentRuns(options.db, limit);
  } catch (error) {
    const published = options.publishedDb ?? publishedPathOf(options.db);
    if (!(error instanceof RunError) || !/is locked/.test(error.message) || !existsSync(published)) throw error;
    // a build holds the working file: the published copy has every run up to the last published one
    return recentRuns(published, limit);
  }
}

const RUN_COLUMNS = [
  'run_id', 'command', 'status', 'started_at', 'seconds', 'as_of', 'build',
  'rows_staged', 'rows_read', 'rows_accepted', 'rows_rejected', 'partitions_rebuilt', 'error',
] as const;

async function recentRuns(path: string, limit: number): Promise<QueryResult> {
  const db = new Kysely<Database>({ dialect: new DuckDBDialect({ path, readOnly: true }) });
  try {
    const runs = await db
      .selectFrom('convbill_runs')
      .select(({ case: when, fn, lit, not, ref }) => [
        'run_id', 'command', 'status', 'started_at',
        fn<number | null>('round', ['duration_seconds', lit(1)]).as('seconds'),
        'as_of',
        when().when(ref('full_refresh')).then(sql.lit('full')).when(not(ref('full_refresh'))).then(sql.lit('incremental')).end().as('build'),
        'rows_staged', 'rows_read', 'rows_accepted', 'rows_rejected', 'partitions_rebuilt', 'error',
      ])
      .orderBy('run_id', 'desc')
      .limit(limit)
      .execute()
      .catch((error: unknown) => {
        if (error instanceof ConvbillError) throw error;
        throw new RunError(`Query failed: ${engineMessage(error)}.`, { cause: error });
      });
    return { columns: [...RUN_COLUMNS], rows: runs.map((run) => RUN_COLUMNS.map((column) => run[column])) };
  } finally {
    await db.destroy();
  }
}
