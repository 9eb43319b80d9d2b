/**
 * `convbill test`: the audits of sql/audits/, alone, over every cycle of the
 * working database, and their verdict. A build runs the same audits over the
 * cycles it rewrote, before it commits.
 */
import { type AuditResult, runAudits } from './audits.js';
import { RunError } from '../engine/errors.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import type { ClickHouseSettings } from '../config/build-options.js';
import { runClickHouseAudits } from '../engine/clickhouse/audits.js';
import { readerClient } from '../engine/clickhouse/reader-client.js';

export async function testWarehouse(db: string): Promise<AuditResult[]> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  try {
    await warehouse.run(`create temp view audit_cycles as select org_id, cycle_start from dim_billing_cycles`);
    await warehouse.run(
      `create temp view audit_conversations as
       select org_id, cycle_start, integration_id, customer_account_id from fct_billable_conversations`,
    );
    await warehouse.run(
      `create temp view audit_stored_conversations as select integration_sk, cycle_seq, customer_account_id from int_conversations`,
    );
    return await runAudits(warehouse);
  } finally {
    warehouse.close();
  }
}

/** On ClickHouse: the audits of sql/clickhouse/audits/ over the readers' views, read-only. */
export async function testClickHouseWarehouse(settings: ClickHouseSettings): Promise<AuditResult[]> {
  const client = readerClient(settings);
  try {
    return await runClickHouseAudits(client, settings.database, 'published');
  } finally {
    await client.close();
  }
}

// DuckDB counts arrive as bigint, which JSON.stringify refuses.
const jsonSafe = (_: string, value: unknown) => (typeof value === 'bigint' ? Number(value) : value);

/** A PASS or FAIL line per test, each failure followed by its other offending rows. */
export function formatTestResults(results: AuditResult[]): string {
  return results
    .flatMap((result) => [
      `${result.passed ? 'PASS' : 'FAIL'}  ${result.name}${result.passed ? '' : `  first offending row: ${JSON.stringify(result.rows[0], jsonSafe)}`}\n`,
      ...result.rows.slice(1).map((row) => `      also: ${JSON.stringify(row, jsonSafe)}\n`),
    ])
    .join('');
}

/** Throws the run's failure (exit 1) when a data test failed. */
export function assertTestsPassed(results: AuditResult[]): void {
  const failed = results.filter((result) => !result.passed);
  if (failed.length > 0) {
    throw new RunError(`${failed.length} of ${results.length} data tests failed: ${failed.map((result) => result.name).join(', ')}.`);
  }
}
