/**
 * DuckDB to ClickHouse: the rows DuckDB staged from the files, and what
 * every shard needs whole. Each result goes through a CSV file that DuckDB
 * writes and the client streams to the server as bytes: no row passes
 * through JavaScript. Rows go to Distributed tables with synchronous
 * inserts, and the rows each shard then holds are counted against what
 * DuckDB wrote, per load, before any model runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseCluster } from '../../engine/clickhouse/cluster.js';
import type { Warehouse } from '../../engine/duckdb/warehouse.js';
import { RunError } from '../../engine/errors.js';

/** CH's CSV reader would take a field starting with ' as quoted: DuckDB never quotes that way. */
const CSV_SETTINGS = { format_csv_allow_single_quotes: 0 } as const;

/** epoch milliseconds of a DuckDB instant, as the ClickHouse tables keep them */
const ms = (column: string) => `epoch_ms(${column})`;

/** What each shipped relation is, as DuckDB selects it, in the column order of the ClickHouse table. */
export const SHIPPED = {
  stg_rows: `select load_id, source_row, org_id, integration_id, interaction_key, customer_account_id, platform, row_kind,
                ${ms('activity_start')}, ${ms('activity_end')}, raw_json(raw_row)
             from stg_rows
             where row_reject_reason is null and load_id in (select load_id from cfg_scope_loads)`,
  int_row_rejects: `select load_id, source_row, reason, org_id, integration_id, interaction_key, raw
                    from int_row_rejects
                    where load_id in (select load_id from cfg_scope_loads)`,
  cfg_counting_loads_local: `select load_id, source_file from cfg_loads`,
  cfg_billing_cycles_local: `select org_id, cycle_seq, cycle_id, ${ms('cycle_start')}, ${ms('cycle_end')}, timezone, cycle_source
                             from int_billing_cycles`,
} as const;

export class Shipper {
  readonly #folder = mkdtempSync(join(tmpdir(), 'convbill-ship-'));
  #files = 0;

  constructor(
    private readonly duck: Warehouse,
    private readonly cluster: ClickHouseCluster,
  ) {}

  /** Writes a select of DuckDB's to a CSV file; resolves to its path and row count. */
  async csv(select: string): Promise<{ path: string; rows: number }> {
    const path = join(this.#folder, `${(this.#files += 1)}.csv`);
    const rows = await this.duck.copy(select, path, 'csv', { csvHeader: false, nullString: '\\N' });
    return { path, rows };
  }

  /**
   * The scope loads' staged rows and row rejects into the sharded tables.
   * A load shipped before (by a build that failed after) is dropped first.
   */
  async shipLoads(loadIds: number[]): Promise<{ rows: number; rejects: number }> {
    if (loadIds.length > 0) {
      for (const table of ['stg_rows_local', 'int_row_rejects_local']) {
        const drops = loadIds.map((id) => `drop partition ${id}`).join(', ');
        await this.cluster.onEachShard(`alter table ${table} ${drops}`);
      }
    }
    const shipped = { rows: 0, rejects: 0 };
    for (const [table, key] of [['stg_rows', 'rows'], ['int_row_rejects', 'rejects']] as const) {
      const file = await this.csv(SHIPPED[table]);
      if (file.rows > 0) await this.cluster.insertFile(table, file.path, 'CSV', undefined, CSV_SETTINGS);
      await this.checkHeld(table, SHIPPED[table]);
      shipped[key] = file.rows;
    }
    return shipped;
  }

  /** A small relation whole into one table on every shard, emptied first. */
  async copyToEveryShard(table: string, select: string, empty = true): Promise<void> {
    const file = await this.csv(select);
    if (empty) await this.cluster.onEachShard(`truncate table ${table}`);
    if (file.rows === 0) return;
    await Promise.all(this.cluster.shards.map((shard) => this.cluster.insertFile(table, file.path, 'CSV', shard.client, CSV_SETTINGS)));
  }

  /** The rows per load the shards hold now against the rows DuckDB wrote: a shortfall fails the build before any model. */
  private async checkHeld(table: 'stg_rows' | 'int_row_rejects', select: string): Promise<void> {
    const expected = await this.duck.rows<{ load_id: number; rows: bigint }>(
      `select load_id, count(*) as rows from (${select}) group by load_id`,
    );
    if (expected.length === 0) return;
    const held = await this.cluster.rows<{ load_id: string; rows: string }>(
      `select load_id, count() as rows from ${table}
       where load_id in (${expected.map((row) => Number(row.load_id)).join(', ')}) group by load_id`,
    );
    const heldBy = new Map(held.map((row) => [Number(row.load_id), Number(row.rows)]));
    for (const row of expected) {
      const count = heldBy.get(Number(row.load_id)) ?? 0;
      if (count !== Number(row.rows)) {
        const file = await this.duck.value<string>(`select source_file from cfg_loads where load_id = ${Number(row.load_id)}`);
        throw new RunError(
          `ClickHouse holds ${count} of the ${Number(row.rows)} ${table === 'stg_rows' ? 'accepted' : 'rejected'} rows of ${file ?? `load ${row.load_id}`} after inserting them (table ${table}); nothing was published.`,
        );
      }
    }
  }

  close(): void {
    rmSync(this.#folder, { recursive: true, force: true });
  }
}
