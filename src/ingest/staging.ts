/**
 * What staging reads of each current load: the projection that maps the
 * file's own columns to the contract's, with its source's constants,
 * filter, timezone and epoch unit (docs/billing-rules.md §4). Worked out on every build
 * from the settings in force, so a corrected mapping takes effect without
 * reloading the file, and kept in `cfg_loads` (with a fingerprint of the
 * settings) for the build's planner and for `explain`.
 *
 * A mapped column the file does not have is a configuration error naming
 * the file, the column and the columns the file has (docs/billing-rules.md §5).
 */
import { CANONICAL_COLUMNS, TIMESTAMP_COLUMNS, type CanonicalColumn } from '../config/contract-columns.js';
import { ConfigError, engineMessage } from '../engine/errors.js';
import { RELATION, rawRelationOf, withRelation } from './raw-layer.js';
import { type SourceSpec, hiveValues, settingKey, stageFingerprint } from './sources.js';
import type { Engine } from '../engine/engine.js';
import { sqlIdentifier, sqlInteger, sqlString } from '../engine/sql-text.js';

/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, the grammar's range */
const MIN_EPOCH_US = '-62135596800000000';
const MAX_EPOCH_US = '253402300799999999';

export interface CurrentLoad {
  load_id: number;
  /** the path whose source's settings apply */
  source_file: string;
  format: string;
  source_columns: string[];
  stored_file: string | null;
  rows_read: number;
  source: SourceSpec;
}


/**
 * Replaces cfg_loads with the current loads, re-deriving the projection of
 * each load whose settings changed. Inside the ingest's transaction.
 */
export async function stageSettings(warehouse: Engine, rawStore: string | undefined, loads: CurrentLoad[]): Promise<void> {
  const known = new Map(
    (await warehouse.rows<{ load_id: number; stage_fingerprint: string; source_key: string; source_file: string }>(
      `select load_id, stage_fingerprint, source_key, source_file from cfg_loads`,
    )).map((row) => [row.load_id, row]),
  );
  const keep: number[] = [];
  for (const load of loads) {
    // a stored copy gone missing is loud at every build, not only at the next full one
    rawRelationOf(load, rawStore);
    const fingerprint = stageFingerprint(load.source);
    const key = load.source.key ?? '';
    const stored = known.get(load.load_id);
    if (stored && stored.stage_fingerprint === fingerprint && stored.source_key === key) {
      // the same content may now be first under another path (its first path holds a newer version)
      if (stored.source_file !== load.source_file) {
        await warehouse.run(`update cfg_loads set source_file = $file where load_id = $load_id`, { file: load.source_file, load_id: load.load_id });
      }
      keep.push(load.load_id);
      continue;
    }
    const projection = await projectionFor(warehouse, rawStore, load);
    await warehouse.run(`delete from cfg_loads where load_id = $load_id`, { load_id: load.load_id });
    await warehouse.run(
      `insert into cfg_loads values ($load_id, $file, $key, $fingerprint, $timezone, $epoch_unit, $projection)`,
      {
        load_id: load.load_id,
        file: load.source_file,
        key,
        fingerprint,
        timezone: load.source.timezone,
        epoch_unit: load.source.epochUnit ?? 'ms',
        projection,
      },
    );
    keep.push(load.load_id);
  }
  await warehouse.run(`delete from cfg_loads where load_id not in (select unnest($keep::integer[]))`, { keep: JSON.stringify(keep) });
}

