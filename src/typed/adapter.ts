/** Kysely's Postgres adapter (RETURNING, transactional DDL: DuckDB has both) without its migration lock. */
import { PostgresAdapter } from 'kysely';

export class DuckDBAdapter extends PostgresAdapter {
  // Postgres takes an advisory lock; DuckDB has none and needs none: one
  // process writes a file, and this dialect runs one query at a time.
  override async acquireMigrationLock(): Promise<void> {}
  override async releaseMigrationLock(): Promise<void> {}
}
