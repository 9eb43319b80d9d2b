/** The dialect's introspector: what `db.introspection` reports, and what scripts/gen-schema-types.ts types. */
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

/** Tables and views of the open database (not attached ones), from information_schema. */
export class DuckDBIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<any>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const rows = await this.db
      .selectFrom('information_schema.schemata')
      .select('schema_name')
      .where('catalog_name', '=', sql<string>`current_database()`)
      .orderBy('schema_name')
      .execute();
    return rows.map((row) => ({ name: row.schema_name as string }));
  }

  async getTables(options: DatabaseMetadataOptions = { withInternalKyselyTables: false }): Promise<TableMetadata[]> {
    let query = this.db
      .selectFrom('information_schema.columns as c')
      .innerJoin('information_schema.tables as t', (join) =>
        join
          .onRef('c.table_catalog', '=', 't.table_catalog')
          .onRef('c.table_schema', '=', 't.table_schema')
          .onRef('c.table_name', '=', 't.table_name'),
      )
      .select(['c.table_schema', 'c.table_name', 't.table_type', 'c.column_name', 'c.data_type', 'c.is_nullable', 'c.column_default'])
      .where('c.table_catalog', '=', sql<string>`current_database()`)
      .orderBy('c.table_schema')
      .orderBy('c.table_name')
      .orderBy('c.ordinal_position');
    if (!options.withInternalKyselyTables) {
      query = query.where('c.table_name', 'not in', [DEFAULT_MIGRATION_TABLE, DEFAULT_MIGRATION_LOCK_TABLE]);
    }
    const tables = new Map<string, TableMetadata>();
    for (const row of await query.execute()) {
      const key = `${row.table_schema}.${row.table_name}`;
      let table = tables.get(key);
      if (!table) {
        table = { schema: row.table_schema, name: row.table_name, isView: row.table_type === 'VIEW', columns: [] };
        tables.set(key, table);
      }
      const defaultValue = row.column_default as string | null;
      table.columns.push({
        name: row.column_name,
        dataType: row.data_type,
        isNullable: row.is_nullable === 'YES',
        hasDefaultValue: defaultValue !== null,
        isAutoIncrementing: defaultValue?.startsWith('nextval(') ?? false,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}
