/** The dialect's introspector: the tables and views of the connection's database, from system.tables and system.columns. */
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
  sql,
} from 'kysely';

const KYSELY_TABLES = [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE];

export class ClickHouseIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const rows = await this.db.selectFrom('system.databases').select('name').orderBy('name').execute();
    return rows.map((row) => ({ name: row.name as string }));
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    const here = sql<string>`currentDatabase()`;
    const tables = await this.db.selectFrom('system.tables').select(['database', 'name', 'engine']).where('database', '=', here).execute();
    // no ordering in SQL: system.columns lists a table's columns in their order, which 18.16 has no column for
    const columns = await this.db
      .selectFrom('system.columns')
      .select(['table', 'name', 'type', 'default_kind'])
      .where('database', '=', here)
      .execute();
    return tables
      .filter((table) => options.withInternalKyselyTables || !KYSELY_TABLES.includes(table.name))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((table) => ({
        schema: table.database,
        name: table.name,
        isView: /View$/.test(table.engine),
        columns: columns
          .filter((column) => column.table === table.name)
          .map((column) => ({
            name: column.name,
            dataType: column.type,
            isNullable: /^Nullable\(/.test(column.type),
            hasDefaultValue: column.default_kind !== '',
            isAutoIncrementing: false,
          })),
      }));
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}
