/**
 * The summary a ClickHouse build ends with (build/summary.ts's shape): the
 * files' row counts from the working database, everything counted after
 * staging from the cluster. Joined here per file, never per fact row.
 */
import type { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import type { Warehouse } from '../../engine/duckdb/warehouse.js';
import type { BuildSummary } from '../summary.js';

export async function readClickHouseSummary(warehouse: Warehouse, cluster: ClickHouseCluster): Promise<BuildSummary> {
  const rejectedByLoad = new Map(
    (await cluster.rows<{ load_id: string; rows: string }>(`select load_id, count() as rows from rejected_interactions group by load_id`)).map((row) => [
      Number(row.load_id),
      Number(row.rows),
    ]),
  );
  const loads = await warehouse.rows<{ load_id: number; source_file: string; staged: bigint; filtered: bigint; malformed: bigint }>(
    `select cfg_loads.load_id, cfg_loads.source_file, stats.rows_staged as staged, stats.rows_filtered as filtered, stats.rows_malformed as malformed
     from cfg_loads inner join int_load_stats as stats on cfg_loads.load_id = stats.load_id
     order by cfg_loads.source_file`,
  );
  const files = loads.map((load) => {
    const rowsRejected = rejectedByLoad.get(Number(load.load_id)) ?? 0;
    const rowsRead = Number(load.staged) + Number(load.filtered) + Number(load.malformed);
    return { sourceFile: load.source_file, rowsRead, rowsAccepted: rowsRead - rowsRejected - Number(load.filtered), rowsRejected, rowsFiltered: Number(load.filtered) };
  });
  const rejects = await cluster.rows<{ reason: string; rows: string }>(`select reason, count() as rows from rejected_interactions group by reason order by reason`);
  const cycles = await cluster.rows<{ org_id: string; cycles: string; first: string; last: string }>(
    `select org_id, count() as cycles, argMin(cycle_id, cycle_start) as first, argMax(cycle_id, cycle_start) as last
     from dim_billing_cycles group by org_id order by org_id`,
  );
  const conversations = await cluster.rows<{ org_id: string; cycle_id: string; conversations: string }>(
    `select org_id, cycle_id, sum(conversations) as conversations from fct_conversation_counts
     group by org_id, cycle_id, cycle_start order by org_id, cycle_start`,
  );
  const charges = await cluster.rows<{ org_id: string; cycle_id: string; currency: string; amount: string }>(
    `select org_id, cycle_id, assumeNotNull(currency) as currency, toString(sum(assumeNotNull(amount))) as amount
     from fct_conversation_charges where price_status = 'priced'
     group by org_id, cycle_id, cycle_start, currency order by org_id, cycle_start, currency`,
  );
  return {
    files,
    rejectsByReason: rejects.map((row) => ({ reason: row.reason, rows: Number(row.rows) })),
    cyclesByOrg: cycles.map((row) => ({ orgId: row.org_id, cycles: Number(row.cycles), firstCycle: row.first, lastCycle: row.last })),
    conversations: conversations.map((row) => ({ orgId: row.org_id, cycleId: row.cycle_id, conversations: Number(row.conversations) })),
    dataQuality: [],
    charges: charges.map((row) => ({ orgId: row.org_id, cycleId: row.cycle_id, currency: row.currency, amount: row.amount })),
  };
}
