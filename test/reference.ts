/**
 * A plain-TypeScript reference of the billing rules (docs: billing-rules.md),
 * for the differential test only. Deliberately naive: loops, Maps keyed by
 * strings, no DuckDB. Timestamps without an offset are read as UTC (every
 * source of the differential test is a UTC source).
 */

export type RawValue = string | number | null | undefined;
export type RawRow = Record<string, RawValue>;

export interface RefRule {
  anchorDay: number;
  timezone: string;
}

export interface RefInput {
  /** the distinct loads, in load order; `name` identifies the file in the output */
  files: { name: string; rows: RawRow[] }[];
  asOf: string;
  defaultRule: RefRule;
  orgRules: Record<string, Partial<RefRule>>;
}

/** What a conversation and a count row share: the org, cycle and integration. */
interface RefCycleIntegration {
  org_id: string;
  cycle_id: string;
  cycle_start: string;
  cycle_end: string;
  integration_id: string;
  platform: string;
}

export interface RefConversation extends RefCycleIntegration {
  customer_account_id: string;
  interaction_count: number;
  first_activity_at: string;
  last_activity_at: string;
}

export interface RefCount extends RefCycleIntegration {
  conversations: number;
}

export interface RefCycle {
  org_id: string;
  cycle_id: string;
  cycle_start: string;
  cycle_end: string;
}

export interface RefOutput {
  conversations: RefConversation[];
  counts: RefCount[];
  cycles: RefCycle[];
  rejects: { source_file: string; reason: string; n: number }[];
  files: { source_file: string; rows_read: number; rows_accepted: number; rows_rejected: number }[];
}

// ---------------------------------------------------------------- text and time

/** Rules §2: trimmed of spaces, tabs and line breaks; blank means absent. */
export function cleanText(value: RawValue): string | null {
  if (value === null || value === undefined) return null;
  const text = String(value).replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
  return text === '' ? null : text;
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?(Z|[+-]\d{2}:\d{2})?)?$/;

/** Epoch milliseconds, or null when the text is not an instant. */
export function parseInstant(text: string): number | null {
  if (/^-?\d+$/.test(text)) return Number(text);
  const m = ISO.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0)) as number[];
  if (month! < 1 || month! > 12 || day! < 1 || day! > daysInMonth(year!, month!)) return null;
  if (hour! > 23 || minute! > 59 || second! > 59) return null;
  const millis = Number((m[7] ?? '').padEnd(3, '0'));
  let offset = 0;
  if (m[8] && m[8] !== 'Z') offset = (m[8][0] === '-' ? -1 : 1) * (Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6)));
  return Date.UTC(year!, month! - 1, day!, hour!, minute!, second!, millis) - offset * 60_000;
}

/** As the pipeline prints instants: UTC, fractional seconds only when non-zero. */
export function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** The local wall-clock time of an instant in `tz`, as a UTC-based millisecond count. */
export function wallClock(ms: number, tz: string): number {
  let format = formatters.get(tz);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(tz, format);
  }
  const parts = format.formatToParts(new Date(ms));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) + (((ms % 1000) + 1000) % 1000);
}

const offsetAt = (ms: number, tz: string) => wallClock(ms, tz) - ms;

/**
 * The first instant whose local time is at or after local midnight of
 * year-month-day in `tz`: the first occurrence where midnight happens twice,
 * the end of the gap where it does not happen. Within a constant-offset stretch
 * local time grows with the instant, so each stretch has one candidate.
 */
export function localMidnight(year: number, month: number, day: number, tz: string): number {
  const naive = Date.UTC(year, month - 1, day);
  const lo = naive - 2 * 86_400_000;
  const hi = naive + 2 * 86_400_000;
  const offLo = offsetAt(lo, tz);
  const offHi = offsetAt(hi, tz);
  if (offLo === offHi) return naive - offLo;
  // the transition: the first second whose offset is offHi
  let [a, b] = [lo, hi];
  while (b - a > 1000) {
    const mid = a + Math.floor((b - a) / 2000) * 1000;
    if (offsetAt(mid, tz) === offLo) a = mid;
    else b = mid;
  }
  const transition = b;
  const candidates: number[] = [];
  if (naive - offLo < transition) candidates.push(naive - offLo);
  candidates.push(Math.max(transition, naive - offHi));
  return Math.min(...candidates);
}

// ---------------------------------------------------------------- cycles

export interface Cycle {
  id: string;
  start: number;
  end: number;
}

function cycleStartOf(year: number, month: number, rule: RefRule): Cycle['start'] {
  return localMidnight(year, month, Math.min(rule.anchorDay, daysInMonth(year, month)), rule.timezone);
}

