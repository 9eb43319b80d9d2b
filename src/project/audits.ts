/**
 * The audits of `sql/audits/`: each returns the rows that break an
 * invariant, and passes when it returns none.
 */
import { RunError, engineMessage } from '../engine/errors.js';
import type { Engine } from '../engine/engine.js';
import { loadAudits, sqlDirectory } from './load-models.js';

export interface AuditResult {
  name: string;
  file: string;
  passed: boolean;
  /** the first offending rows (at most 5) */
  rows: Record<string, unknown>[];
  seconds: number;
  /** the audit's declared reason to retry an incremental build as a full refresh (Audit.fullRefreshReason) */
  fullRefreshReason?: string;
}

/**
 * Runs the audits. Those that check part of a mart read the temp views
 * `audit_cycles` (org_id, cycle_start), `audit_conversations` (the
 * detail keys) and `audit_stored_conversations` (the stored rows they can
 * repeat in): what a build rewrote, or everything (`convbill test`).
 */
export interface AuditHooks {
  /** told each audit's name as it starts (the run's step lines) */
  onAudit?: (name: string) => void;
  /** told each audit's result as it ends, not once all have run: a log stamps it then */
  onAuditDone?: (result: AuditResult) => void;
}

export async function runAudits(warehouse: Engine, root = sqlDirectory(), hooks: AuditHooks = {}): Promise<AuditResult[]> {
  const results: AuditResult[] = [];
  for (const audit of loadAudits(root)) {
    hooks.onAudit?.(audit.name);
    const started = performance.now();
    const rows = await warehouse.rows(`select * from (${audit.sql}) limit 5`).catch((error: unknown) => {
      throw new RunError(`Audit ${audit.name} (${audit.file}) could not run: ${engineMessage(error)}.`, { cause: error });
    });
    const result: AuditResult = {
      name: audit.name,
      file: audit.file,
      passed: rows.length === 0,
      rows,
      seconds: (performance.now() - started) / 1000,
      ...(audit.fullRefreshReason ? { fullRefreshReason: audit.fullRefreshReason } : {}),
    };
    results.push(result);
    hooks.onAuditDone?.(result);
  }
  return results;
}
