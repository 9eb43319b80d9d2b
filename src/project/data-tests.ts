/**
 * `convbill test`: the audits of sql/audits/, alone, over every cycle of the
 * working database. A build runs the same audits over the cycles it rewrote,
 * before it commits.
 */
import { type AuditResult, runAudits } from './models.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';

export async function testWarehouse(db: string): Promise<AuditResult[]> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  try {
    await warehouse.run(`create temp view audit_cycles as select org_id, cycle_start from dim_billing_cycles`);
    await warehouse.run(
      `create temp view audit_conversations as
       select org_id, cycle_start, integration_id, customer_account_id from fct_billable_conversations`,
    );
    return await runAudits(warehouse);
  } finally {
    warehouse.close();
  }
}
