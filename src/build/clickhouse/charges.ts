/**
 * fct_conversation_charges of a ClickHouse build: the counts the shards just
 * wrote come back to the working DuckDB database (one row per org, cycle and
 * integration: small whatever the history), DuckDB's own model rates them
 * (sql/marts/fct_conversation_charges.sql: exact DECIMAL, graduated tiers,
 * window functions 18.16 lacks), and the result goes to every shard. One
 * rating implementation for both engines; bytes through files both ways.
 */
import type { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import type { Warehouse } from '../../engine/duckdb/warehouse.js';
import { pullIntoDuckDB } from '../../engine/clickhouse/pull.js';
import { loadModels } from '../../project/load-models.js';
import { runModels } from '../../project/run-models.js';
import type { Shipper } from './ship.js';

export async function rateCharges(warehouse: Warehouse, cluster: ClickHouseCluster, shipper: Shipper, runId: number): Promise<void> {
  // a temp table of the mart's name and columns is what the model reads
  await pullIntoDuckDB(
    cluster.entry,
    `select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, conversations from fct_conversation_counts_next`,
    warehouse,
    'fct_conversation_counts',
    { org_id: 'varchar', cycle_id: 'varchar', cycle_start: 'instant', cycle_end: 'instant', integration_id: 'varchar', platform: 'varchar', conversations: 'bigint' },
  );
  await runModels(warehouse, { fullRefresh: true }, loadModels().filter((model) => model.name === 'fct_conversation_charges'));
  await shipper.copyToEveryShard(
    'fct_conversation_charges_local',
    `select ${runId}, org_id, cycle_id, epoch_ms(cycle_start), epoch_ms(cycle_end), platform, integration_id, conversations,
            billable_conversations, currency, amount::varchar, price_scope, price_status
     from fct_conversation_charges`,
    false,
  );
}
