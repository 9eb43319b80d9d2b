/**
 * The report's data: one read-only session, a named query of sql/queries/
 * (report_*.sql) per part of the page, each already aggregated to what the
 * page shows. A database without the tables a build writes is a usage error,
 * so the report never renders from half a warehouse; an --org the warehouse
 * does not bill fails the run, naming the closest orgs it does.
 */
import type { DuckDBValue } from '@duckdb/node-api';
import { Kysely, sql } from 'kysely';
import { ConfigError, RunError } from '../engine/errors.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { plainValue } from '../engine/duckdb/values.js';
import { namedQuery } from '../project/named-queries.js';
import { DuckDBDialect } from '../typed/dialect.js';
import type { Database } from '../typed/schema.js';

export type Row = Record<string, string | number | boolean | null>;

export interface ReportScope {
  /** one org only; unknown to the warehouse, the run fails */
  org?: string;
  /** account ids as they are, instead of masked */
  showAccounts?: boolean;
}

/** The published tables, and the marker publish() adds to the copy (not a mart, so not in the generated types). */
interface ReportTables extends Database {
  convbill_publication: { run_id: number; published_at: string };
}

const REQUIRED = ['fct_conversation_charges', 'fct_billable_conversations', 'dim_billing_cycles', 'dim_integrations', 'rejected_interactions', 'rpt_data_quality', 'convbill_runs'];

/** The report's data, read in one read-only session. */
export async function readFacts(db: string, options: ReportScope = {}) {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  const kysely = new Kysely<ReportTables>({ dialect: new DuckDBDialect({ connection: warehouse }) });
  try {
    const tables = new Set((await kysely.introspection.getTables()).map((table) => table.name));
    for (const table of REQUIRED) {
      if (!tables.has(table)) throw new ConfigError(`Database ${db} has no table ${table}; run "convbill build" first, or pass the published copy with --db.`);
    }
    const org = options.org ?? null;
    // DuckDB refuses a parameter the statement does not use, so each query gets only its own
    const named = async (name: string, params: Record<string, DuckDBValue> = {}): Promise<Row[]> => {
      const text = namedQuery(name);
      const used = Object.fromEntries(Object.entries({ org, ...params }).filter(([key]) => text.includes(`$${key}`)));
      const rows = await warehouse.rows(text, used);
      return rows.map((row) => Object.fromEntries(Object.entries(row).map(([key, value]) => [key, plainValue(value as DuckDBValue)])));
    };
    if (options.org !== undefined) await assertKnownOrg(named, db, options.org);

    const when = (column: string) => sql<string>`strftime(${sql.ref(column)}, '%Y-%m-%d %H:%M') || ' UTC'`;
    const rows = (query: { execute(): Promise<unknown[]> }) => query.execute() as Promise<Row[]>;
    const publication = tables.has('convbill_publication')
      ? (await rows(kysely.selectFrom('convbill_publication').select(['run_id', when('published_at').as('published_at')])))[0]
      : undefined;
    // the facts are those of the build the copy publishes; in the working database, its last successful build
    const [build] = await rows(
      kysely
        .selectFrom('convbill_runs')
        .select(['run_id', sql<string>`strftime(as_of, '%Y-%m-%dT%H:%M:%S.%fZ')`.as('as_of'), when('as_of').as('as_of_text')])
        .where('command', '=', 'build')
        .where('status', '=', 'success')
        .$if(publication !== undefined, (query) => query.where('run_id', '=', publication?.run_id as number))
        .orderBy('run_id', 'desc')
        .limit(1),
    );
    if (!build) throw new ConfigError(`Database ${db} has no successful build; run "convbill build" first.`);
    const asOf = build.as_of as string;
    const hasReconcile = tables.has('rpt_invoice_reconciliation');
    return {
      publication,
      build,
      cycles: await named('report_cycles', { as_of: asOf }),
      cyclePlatforms: await named('report_cycle_platforms'),
      amounts: await named('report_cycle_amounts'),
      invoiceLines: await named('report_invoice_lines', { as_of: asOf }),
      accounts: await named('report_accounts', { show_accounts: options.showAccounts === true }),
      rejects: await named('report_rejects'),
      dataQuality: await rows(kysely.selectFrom('rpt_data_quality').select(['check_name', 'affected_count', 'description']).orderBy('check_name')),
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
            cycles: await named('report_reconciliation'),
            lines: await named('report_reconciliation_lines'),
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

export type ReportFacts = Awaited<ReturnType<typeof readFacts>>;

/**
 * An org with no cycle is most likely a typo, and a script that mails one
 * report per org must not send an empty page as if the org owed nothing.
 */
async function assertKnownOrg(named: (name: string) => Promise<Row[]>, db: string, org: string): Promise<void> {
  const [known] = await named('report_orgs');
  if (known?.org_known) return;
  const closest = (JSON.parse(String(known?.closest ?? '[]')) as string[]).map((id) => JSON.stringify(id)).join(', ');
  throw new RunError(`Org ${JSON.stringify(org)} has no billing cycle in ${db}${closest ? `; the closest orgs: ${closest}` : ''}.`);
}