const nextMonth = ([year, month]: [number, number]): [number, number] => (month === 12 ? [year + 1, 1] : [year, month + 1]);
const previousMonth = ([year, month]: [number, number]): [number, number] => (month === 1 ? [year - 1, 12] : [year, month - 1]);

/** Rules §3: from the cycle holding `earliest` to the cycle holding `asOf`. */
export function ruleCycles(rule: RefRule, earliest: number, asOf: number): Cycle[] {
  const local = new Date(wallClock(earliest, rule.timezone));
  let month: [number, number] = [local.getUTCFullYear(), local.getUTCMonth() + 1];
  if (cycleStartOf(...month, rule) > earliest) month = previousMonth(month);
  const cycles: Cycle[] = [];
  while (cycleStartOf(...month, rule) <= asOf) {
    const [year, m] = month;
    const day = Math.min(rule.anchorDay, daysInMonth(year, m));
    const id = `${year}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    cycles.push({ id, start: cycleStartOf(...month, rule), end: cycleStartOf(...nextMonth(month), rule) });
    month = nextMonth(month);
  }
  return cycles;
}

// ---------------------------------------------------------------- the rules

interface Row {
  file: string;
  org: string;
  integration: string | null;
  account: string | null;
  platform: string | null;
  key: string;
  start: number;
  /** end or occurrence; null for an interaction row without an end */
  end: number | null;
  isInteractionRow: boolean;
  reason: string | null;
}

interface Interaction {
  org: string;
  integration: string;
  accounts: Set<string>;
  rows: Row[];
  start: number;
  end: number | null;
  reason: string | null;
  cycles: Cycle[];
}

function readRow(file: string, raw: RawRow): Row {
  const org = cleanText(raw.org_id) ?? 'default';
  const integration = cleanText(raw.integration_id);
  const interactionId = cleanText(raw.interaction_id);
  const account = cleanText(raw.customer_account_id);
  const platform = cleanText(raw.platform)?.toLowerCase() ?? null;
  const startedText = cleanText(raw.started_at);
  const endedText = cleanText(raw.ended_at);
  const occurredText = cleanText(raw.occurred_at);
  const isInteractionRow = startedText !== null || endedText !== null;
  const started = startedText === null ? null : parseInstant(startedText);
  const ended = endedText === null ? null : parseInstant(endedText);
  const occurred = occurredText === null ? null : parseInstant(occurredText);

  let reason: string | null = null;
  if (integration === null) reason = 'missing_integration_id';
  else if (account === null) reason = 'missing_customer_account_id';
  else if (isInteractionRow ? startedText === null : occurredText === null) reason = 'missing_timestamp';
  else if (isInteractionRow ? started === null || (endedText !== null && ended === null) : occurred === null) reason = 'invalid_timestamp';
  else if (isInteractionRow && ended !== null && ended < (started as number)) reason = 'ended_before_started';

  const kind = isInteractionRow ? 'interaction' : 'message';
  // a row without an id is its own interaction; identical rows are one
  const key = interactionId ?? `~row:${JSON.stringify([kind, account, platform, cleanText(raw.message_id), startedText, endedText, occurredText])}`;
  return {
    file, org, integration, account, platform, key, isInteractionRow, reason,
    start: (isInteractionRow ? started : occurred) as number,
    end: isInteractionRow ? ended : occurred,
  };
}

export function reference(input: RefInput): RefOutput {
  const asOf = parseInstant(input.asOf) as number;
  const rows = input.files.flatMap((file) => file.rows.map((raw) => readRow(file.name, raw)));

  // merge the rows that pass the row checks
  const interactions = new Map<string, Interaction>();
  for (const row of rows) {
    if (row.reason !== null) continue;
    const key = JSON.stringify([row.org, row.integration, row.key]);
    let merged = interactions.get(key);
    if (!merged) {
      merged = { org: row.org, integration: row.integration as string, accounts: new Set(), rows: [], start: row.start, end: null, reason: null, cycles: [] };
      interactions.set(key, merged);
    }
    merged.rows.push(row);
    merged.accounts.add(row.account as string);
    merged.start = Math.min(merged.start, row.start);
  }
  for (const merged of interactions.values()) {
    const interactionRows = merged.rows.filter((row) => row.isInteractionRow);
    const open = interactionRows.length > 0 && interactionRows.every((row) => row.end === null);
    if (!open) {
      const latest = (values: (number | null)[]) => Math.max(...(values.filter((v) => v !== null) as number[]));
      merged.end = Math.max(latest(merged.rows.map((row) => row.end)), latest(merged.rows.map((row) => row.start)));
    }
    if (merged.accounts.size > 1) merged.reason = 'conflicting_customer_account';
    else if (merged.start > asOf) merged.reason = 'after_as_of';
  }

  // cycles per org, from its earliest interaction still standing
  const earliest = new Map<string, number>();
  for (const merged of interactions.values()) {
    if (merged.reason !== null) continue;
    earliest.set(merged.org, Math.min(earliest.get(merged.org) ?? Infinity, merged.start));
  }
  const cyclesByOrg = new Map<string, Cycle[]>();
  for (const [org, first] of earliest) {
    const rule = { ...input.defaultRule, ...stripUndefined(input.orgRules[org] ?? {}) };
    cyclesByOrg.set(org, ruleCycles(rule, first, asOf));
  }

  // an integration bills under the first platform (alphabetically) that any row naming it
  // gives, rejected rows included, else 'unknown'
  const platforms = new Map<string, string>();
  for (const row of rows) {
    if (row.integration === null || row.platform === null) continue;
    const key = JSON.stringify([row.org, row.integration]);
    const known = platforms.get(key);
    if (known === undefined || row.platform < known) platforms.set(key, row.platform);
  }

  // overlap: start < cycle_end and least(coalesce(end, as_of), as_of) >= cycle_start
  const conversations = new Map<string, RefConversation>();
  for (const merged of interactions.values()) {
    if (merged.reason !== null) continue;
    const effectiveEnd = Math.min(merged.end ?? asOf, asOf);
    merged.cycles = (cyclesByOrg.get(merged.org) ?? []).filter((c) => merged.start < c.end && effectiveEnd >= c.start);
    if (merged.cycles.length === 0) {
      merged.reason = 'outside_billing_cycles';
      continue;
    }
    const account = [...merged.accounts][0] as string;
    for (const cycle of merged.cycles) {
      const key = JSON.stringify([merged.org, cycle.start, merged.integration, account]);
      const existing = conversations.get(key);
      if (existing) {
        existing.interaction_count += 1;
        if (merged.start < Date.parse(existing.first_activity_at)) existing.first_activity_at = iso(merged.start);
        if (effectiveEnd > Date.parse(existing.last_activity_at)) existing.last_activity_at = iso(effectiveEnd);
      } else {
        conversations.set(key, {
          org_id: merged.org, cycle_id: cycle.id, cycle_start: iso(cycle.start), cycle_end: iso(cycle.end),
          integration_id: merged.integration, platform: platforms.get(JSON.stringify([merged.org, merged.integration])) ?? 'unknown',
          customer_account_id: account, interaction_count: 1, first_activity_at: iso(merged.start), last_activity_at: iso(effectiveEnd),
        });
      }
    }
  }

  const counts = new Map<string, RefCount>();
  for (const c of conversations.values()) {
    const key = JSON.stringify([c.org_id, c.cycle_start, c.integration_id]);
    const existing = counts.get(key);
    if (existing) existing.conversations += 1;
    else counts.set(key, { org_id: c.org_id, cycle_id: c.cycle_id, cycle_start: c.cycle_start, cycle_end: c.cycle_end, integration_id: c.integration_id, platform: c.platform, conversations: 1 });
  }

  // every row: rejected by its own check, by its interaction's check, or accepted
  const rejects = new Map<string, number>();
  const files = new Map(input.files.map((file) => [file.name, { source_file: file.name, rows_read: file.rows.length, rows_accepted: 0, rows_rejected: 0 }]));
  for (const row of rows) {
    const reason = row.reason ?? interactions.get(JSON.stringify([row.org, row.integration, row.key]))?.reason ?? null;
    const counter = files.get(row.file)!;
    if (reason === null) {
      counter.rows_accepted += 1;
    } else {
      counter.rows_rejected += 1;
      const key = JSON.stringify([row.file, reason]);
      rejects.set(key, (rejects.get(key) ?? 0) + 1);
    }
  }

  const cycles: RefCycle[] = [];
  for (const [org, list] of cyclesByOrg) {
    for (const c of list) cycles.push({ org_id: org, cycle_id: c.id, cycle_start: iso(c.start), cycle_end: iso(c.end) });
  }
  return {
    conversations: [...conversations.values()],
    counts: [...counts.values()],
    cycles,
    rejects: [...rejects].map(([key, n]) => {
      const [source_file, reason] = JSON.parse(key) as [string, string];
      return { source_file, reason, n };
    }),
    files: [...files.values()],
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
