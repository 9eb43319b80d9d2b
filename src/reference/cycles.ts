/**
 * Billing-cycle configuration (docs/billing-rules.md §3) into the tables the cycle model reads:
 * `cfg_cycle_rules` (per-org anchor day and timezone) and `cfg_calendar`
 * (explicit cycles, validated here because a bad calendar is a configuration
 * error, exit 2, that must stop the run before any model).
 */
import { ConfigError } from '../engine/errors.js';
import { readReferenceFile } from './reference-files.js';
import type { Engine } from '../engine/engine.js';
import { namedQuery } from '../project/named-queries.js';

export interface CycleRule {
  anchorDay: number;
  timezone: string;
}

export interface CycleConfig {
  defaultRule: CycleRule;
  orgRules: Record<string, Partial<CycleRule>>;
  /** explicit calendar file: org_id, cycle_start, cycle_end[, cycle_id] */
  calendar?: string;
}

/** Checks timezone names against DuckDB's own (ICU) list, the one the models use. */
async function timezoneChecker(warehouse: Engine): Promise<(timezone: string, where: string) => void> {
  const names = new Set((await warehouse.rows<{ name: string }>(`select name from pg_timezone_names()`)).map((row) => row.name));
  return (timezone, where) => {
    if (!names.has(timezone)) throw new ConfigError(`${where}: unknown IANA timezone "${timezone}".`);
  };
}

export async function loadCycleConfig(warehouse: Engine, config: CycleConfig): Promise<void> {
  const assertTimezone = await timezoneChecker(warehouse);
  assertTimezone(config.defaultRule.timezone, 'Option --timezone (config key "timezone")');
  await warehouse.run(`create or replace table cfg_cycle_rules (org_id varchar primary key, anchor_day integer, timezone varchar)`);
  const rules = Object.entries(config.orgRules);
  for (const [org, rule] of rules) if (rule.timezone) assertTimezone(rule.timezone, `Config key "orgs.${org}.timezone"`);
  if (rules.length > 0) {
    const values = rules.map(([org, rule]) => ({ org_id: org, anchor_day: rule.anchorDay ?? null, timezone: rule.timezone || null }));
    await warehouse.run(
      `insert into cfg_cycle_rules
       select org_id, anchor_day, timezone
       from (select unnest($rules::struct(org_id varchar, anchor_day integer, timezone varchar)[], recursive := true))`,
      { rules: JSON.stringify(values) },
    );
  }
  await warehouse.run(`
    create or replace table cfg_calendar (
        org_id varchar, cycle_id varchar, cycle_start timestamptz, cycle_end timestamptz,
        timezone varchar, source_row bigint)`);
  if (config.calendar) await loadCalendar(warehouse, config.calendar, config.defaultRule.timezone);
}

async function loadCalendar(warehouse: Engine, file: string, defaultTimezone: string): Promise<void> {
  const columns = await readReferenceFile(warehouse, {
    label: 'Cycles file',
    file,
    table: 'calendar_rows',
    required: ['org_id', 'cycle_start', 'cycle_end'],
    optional: ['cycle_id'],
  });
  // the calendar's query reads cycle_id: a file without the column names no cycle
  if (!columns.includes('cycle_id')) await warehouse.run(`alter table calendar_rows add column cycle_id varchar`);
  await warehouse.run(namedQuery('calendar_cycles'), { default_tz: defaultTimezone });
  await validateCalendar(warehouse, file);
}

async function validateCalendar(warehouse: Engine, file: string): Promise<void> {
  const [unparsed] = await warehouse.rows<{ source_row: bigint; org_id: string; field: string; value: string | null }>(`
    select c.source_row, c.org_id,
        case when c.cycle_start is null then 'cycle_start' else 'cycle_end' end as field,
        case when c.cycle_start is null then r.cycle_start else r.cycle_end end as value
    from cfg_calendar c join calendar_rows r using (source_row)
    where c.cycle_start is null or c.cycle_end is null
    order by c.source_row limit 1`);
  if (unparsed) {
    throw new ConfigError(
      `Cycles file ${file}, row ${unparsed.source_row} (org "${unparsed.org_id}"): ${unparsed.field} ` +
        `${unparsed.value ? `"${unparsed.value}" is not an ISO-8601 instant or date` : 'is missing'}.`,
    );
  }
  const [backwards] = await warehouse.rows<{ source_row: bigint; org_id: string }>(`
    select source_row, org_id from cfg_calendar where cycle_end <= cycle_start order by source_row limit 1`);
  if (backwards) {
    throw new ConfigError(
      `Cycles file ${file}, row ${backwards.source_row}: cycle_end is not after cycle_start for org "${backwards.org_id}".`,
    );
  }
  const [overlap] = await warehouse.rows<{ org_id: string; row_a: bigint; row_b: bigint }>(`
    with ordered as (
        select org_id, source_row, cycle_start,
            lag(cycle_end) over (partition by org_id order by cycle_start, source_row) as previous_end,
            lag(source_row) over (partition by org_id order by cycle_start, source_row) as previous_row
        from cfg_calendar
    )
    select org_id, least(previous_row, source_row) as row_a, greatest(previous_row, source_row) as row_b
    from ordered where previous_end > cycle_start order by row_a limit 1`);
  if (overlap) {
    throw new ConfigError(
      `Cycles file ${file}: cycles of org "${overlap.org_id}" overlap at rows ${overlap.row_a} and ${overlap.row_b}.`,
    );
  }
  const [duplicateLabel] = await warehouse.rows<{ org_id: string; cycle_id: string }>(`
    select org_id, cycle_id from cfg_calendar group by all having count(*) > 1 order by all limit 1`);
  if (duplicateLabel) {
    throw new ConfigError(
      `Cycles file ${file}: org "${duplicateLabel.org_id}" has two cycles labelled "${duplicateLabel.cycle_id}".`,
    );
  }
}
