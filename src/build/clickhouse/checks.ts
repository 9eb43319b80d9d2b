/**
 * The commit checks of a ClickHouse build that read both sides: the reject
 * rate (rows read from the working DuckDB file, rejects from the cluster).
 * As on DuckDB (build/commit-checks.ts), a build over the threshold fails
 * before publishing and leaves its rejects as evidence; CSV here, since
 * 18.16 cannot write Parquet. The file is the server's bytes streamed to
 * disk, not rows through JavaScript.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BuildOptions } from '../../config/build-options.js';
import { runsDirectory } from '../../config/warehouse-paths.js';
import type { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import type { Warehouse } from '../../engine/duckdb/warehouse.js';
import { RunError } from '../../engine/errors.js';

export async function assertClickHouseRejectRate(
  warehouse: Warehouse,
  cluster: ClickHouseCluster,
  options: BuildOptions,
  run: { historyRunId: number; clusterRunId: number },
): Promise<void> {
  const maxRate = options.maxRejectRate;
  if (maxRate === undefined) return;
  const scope = (await warehouse.rows<{ load_id: number }>(`select load_id from cfg_scope_loads`)).map((row) => Number(row.load_id));
  if (scope.length === 0) return;
  const read = Number(
    await warehouse.value<bigint>(`select coalesce(sum(rows_staged + rows_malformed), 0) from int_load_stats semi join cfg_scope_loads using (load_id)`),
  );
  const where = `run_id = ${run.clusterRunId} and load_id in (${scope.join(', ')})`;
  const [counted] = await cluster.rows<{ rejected: string }>(`select count() as rejected from rejected_interactions_all where ${where}`);
  const rejected = Number(counted?.rejected ?? 0);
  if (read === 0 || rejected / read <= maxRate) return;
  const dir = runsDirectory(options.db);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `run-${String(run.historyRunId).padStart(6, '0')}-rejects.csv`);
  const result = await cluster.entry.exec({
    query: `select source_file, source_row, reason, raw from rejected_interactions_all where ${where} order by source_file, source_row format CSVWithNames`,
  });
  await pipeline(result.stream, createWriteStream(file));
  throw new RunError(
    `${rejected} of the ${read} rows this build read were rejected (${((100 * rejected) / read).toFixed(2)}%), ` +
      `more than --max-reject-rate ${maxRate}; nothing was published, and its rejects are in ${file}.`,
  );
}
