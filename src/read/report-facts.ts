/**
 * The report's data: one read-only session through the typed API, a query
 * per section of the page. A database without the tables a build writes is a
 * usage error, so the report never renders from half a warehouse.
 */
import { Kysely, sql } from 'kysely';
import { ConfigError } from '../engine/errors.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database } from '../typed/schema.js';

export type Row = Record<string, string | number | null>;

/** The published tables, and the marker publish() adds to the copy (not a mart, so not in the generated types). */
interface ReportTables extends Database {
  convbill_publication: { run_id: number; published_at: string };
}

/** The report's data, read in one read-only session through the typed API. */
export async function readFacts(db: string) {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  const kysely = new Kysely<ReportTables>({ dialect: new DuckDBDialect({ connection: warehouse }) });
  try {
    const tables = new Set((await kysely.introspection.getTables()).map((table) => table.name));
    for (const table of ['fct_conversation_counts', 'fct_billable_conversations', 'dim_billing_cycles', 'rejected_interactions', 'convbill_runs']) {
      if (!tables.has(table)) throw new ConfigError(`Database ${db} has no table ${table}; run "convbill build" first, or pass the published copy with --db.`);
    }
    const when = (column: string) => sql<string>`strftime(${sql.ref(column)}, '%Y-%m-%d %H:%M') || ' UTC'`;
    const rows = (query: { execute(): Promise<unknown[]> }) => query.execute() as Promise<Row[]>;
    const hasReconcile = tables.has('rpt_invoice_reconciliation');
    return {
      publication: tables.has('convbill_publication')
        ? (await rows(kysely.selectFrom('convbill_publication').select(['run_id', when('published_at').as('published_at')])))[0]
        : undefined,
      cycles: await rows(
        kysely
          .selectFrom('dim_billing_cycles as cycles')
          .leftJoin('fct_conversation_counts as counts', (join) =>
            join.onRef('cycles.org_id', '=', 'counts.org_id').onRef('cycles.cycle_start', '=', 'counts.cycle_start'),
          )
          .select(({ fn }) => ['cycles.org_id', 'cycles.cycle_id', 'counts.platform', fn.coalesce(fn.sum('counts.conversations'), sql.lit(0)).as('conversations')])
          .groupBy(['cycles.org_id', 'cycles.cycle_id', 'counts.platform'])
          .orderBy('cycles.org_id')
          .orderBy(({ fn }) => fn.min('cycles.cycle_start'))
          .orderBy('counts.platform'),
      ),
      integrations: await rows(
        kysely
          .selectFrom('fct_conversation_counts')
          .select(({ fn }) => ['org_id', 'integration_id', fn.agg('any_value', ['platform']).as('platform'), fn.sum('conversations').as('conversations')])
          .groupBy(['org_id', 'integration_id'])
          .orderBy('conversations', 'desc')
          .orderBy('org_id')
          .orderBy('integration_id'),
      ),
      accounts: await rows(
        kysely
          .selectFrom('fct_billable_conversations')
          .select(({ fn }) => [
            'org_id',
            'customer_account_id',
            fn.countAll().as('conversations'),
            fn.count('integration_id').distinct().as('integrations'),
            fn.count('cycle_start').distinct().as('cycles'),
          ])
          .groupBy(['org_id', 'customer_account_id'])
          .orderBy('conversations', 'desc')
          .orderBy('org_id')
          .orderBy('customer_account_id')
          .limit(20),
      ),
      rejects: await rows(
        kysely
          .selectFrom('rejected_interactions')
          .select(({ fn }) => ['reason', fn.countAll().as('rows')])
          .groupBy('reason')
          .orderBy('rows', 'desc')
          .orderBy('reason'),
      ),
      reconcile: hasReconcile
        ? {
            last: tables.has('convbill_reconciliations')
              ? (
                  await rows(
                    kysely
                      .selectFrom('convbill_reconciliations')
                      .select(['reconcile_id', when('reconciled_at').as('reconciled_at'), 'invoice_file', 'run_id'])
                      .orderBy('reconcile_id', 'desc')
                      .limit(1),
                  )
                )[0]
              : undefined,
            statuses: await rows(
              kysely
                .selectFrom('rpt_invoice_reconciliation')
                .select(({ fn }) => ['status', fn.countAll().as('lines')])
                .groupBy('status')
                .orderBy(sql`status = 'match'`, 'desc')
                .orderBy('lines', 'desc')
                .orderBy('status'),
            ),
            differing: await rows(
              kysely
                .selectFrom('rpt_invoice_reconciliation')
                .select(({ fn }) => [
                  fn.coalesce('line_label', sql.lit('usage')).as('line'),
                  'org_id',
                  'cycle_id',
                  fn.coalesce('integration_id', 'platform', sql.lit('all')).as('scope'),
                  'invoiced_conversations as invoiced',
                  'computed_conversations as computed',
                  'difference',
                  'status',
                  'explained_by',
                ])
                .where('status', '<>', 'match')
                .orderBy(sql`source_row nulls last`)
                .orderBy('org_id')
                .orderBy('cycle_id')
                .limit(30),
            ),
          }
        : undefined,
      runs: await rows(
        kysely
          .selectFrom('convbill_runs')
          .select(({ fn }) => [
            'run_id',
            'command',
            'status',
            when('started_at').as('started_at'),
            fn('round', ['duration_seconds', sql.lit(1)]).as('seconds'),
            when('as_of').as('as_of'),
            sql<string>`case when full_refresh then 'full' when not full_refresh then 'incremental' end`.as('build'),
            'rows_read',
            'rows_rejected',
            'partitions_rebuilt as partitions',
            'error',
          ])
          .orderBy('run_id', 'desc')
          .limit(20),
      ),
    };
  } finally {
    await kysely.destroy();
    warehouse.close();
  }
}
