/**
 * What stops a build inside its transaction, before anything is committed or
 * published: a failing audit, and more rejected rows than --max-reject-rate
 * allows.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildOptions } from '../config/build-options.js';
import { runsDirectory } from '../config/warehouse-paths.js';
import type { Engine } from '../engine/engine.js';
import { RunError } from '../engine/errors.js';
import type { AuditResult } from '../project/audits.js';

/** A failing audit fails the run before anything is committed or published. */
export function assertAudits(failures: AuditResult[]): void {
  const [failure] = failures;
  if (failure) {
    const first = JSON.stringify(failure.rows[0], (_, value) => (typeof value === 'bigint' ? Number(value) : value));
    const others = failures.length > 1 ? ` (and ${failures.length - 1} other audit(s): ${failures.slice(1).map((f) => f.name).join(', ')})` : '';
    throw new RunError(`Audit ${failure.name} failed (${failure.file}); first offending row: ${first}${others}.`);
  }
}

/**
 * --max-reject-rate: the share of this build's rows that may be rejected.
 * A build stopped by it publishes nothing, but leaves its rejects beside
 * the run history for the user to inspect.
 */
export async function assertRejectRate(warehouse: Engine, options: BuildOptions, runId: number): Promise<void> {
  const maxRate = options.maxRejectRate;
  if (maxRate === undefined) return;
  const [counts] = await warehouse.rows<{ staged: bigint; rejected: bigint }>(
    `select (select count(*) from stg_rows) + (select count(*) from stg_malformed_rows) as staged,
            (select count(*) from rejected_interactions semi join cfg_scope_loads using (load_id)) as rejected`,
  );
  const staged = Number(counts?.staged ?? 0n);
  const rejected = Number(counts?.rejected ?? 0n);
  if (staged > 0 && rejected / staged > maxRate) {
    let evidence = 'an in-memory database keeps no evidence';
    if (options.db !== ':memory:') {
      const dir = runsDirectory(options.db);
      mkdirSync(dir, { recursive: true });
      const file = join(dir, `run-${String(runId).padStart(6, '0')}-rejects.parquet`);
      await warehouse.copy(
        `select source_file, source_row, reason, raw from rejected_interactions semi join cfg_scope_loads using (load_id)
         order by source_file, source_row`,
        file,
        'parquet',
      );
      evidence = `its rejects are in ${file}`;
    }
    throw new RunError(
      `${rejected} of the ${staged} rows this build read were rejected (${((100 * rejected) / staged).toFixed(2)}%), ` +
        `more than --max-reject-rate ${maxRate}; nothing was published, and ${evidence}.`,
    );
  }
}
