/**
 * Publishing a ClickHouse build (sql/clickhouse/state/facts.sql): only the
 * (org, cycle) partitions whose facts changed are moved in, and the manifest
 * row, written last on every shard, is the moment readers see the run.
 *
 *   1. compare each partition of the run's _next tables with the visible one
 *      (rows and an order-free checksum of them);
 *   2. ATTACH the changed partitions beside the old rows and record them in
 *      convbill_partitions: both unseen, the manifest does not name the run;
 *   3. publish: the manifest row, on every shard;
 *   4. REPLACE the changed partitions (their old rows go; readers already see
 *      only the new ones) and DROP the emptied ones and older runs' partitions
 *      of the small marts.
 *
 * A run killed before 3 leaves the facts readers see as they were; its rows
 * stay unseen in the partitions it attached, which the next run rewrites
 * (`leftovers`). The loops below run over partitions, never over fact rows.
 */
import type { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import { clickhouseString } from '../../engine/sql-text.js';

export interface PartitionChange {
  org_id: string;
  cycle_seq: number;
  conversations: number;
  checksum: string;
  change: 'new' | 'changed' | 'emptied' | 'leftover';
}

interface PartitionStats {
  org_id: string;
  cycle_seq: number;
  conversations: string;
  checksum: string;
}

const FACT_TABLES = ['fct_billable_conversations', 'fct_conversation_counts'] as const;
const RUN_TABLES = ['dim_billing_cycles_local', 'dim_integrations_local', 'rejected_interactions_local'] as const;
/** partitions per ALTER statement: the statement stays short, the round trips few */
const PER_ALTER = 200;

const keyOf = (row: { org_id: string; cycle_seq: number | string }) => `${row.org_id}\u0000${Number(row.cycle_seq)}`;
const partition = (row: { org_id: string; cycle_seq: number }) => `(${clickhouseString(row.org_id)}, ${Number(row.cycle_seq)})`;

/** Step 1: the partitions to write, with why. */
export async function partitionChanges(cluster: ClickHouseCluster): Promise<PartitionChange[]> {
  const built = await cluster.rows<PartitionStats>(
    `select org_id, cycle_seq, count() as conversations,
        toString(groupBitXor(cityHash64(cycle_id, cycle_start, ifNull(cycle_end, -1), integration_id, platform,
            customer_account_id, interaction_count, first_activity_at, last_activity_at))) as checksum
     from fct_billable_conversations_next
     group by org_id, cycle_seq`,
  );
  const visible = await cluster.rows<PartitionStats>(
    `select org_id, cycle_seq, toString(visible_conversations) as conversations, toString(visible_checksum) as checksum
     from convbill_visible_partitions where visible_conversations > 0`,
  );
  // partitions a run that never published attached rows to
  const leftovers = await cluster.rows<{ org_id: string; cycle_seq: number }>(
    `select distinct org_id, cycle_seq from convbill_partitions
     where run_id > (select max(run_id) from convbill_manifest)`,
  );
  const before = new Map(visible.map((row) => [keyOf(row), row]));
  const stale = new Set(leftovers.map(keyOf));
  const changes: PartitionChange[] = [];
  for (const row of built) {
    const old = before.get(keyOf(row));
    before.delete(keyOf(row));
    const same = old !== undefined && old.conversations === row.conversations && old.checksum === row.checksum;
    if (same && !stale.has(keyOf(row))) continue;
    const change = old === undefined ? 'new' : same ? 'leftover' : 'changed';
    changes.push({ org_id: row.org_id, cycle_seq: Number(row.cycle_seq), conversations: Number(row.conversations), checksum: row.checksum, change });
  }
  for (const row of before.values()) changes.push({ org_id: row.org_id, cycle_seq: Number(row.cycle_seq), conversations: 0, checksum: '0', change: 'emptied' });
  const written = new Set(changes.map(keyOf));
  for (const row of leftovers) {
    if (!written.has(keyOf(row))) changes.push({ org_id: row.org_id, cycle_seq: Number(row.cycle_seq), conversations: 0, checksum: '0', change: 'leftover' });
  }
  return changes;
}

async function alterPartitions(cluster: ClickHouseCluster, table: string, action: (p: string) => string, rows: PartitionChange[]): Promise<void> {
  for (let start = 0; start < rows.length; start += PER_ALTER) {
    const actions = rows.slice(start, start + PER_ALTER).map((row) => action(partition(row)));
    await cluster.onEachShard(`alter table ${table} ${actions.join(', ')}`);
  }
}

/** Steps 2 to 4. */
export async function publishPartitions(
  cluster: ClickHouseCluster,
  run: { runId: number; historyRunId: number; asOfMs: number },
  changes: PartitionChange[],
): Promise<void> {
  const filled = changes.filter((change) => change.conversations > 0);
  for (const table of FACT_TABLES) {
    await alterPartitions(cluster, `${table}_local`, (p) => `attach partition ${p} from ${table}_next_local`, filled);
  }
  const records = changes.map((change) => ({
    run_id: run.runId,
    org_id: change.org_id,
    cycle_seq: change.cycle_seq,
    conversations: change.conversations,
    checksum: change.checksum,
  }));
  await Promise.all(
    cluster.shards.map((shard) => (records.length ? shard.client.insert({ table: 'convbill_partitions', values: records, format: 'JSONEachRow' }) : undefined)),
  );
  // the moment readers see the run
  await cluster.onEachShard(
    `insert into convbill_manifest (run_id, history_run_id, as_of, cluster, published_at)
     values (${run.runId}, ${run.historyRunId}, ${run.asOfMs}, ${clickhouseString(cluster.settings.cluster)}, now())`,
  );
  for (const table of FACT_TABLES) {
    await alterPartitions(cluster, `${table}_local`, (p) => `replace partition ${p} from ${table}_next_local`, filled);
    await alterPartitions(cluster, `${table}_local`, (p) => `drop partition ${p}`, changes.filter((change) => change.conversations === 0));
  }
  // each shard its own: the rejects of an older run may live on one shard only
  await Promise.all(
    cluster.shards.map(async (shard) => {
      for (const table of RUN_TABLES) {
        const older = await cluster.rows<{ partition: string }>(
          `select distinct partition from system.parts
           where database = ${clickhouseString(cluster.database)} and table = ${clickhouseString(table)} and active and toUInt32(partition) < ${run.runId}`,
          shard.client,
        );
        if (older.length) await shard.client.command({ query: `alter table ${table} ${older.map((row) => `drop partition ${Number(row.partition)}`).join(', ')}` });
      }
    }),
  );
}
