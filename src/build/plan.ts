/**
 * Whether a build can update the stored state incrementally, and which loads
 * it stages. The state of the last successful build is one row of
 * `convbill_state`: its as-of, the last load it staged and a fingerprint of
 * everything besides the rows that shapes the facts (the SQL models and the
 * cycle configuration).
 *
 * An incremental build stages only the loads that count now and did not
 * at the last build (`convbill_built_loads` lists those, with the
 * fingerprint of the staging settings each was built with), and the models
 * rewrite only what those rows, and the later as-of, touch. It cannot take
 * rows away, so a full refresh is chosen instead when the rows or rules
 * already built on changed: a load that no longer counts (a replaced file,
 * a path under no current source), a source whose staging settings
 * changed, other cycle rules or calendar, other models or valid_from, or an
 * as-of earlier than the last one.
 *
 * A build with no load to stage, the as-of of the last build and the same
 * references (integrations, prices) would compute the facts the warehouse
 * already holds: it is `upToDate`, and the build records the run and stops.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CycleConfig } from '../reference/cycles.js';
import { sqlDirectory } from '../project/load-models.js';
import { createStateTables } from '../project/state-tables.js';
import type { Engine } from '../engine/engine.js';

export interface BuildPlan {
  fullRefresh: boolean;
  /** why a full refresh, or "incremental" */
  reason: string;
  /** the loads this build stages */
  scopeLoads: number[];
  /** as-of of the build the state is from; null for a full refresh */
  previousAsOf: string | null;
  fingerprint: string;
  referencesDigest: string;
  /** nothing new since the last build: no load to stage, its as-of, its references */
  upToDate: boolean;
  /** the build the state is from */
  previousRunId: number | null;
}

type StoredState = {
  run_id: number;
  fingerprint: string;
  as_of_us: bigint;
  references_digest: string | null;
};

export async function createStateTable(warehouse: Engine): Promise<void> {
  await createStateTables(warehouse, ['convbill_state', 'convbill_built_loads']);
}

/** Call inside the build's transaction, after the cycle configuration is loaded. */
export async function planBuild(
  warehouse: Engine,
  options: { asOf: string; forceFullRefresh: boolean; cycles: CycleConfig; validFrom: string; engine?: string; forcedReason?: string },
): Promise<BuildPlan> {
  // the engine too: a working database built for one engine holds none of the other's state
  const fingerprint = await fingerprintOf(warehouse, options.cycles, options.validFrom, options.engine ?? 'duckdb');
  const [state] = await warehouse.rows<StoredState>(
    `select run_id, fingerprint, epoch_us(as_of) as as_of_us, references_digest from convbill_state`,
  );
  const referencesDigest = await digestOfReferences(warehouse);
  const asOfUs = await warehouse.value<bigint>(`select epoch_us($as_of::timestamptz)`, { as_of: options.asOf });
  const [changes] = await warehouse.rows<{ gone: bigint; resettled: bigint; sources: string | null }>(
    `select
         count(*) filter (where cfg_loads.load_id is null) as gone,
         count(*) filter (where cfg_loads.stage_fingerprint <> built.stage_fingerprint) as resettled,
         string_agg(distinct coalesce(nullif(cfg_loads.source_key, ''), 'the top-level source settings'), ', ')
             filter (where cfg_loads.stage_fingerprint <> built.stage_fingerprint) as sources
     from convbill_built_loads as built
     left join cfg_loads on built.load_id = cfg_loads.load_id`,
  );
  let reason: string | undefined;
  if (options.forceFullRefresh) reason = options.forcedReason ?? 'full refresh requested';
  else if (!state) reason = 'no earlier build';
  else if (state.fingerprint !== fingerprint) reason = 'the models or the cycle configuration changed';
  else if (asOfUs < state.as_of_us) reason = 'as-of is earlier than the last build\'s';
  else if ((changes?.resettled ?? 0n) > 0n) reason = `the staging settings of ${changes?.sources} changed: its ${changes?.resettled} file version(s) are staged again`;
  else if ((changes?.gone ?? 0n) > 0n) reason = `${changes?.gone} file version(s) no longer count (replaced by a newer version, or under no current source)`;
  const fullRefresh = reason !== undefined;
  const scope = await warehouse.rows<{ load_id: number }>(
    `select load_id from cfg_loads
     where $full or load_id not in (select load_id from convbill_built_loads)
     order by load_id`,
    { full: fullRefresh },
  );
  const upToDate = !fullRefresh && scope.length === 0 && asOfUs === state?.as_of_us && referencesDigest === state.references_digest;
  return {
    fullRefresh,
    reason: reason ?? 'incremental',
    scopeLoads: scope.map((row) => row.load_id),
    previousAsOf: fullRefresh || !state ? null : String(state.as_of_us),
    fingerprint,
    referencesDigest,
    upToDate,
    previousRunId: state?.run_id ?? null,
  };
}

/** The loaded integrations reference and prices, as one digest; call after they are loaded. */
async function digestOfReferences(warehouse: Engine): Promise<string> {
  const digestOf = (table: string) => `(select coalesce(string_agg(${table}::varchar, chr(10) order by ${table}::varchar), '') from ${table})`;
  return warehouse.value<string>(`select md5(${digestOf('cfg_integrations')} || chr(0) || ${digestOf('cfg_prices')})`);
}

/** Records the state the build just computed; inside its transaction. */
export async function saveState(warehouse: Engine, runId: number, plan: BuildPlan, asOf: string): Promise<void> {
  await warehouse.run(`delete from convbill_state`);
  await warehouse.run(
    `insert into convbill_state select $run_id, $fingerprint, $as_of::timestamptz, coalesce(max(load_id), 0), now(), $digest from cfg_loads`,
    { run_id: runId, fingerprint: plan.fingerprint, as_of: asOf, digest: plan.referencesDigest },
  );
  await warehouse.run(`delete from convbill_built_loads`);
  await warehouse.run(`insert into convbill_built_loads select load_id, stage_fingerprint from cfg_loads`);
}

async function fingerprintOf(warehouse: Engine, cycles: CycleConfig, validFrom: string, engine: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true })
      .flatMap((entry) => (entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)]))
      .filter((file) => file.endsWith('.sql'))
      .sort();
  const root = sqlDirectory();
  for (const file of walk(root)) hash.update(file.slice(root.length)).update(readFileSync(file));
  hash.update(JSON.stringify({ defaultRule: cycles.defaultRule, orgRules: Object.entries(cycles.orgRules).sort(), validFrom }));
  if (engine !== 'duckdb') hash.update(`engine ${engine}`);
  const calendar = await warehouse.value<string>(
    `select coalesce(string_agg(concat_ws('|', org_id, cycle_id, epoch_us(cycle_start), epoch_us(cycle_end), timezone), chr(10)
                                order by org_id, cycle_start), '')
     from cfg_calendar`,
  );
  hash.update(calendar);
  return hash.digest('hex');
}