async function projectionFor(warehouse: Engine, rawStore: string | undefined, load: CurrentLoad): Promise<string> {
  const { source } = load;
  const hive = Object.entries(hiveValues(load.source_file)).filter(
    ([name]) => !load.source_columns.some((column) => column.toLowerCase() === name.toLowerCase()),
  );
  const available = [...load.source_columns, ...hive.map(([name]) => name)];
  const find = (name: string) => available.find((column) => column === name) ?? available.find((column) => column.toLowerCase() === name.toLowerCase());
  const expressionOf = (name: string): string | undefined => {
    const whole = find(name);
    if (whole) return `src.${sqlIdentifier(whole)}`;
    // a dotted path into a nested value: a Parquet struct, or JSON text
    const [head, ...rest] = name.split('.');
    const column = rest.length > 0 && head ? find(head) : undefined;
    if (!column) return undefined;
    return load.format === 'parquet'
      ? `src.${[column, ...rest].map(sqlIdentifier).join('.')}`
      : `json_extract_string(src.${sqlIdentifier(column)}, ${sqlString(`$.${rest.map((part) => JSON.stringify(part)).join('.')}`)})`;
  };
  const expressions = new Map<CanonicalColumn, string>();
  const empty = load.rows_read === 0 && load.source_columns.length === 0;
  for (const column of CANONICAL_COLUMNS) {
    const constant = source.constants?.[column];
    if (constant !== undefined) {
      expressions.set(column, sqlString(constant));
      continue;
    }
    const mapped = source.columns[column];
    const expression = expressionOf(mapped ?? column);
    if (expression) expressions.set(column, expression);
    else if (mapped !== undefined && !empty) throw missingColumn(load, `"${mapped}" (mapped to ${column})`, available);
  }
  if (!empty) {
    for (const column of ['integration_id', 'customer_account_id'] as const) {
      if (!expressions.has(column)) throw missingColumn(load, `${column} (name the file's column with ${settingKey(source, `columns.${column}`)})`, available);
    }
    if (!expressions.has('started_at') && !expressions.has('occurred_at')) {
      throw missingColumn(load, `started_at or occurred_at (name the file's column with ${settingKey(source, 'columns.started_at')})`, available);
    }
  }
  const relation = hive.length === 0
    ? `${RELATION} as src`
    : `(select *, ${hive.map(([name, value]) => `${sqlString(value)} as ${sqlIdentifier(name)}`).join(', ')} from ${RELATION}) as src`;
  const typeOf = await typesOf(warehouse, load, relation, expressions, rawStore);
  const isTyped = (column: CanonicalColumn) => /^(TIMESTAMP|DATE)/.test(typeOf.get(column) ?? '');
  // A typed value outside years 0001-9999 would overflow the models' time
  // arithmetic: it goes on as text, which the grammar rejects (invalid_timestamp).
  // An infinite instant has no epoch (null), so it counts as out of range: an
  // ended_at of infinity must not pass for an open interaction.
  const inRange = (column: CanonicalColumn, expression: string) =>
    typeOf.get(column) === 'DATE'
      ? `${expression} between date '0001-01-01' and date '9999-12-31'`
      : `coalesce(epoch_us(${expression}) between ${MIN_EPOCH_US} and ${MAX_EPOCH_US}, ${expression} is null)`;
  const select = [
    `${sqlInteger(load.load_id)} as load_id`,
    'src.source_row',
    ...CANONICAL_COLUMNS.map((column) => {
      const expression = expressions.get(column);
      if (expression === undefined) return `null::varchar as ${column}`;
      if (isTyped(column)) return `case when not (${inRange(column, expression)}) then ${expression}::varchar end as ${column}`;
      return `${expression}::varchar as ${column}`;
    }),
    ...TIMESTAMP_COLUMNS.map((column) => {
      const expression = expressions.get(column);
      if (expression === undefined || !isTyped(column)) return `null::timestamptz as ${column}_instant`;
      // a wall-clock value is read in the source's timezone, like offset-less text
      const instant = typeOf.get(column)?.startsWith('TIMESTAMP WITH TIME ZONE')
        ? expression
        : `timezone(${sqlString(source.timezone)}, ${expression}::timestamp)`;
      return `case when ${inRange(column, expression)} then ${instant} end as ${column}_instant`;
    }),
    `${sqlString(source.timezone)} as source_timezone`,
    `${sqlString(source.epochUnit ?? 'ms')} as epoch_unit`,
    `${sqlString(!expressions.has('started_at') && expressions.has('occurred_at') ? 'message' : 'interaction')} as default_row_kind`,
    `${source.filter === undefined ? 'true' : `coalesce((${source.filter}), false)`} as kept`,
  ];
  const projection = `select ${select.join(',\n       ')}\nfrom ${relation}`;
  await checkBinds(warehouse, load, projection, rawStore);
  return projection;
}

/** The engine's type of each mapped expression, which also proves each one binds. */
async function typesOf(
  warehouse: Engine,
  load: CurrentLoad,
  relation: string,
  expressions: Map<CanonicalColumn, string>,
  rawStore: string | undefined,
): Promise<Map<CanonicalColumn, string>> {
  if (expressions.size === 0) return new Map();
  const list = [...expressions].map(([column, expression]) => `${expression} as ${column}`).join(', ');
  const sql = `describe select ${list} from ${withRelation(relation, rawRelationOf(load, rawStore))}`;
  try {
    const rows = await warehouse.rows<{ column_name: CanonicalColumn; column_type: string }>(sql);
    return new Map(rows.map((row) => [row.column_name, row.column_type]));
  } catch (error) {
    throw new ConfigError(`File ${load.source_file}: a mapped column cannot be read (${engineMessage(error)}); its columns are: ${load.source_columns.join(', ')}.`, { cause: error });
  }
}

async function checkBinds(warehouse: Engine, load: CurrentLoad, projection: string, rawStore: string | undefined): Promise<void> {
  const sql = `describe ${withRelation(projection, rawRelationOf(load, rawStore))}`;
  try {
    await warehouse.rows(sql);
  } catch (error) {
    if (load.source.filter === undefined) throw new ConfigError(`File ${load.source_file} cannot be staged: ${engineMessage(error)}.`, { cause: error });
    throw new ConfigError(
      `Config key "${settingKey(load.source, 'filter')}" does not apply to file ${load.source_file}: ${engineMessage(error)}; its columns are: ${load.source_columns.join(', ')}.`,
      { cause: error },
    );
  }
}

function missingColumn(load: CurrentLoad, what: string, columns: string[]): ConfigError {
  return new ConfigError(`File ${load.source_file} has no column ${what}; its columns are: ${columns.join(', ') || '(none)'}.`);
}
