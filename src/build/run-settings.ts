/**
 * The settings of one run that every model reads from `cfg_run`: the as-of
 * instant (--as-of, default now), the previous build's, the earliest
 * plausible timestamp, whether this is a full refresh, and the default cycle
 * rule (docs/billing-rules.md §4 for valid_from).
 */
import type { Engine } from '../engine/engine.js';
import { ConfigError } from '../engine/errors.js';
import { isoFromMicros } from '../engine/duckdb/values.js';
import type { CycleRule } from '../reference/cycles.js';
import type { BuildPlan } from './plan.js';

/** --as-of as an ISO-8601 UTC string; read like an input timestamp in UTC. */
export async function resolveAsOf(warehouse: Engine, asOf: string | undefined): Promise<string> {
  if (asOf === undefined) return new Date().toISOString();
  const canonical = canonicalInstant(asOf);
  if (canonical !== undefined) return canonical;
  const parsed = await warehouse.value<bigint | null>(
    `select epoch_us(parse_instant_or_date(clean_text($value), 'UTC'))`,
    { value: asOf },
  );
  if (parsed === null || parsed === undefined) throw new ConfigError(`Option --as-of "${asOf}" is not an ISO-8601 instant, date or epoch-milliseconds integer (config key "as_of" takes the same).`);
  return isoFromMicros(parsed, 'Z');
}

/**
 * The form convbill writes and schedulers pass (`2026-01-02T00:00:00Z`, with
 * or without milliseconds), read without the engine: binding the timestamp
 * macros costs about 80 ms, a twentieth of a small build. Anything else, or
 * a date that does not exist, goes through the macros as before.
 */
function canonicalInstant(text: string): string | undefined {
  if (!/^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(text)) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || new Date(ms).toISOString() !== (text.length === 20 ? `${text.slice(0, 19)}.000Z` : text)) return undefined;
  return isoFromMicros(BigInt(ms) * 1000n, 'Z');
}

export async function writeRunSettings(
  warehouse: Engine,
  run: { asOf: string; validFrom: string; plan: BuildPlan; defaultRule: CycleRule },
): Promise<void> {
  await warehouse.run(
    `create or replace table cfg_run as
     select $as_of::timestamptz as as_of,
            make_timestamp($previous::bigint)::timestamptz as previous_as_of,
            $valid_from::timestamptz as valid_from,
            $full_refresh::boolean as full_refresh,
            $anchor::integer as default_anchor_day, $tz::varchar as default_timezone, now() as built_at`,
    {
      as_of: run.asOf,
      valid_from: run.validFrom,
      previous: run.plan.previousAsOf,
      full_refresh: run.plan.fullRefresh,
      anchor: run.defaultRule.anchorDay,
      tz: run.defaultRule.timezone,
    },
  );
}
