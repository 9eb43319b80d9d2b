/** What Kysely may assume of ClickHouse: no RETURNING, no transactions, no locks for its migrator. */
import { DialectAdapterBase } from 'kysely';

export class ClickHouseAdapter extends DialectAdapterBase {
  override get supportsTransactionalDdl(): boolean {
    return false;
  }

  override get supportsReturning(): boolean {
    return false;
  }

  // Kysely's migration tables need a table engine its DDL cannot name; convbill's build owns the schema.
  override async acquireMigrationLock(): Promise<void> {
    throw new Error('Kysely migrations do not run on ClickHouse: convbill build creates the warehouse tables.');
  }

  override async releaseMigrationLock(): Promise<void> {}
}
