/**
 * Differential test of the engines (docs/billing-rules.md §8): one random,
 * seeded interaction log of CLICKHOUSE_DIFF_ROWS rows (default 50,000) in
 * several CSV and NDJSON files, built by DuckDB, by ClickHouse on one shard
 * (convbill_1shard) and by ClickHouse on two (convbill_2shards). The three must
 * give the same detail, counts, cycles and rejects row for row, and, where it
 * applies, the facts of the plain-TypeScript reference (test/reference.ts:
 * every org but the one on an explicit calendar, every row but the malformed
 * and implausible ones, which it does not model).
 *
 * Then, on the two-shard database: the same build again rewrites no partition
 * and changes nothing; one more file and as-of one day later give the facts of
 * a fresh DuckDB build of all the files at the new as-of.
 *
 * CLICKHOUSE_DIFF_SEED picks another seed (default 1).
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { type ClickHouseTarget, describeClickHouse } from './clickhouse-target.js';
import {
  buildOn,
  type DetailRow,
  detailKey,
  type EngineFacts,
  type EngineTarget,
  newTarget,
  readFacts,
  rowsPerShard,
  sortBy,
} from './engine-builds.js';
import { mulberry32, tempDir, writeCsv, writeNdjson, type InputRow } from './helpers.js';
import { cleanText, iso, localMidnight, reference, ruleCycles, type RefInput, type RefOutput, type RefRule } from './reference.js';

const ROWS = Number(process.env.CLICKHOUSE_DIFF_ROWS ?? 50_000);
const SEED = Number(process.env.CLICKHOUSE_DIFF_SEED ?? 1);
const DAY = 86_400_000;

const CALENDAR_ORG = 'calco';
const CALENDAR_TZ = 'Europe/Paris';
/** a DST zone for 'acme', a midnight that does not exist or happens twice for 'stark' */
const ORG_RULES = (rnd: () => number): Record<string, RefRule> => {
  const pick = <T>(items: T[]) => items[Math.floor(rnd() * items.length)] as T;
  const stark = pick<RefRule>([
    { anchorDay: 30, timezone: 'Asia/Beirut' },
    { anchorDay: 1, timezone: 'America/Havana' },
    { anchorDay: 29, timezone: 'Asia/Beirut' },
  ]);
  return {
    acme: { anchorDay: pick([15, 28, 30]), timezone: 'Europe/Paris' },
    globex: { anchorDay: 31, timezone: 'America/New_York' },
    initech: { anchorDay: pick([1, 29]), timezone: 'Asia/Kolkata' },
    umbrella: { anchorDay: pick([1, 7]), timezone: 'Australia/Sydney' },
    hooli: { anchorDay: 10, timezone: 'America/Sao_Paulo' },
    stark,
  };
};
/** 'wayne' follows the default rule, as 'default' does; 9 orgs of some 27 cycles are more partitions than one ALTER names (swap.ts, 200) */
const ORGS = ['default', 'acme', 'globex', 'initech', 'umbrella', 'hooli', 'wayne', 'stark', CALENDAR_ORG];
const INTEGRATIONS: [string, string | null][] = [
  ['wa-1', 'whatsapp'], ['wa-2', 'whatsapp'], ['fb-1', 'facebook'], ['ig-1', 'instagram'], ['sms-1', 'sms'], ['api-1', null],
];
const INVALID_TIMESTAMPS = ['not-a-date', '2024-02-30T10:00:00Z', '2024-13-01 00:00:00', '31/12/2024 10:00', 'yesterday', '2024-06-01T25:00:00Z'];
const OFFSETS = [330, -240, 60, 0, -570, 600];
const BLANKS = [undefined, '', ' ', '\t'];
const PADS = [' ', '\t', '  ', ' \t'];

const INTERACTION_COLUMNS = ['org_id', 'integration_id', 'interaction_id', 'customer_account_id', 'platform', 'started_at', 'ended_at'];
const MESSAGE_COLUMNS = ['org_id', 'integration_id', 'interaction_id', 'customer_account_id', 'platform', 'message_id', 'occurred_at'];
const ALL_COLUMNS = ['org_id', 'integration_id', 'interaction_id', 'customer_account_id', 'platform', 'message_id', 'started_at', 'ended_at', 'occurred_at'];

interface OrgPlan {
  id: string;
  integrations: [string, string | null][];
  accounts: string[];
  /** cycle starts, for rows on a boundary */
  boundaries: number[];
}

interface Base {
  org: OrgPlan;
  integration: [string, string | null];
  account: string;
  id: string | undefined;
}

/** A seeded source of rows; `more` continues it (the late file), some rows joining earlier interactions. */
class LogGenerator {
  readonly rnd: () => number;
  readonly asOfMs: number;
  readonly defaultRule: RefRule;
  readonly orgRules: Record<string, Partial<RefRule>>;
  readonly calendarRows: InputRow[] = [];
  calendarGaps = 0;
  readonly orgs: OrgPlan[];
  private readonly known: Base[] = [];
  private nextId = 0;
  private nextMessage = 0;

  constructor(seed: number) {
    this.rnd = mulberry32(seed);
    this.defaultRule = { anchorDay: this.pick([1, 15, 31]), timezone: this.pick(['UTC', 'Europe/Paris']) };
    // as-of between 2026-11-02 and 2027-03-31, activity over the 800 days before it and a little after
    // (for seeds 2, 5, 8, … exactly on a cycle start of the default rule)
    let asOfMs = Date.UTC(2026, 10, 2) + this.int(149) * DAY + this.int(86_400) * 1000 + this.int(1000);
    if (seed % 3 === 2) asOfMs = (ruleCycles(this.defaultRule, asOfMs - 40 * DAY, asOfMs).at(-1) as { start: number }).start;
    this.asOfMs = asOfMs;
    const windowStart = this.asOfMs - 800 * DAY;
    const rules = ORG_RULES(this.rnd);
    this.orgRules = { ...rules, [CALENDAR_ORG]: { timezone: CALENDAR_TZ } };
    const calendarStarts = this.calendar(windowStart);
    this.orgs = ORGS.map((id, index) => {
      const rule = rules[id] ?? this.defaultRule;
      const accounts = Array.from({ length: 20 + this.int(60) }, (_, i) =>
        this.pick([`+3361${String(seed * 1000 + index * 100 + i).padStart(7, '0')}`, `psid:${index}${i}`, `@user_${i}`, i % 2 ? 'Bob' : 'bob']),
      );
      return {
        id,
        integrations: shuffled(INTEGRATIONS, this.rnd).slice(0, 2 + this.int(4)),
        accounts,
        boundaries: id === CALENDAR_ORG ? calendarStarts : ruleCycles(rule, windowStart, this.asOfMs + 2 * DAY).map((c) => c.start),
      };
    });
  }

  int(n: number): number {
    return Math.floor(this.rnd() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.rnd() < p;
  }
  pad(text: string): string {
    return this.chance(0.08) ? `${this.pick(PADS)}${text}${this.pick(PADS)}` : text;
  }

  /**
   * The calendar org's cycles: 20 to 45 days from before the window to past as-of,
   * with gaps; bounds as local dates (midnight in Paris) or as the same instants
   * in ISO-8601, a blank cycle_id now and then. Returns the cycle starts.
   */
  private calendar(windowStart: number): number[] {
    const starts: number[] = [];
    let day = new Date(windowStart - 30 * DAY);
    const bound = (date: Date) => {
      const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
      const text = `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
      return { ms: localMidnight(y, m, d, CALENDAR_TZ), text: this.chance(0.5) ? text : iso(localMidnight(y, m, d, CALENDAR_TZ)) };
    };
    let gaps = 0;
    for (let n = 0; day.getTime() < this.asOfMs + 40 * DAY; n += 1) {
      // two gaps for sure (the 3rd and the 9th cycle are followed by one), others at random
      if (n > 0 && (n === 3 || n === 9 || this.chance(0.12))) {
        day = new Date(day.getTime() + (3 + this.int(20)) * DAY);
        gaps += 1;
      }
      const start = bound(day);
      const next = new Date(day.getTime() + (20 + this.int(26)) * DAY);
      const end = bound(next);
      this.calendarRows.push({ org_id: CALENDAR_ORG, cycle_id: this.chance(0.7) ? `P${String(n).padStart(3, '0')}` : '', cycle_start: start.text, cycle_end: end.text });
      starts.push(start.ms);
      day = next;
    }
    this.calendarGaps = gaps;
    return starts;
  }

  /** an instant as one of the accepted text shapes (or a JSON number) */
  private stamp(ms: number): string | number {
    const fraction = (text: string) => text.replace(/\.000$/, '');
    const r = this.rnd();
    let text: string;
    if (r < 0.35) text = iso(ms);
    else if (r < 0.55) {
      const offset = this.pick(OFFSETS);
      const local = fraction(new Date(ms + offset * 60_000).toISOString().slice(0, -1));
      const abs = Math.abs(offset);
      text = `${local}${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    } else if (r < 0.75) text = fraction(new Date(ms).toISOString().slice(0, -1)).replace('T', ' ');
    else return this.chance(0.5) ? ms : String(ms);
    return this.pad(text);
  }

  private instant(from = this.asOfMs - 800 * DAY, to = this.asOfMs + 10 * DAY): number {
    const ms = from + Math.floor(this.rnd() * (to - from));
    return this.chance(0.1) ? ms : ms - (ms % 1000);
  }

  private duration(): number {
    const r = this.rnd();
    if (r < 0.6) return this.int(4 * 3600) * 1000;
    if (r < 0.85) return this.int(6 * DAY);
    return 20 * DAY + this.int(100 * DAY);
  }

  private row(b: Base): InputRow {
    const platform = b.integration[1];
    return {
      org_id: b.org.id === 'default' ? this.pick([...BLANKS, 'default', ' default\t']) : this.pad(b.org.id),
      integration_id: this.pad(b.integration[0]),
      interaction_id: b.id === undefined ? this.pick(BLANKS) : this.pad(b.id),
      customer_account_id: this.pad(b.account),
      platform: platform === null || this.chance(0.2) ? undefined : this.chance(0.8) ? platform : platform.toUpperCase(),
    };
  }

  private interactionRow(out: InputRow[], b: Base, start: number, end: number | null): void {
    out.push({ ...this.row(b), started_at: this.stamp(start), ended_at: end === null ? this.pick(BLANKS) : this.stamp(end) });
  }

  private messageRow(out: InputRow[], b: Base, at: number): void {
    out.push({ ...this.row(b), message_id: `m${this.nextMessage++}`, occurred_at: this.stamp(at) });
  }

  /** a row failing one or two row checks (the first reason in the rules' order wins) */
  private badRow(out: InputRow[], b: Base): void {
    const start = this.instant();
    if (this.chance(0.15)) {
      // epoch seconds read as milliseconds: January 1970, earlier than valid_from
      const seconds = Math.floor(start / 1000);
      out.push({ ...this.row(b), started_at: seconds, ended_at: this.chance(0.5) ? seconds + this.int(3600) : '' });
      return;
    }
    const message = this.chance(0.4);
    const row: InputRow = message
      ? { ...this.row(b), message_id: `m${this.nextMessage++}`, occurred_at: this.stamp(start) }
      : { ...this.row(b), started_at: this.stamp(start), ended_at: this.chance(0.5) ? this.stamp(start + this.duration()) : this.pick(BLANKS) };
    const defects = message ? ['integration', 'account', 'timestamp', 'invalid'] : ['integration', 'account', 'timestamp', 'invalid', 'invalid_end', 'backwards'];
    for (let d = this.chance(0.3) ? 2 : 1; d > 0; d -= 1) {
      const defect = this.pick(defects);
      if (defect === 'integration') row.integration_id = this.pick(BLANKS);
      if (defect === 'account') row.customer_account_id = this.pick(BLANKS);
      if (defect === 'timestamp') row[message ? 'occurred_at' : 'started_at'] = this.pick(BLANKS);
      if (defect === 'invalid') row[message ? 'occurred_at' : 'started_at'] = this.pad(this.pick(INVALID_TIMESTAMPS));
      if (defect === 'invalid_end') row.ended_at = this.pad(this.pick(INVALID_TIMESTAMPS));
      if (defect === 'backwards') {
        row.started_at = this.stamp(start);
        row.ended_at = this.stamp(start - 1000 - this.int(3 * DAY));
      }
    }
    out.push(row);
  }

  /** `target` rows (or a few more): interaction rows and message rows, interleaved */
  rows(target: number, joinKnown = 0): InputRow[] {
    const out: InputRow[] = [];
    const asOf = this.asOfMs;
    while (out.length < target) {
      if (this.known.length > 0 && this.chance(joinKnown)) {
        // more activity for an interaction of the earlier files, maybe in a later cycle, now and
        // then under another account: the interaction, billed before, is rejected whole
        const known = this.pick(this.known);
        const b = this.chance(0.1) ? { ...known, account: `${known.account}-late` } : known;
        const at = this.instant(asOf - 60 * DAY, asOf + 2 * DAY);
        if (this.chance(0.5)) this.messageRow(out, b, at);
        else this.interactionRow(out, b, at, this.chance(0.7) ? at + this.duration() : null);
        continue;
      }
      const org = this.pick(this.orgs);
      const integration = this.pick(org.integrations);
      const account = org.accounts[Math.floor(this.rnd() * this.rnd() * org.accounts.length)] as string;
      const b: Base = { org, integration, account, id: this.chance(0.85) ? `i${this.nextId++}` : undefined };
      if (b.id !== undefined) this.known.push(b);
      const start = this.instant();
      const shape = this.rnd();
      if (b.id === undefined) {
        if (this.chance(0.5)) this.interactionRow(out, b, start, this.chance(0.8) ? start + this.duration() : null);
        else this.messageRow(out, b, start);
      } else if (shape < 0.28) {
        this.interactionRow(out, b, start, start + this.duration());
      } else if (shape < 0.38) {
        this.interactionRow(out, b, start, null);
      } else if (shape < 0.55) {
        const span = this.duration();
        for (let n = 1 + this.int(6); n > 0; n -= 1) this.messageRow(out, b, start + this.int(span + 1));
      } else if (shape < 0.7) {
        const span = this.duration();
        for (let n = 1 + this.int(2); n > 0; n -= 1) {
          const s = start + this.int(span + 1);
          this.interactionRow(out, b, s, this.chance(0.5) ? s + this.int(span + 1) : null);
        }
        for (let n = this.int(4); n > 0; n -= 1) this.messageRow(out, b, start + this.int(2 * span + 1));
      } else if (shape < 0.74) {
        for (let n = 2 + this.int(2); n > 0; n -= 1) this.interactionRow(out, b, start + this.int(DAY), null);
      } else if (shape < 0.79) {
        // two accounts under one key: all its rows rejected
        this.interactionRow(out, b, start, start + this.duration());
        const other = account === 'Bob' ? 'bob' : `${account}x`;
        if (this.chance(0.5)) this.interactionRow(out, { ...b, account: other }, start + 1000, null);
        else this.messageRow(out, { ...b, account: other }, start + this.int(DAY));
      } else if (shape < 0.84) {
        // starts after as-of (or exactly at it, which is still in)
        const s = this.chance(0.3) ? asOf + (this.chance(0.5) ? 0 : 1) : this.instant(asOf + 1, asOf + 30 * DAY);
        if (this.chance(0.5)) this.interactionRow(out, b, s, this.chance(0.5) ? s + this.duration() : null);
        else this.messageRow(out, b, s);
      } else if (shape < 0.92) {
        // on a cycle boundary of its org: ends exactly at a cycle start, starts there, or 1 ms before
        const boundary = this.pick(org.boundaries);
        const r = this.rnd();
        if (r < 0.4) this.interactionRow(out, b, boundary - this.duration(), boundary);
        else if (r < 0.6) this.interactionRow(out, b, boundary, this.chance(0.5) ? boundary : boundary + this.duration());
        else if (r < 0.8) this.messageRow(out, b, boundary - (this.chance(0.5) ? 0 : 1));
        else this.interactionRow(out, b, boundary - 1, boundary - 1);
      } else {
        // the same interaction with whitespace around its id
        this.interactionRow(out, b, start, start + this.duration());
        this.messageRow(out, { ...b, id: ` ${b.id}\t` }, start + this.int(DAY));
      }
      if (this.chance(0.09)) this.badRow(out, this.chance(0.4) ? { ...b, account: `${account}-other` } : b);
    }
    // exact duplicates
    for (let n = Math.floor(out.length * 0.03); n > 0; n -= 1) out.push({ ...this.pick(out) });
    return shuffled(out, this.rnd);
  }
}

function shuffled<T>(items: T[], rnd: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i -= 1) {
    const j = Math.floor(rnd() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

const isMessage = (row: InputRow) => 'occurred_at' in row;
/**
 * The generator's implausible rows: epoch seconds, a JS number, where milliseconds are
 * read (1970). Their only defect, so their reason is implausible_timestamp.
 */
const isImplausible = (row: InputRow) => typeof row.started_at === 'number' && row.started_at < 1e11;
const project = (rows: InputRow[], columns: string[]) => rows.map((row) => Object.fromEntries(columns.map((column) => [column, row[column]])));

interface Written {
  inputs: string[];
  /** the files as the reference reads them: distinct contents, rows the reference models */
  ref: RefInput['files'];
  malformed: number;
}

/**
 * interactions.csv, messages.csv (and messages-copy.csv, the same content), mixed.ndjson,
 * all.csv and legacy.csv, whose header is the interaction columns and a few of whose lines
 * have too many or too few fields.
 */
function writeFiles(dir: string, gen: LogGenerator, rows: InputRow[]): Written {
  const files: Record<string, InputRow[]> = { 'interactions.csv': [], 'messages.csv': [], 'mixed.ndjson': [], 'all.csv': [], 'legacy.csv': [] };
  for (const row of rows) {
    const r = gen.rnd();
    const own = isMessage(row) ? 'messages.csv' : r < 0.15 ? 'legacy.csv' : 'interactions.csv';
    (files[r < 0.4 ? own : r < 0.7 ? 'mixed.ndjson' : r < 0.9 ? 'all.csv' : own] as InputRow[]).push(row);
  }
  const inputs = [
    writeCsv(dir, 'interactions.csv', files['interactions.csv'] ?? [], INTERACTION_COLUMNS),
    writeCsv(dir, 'messages.csv', files['messages.csv'] ?? [], MESSAGE_COLUMNS),
    writeNdjson(dir, 'mixed.ndjson', files['mixed.ndjson'] ?? []),
    writeCsv(dir, 'all.csv', files['all.csv'] ?? [], ALL_COLUMNS),
  ];
  const copy = join(dir, 'messages-copy.csv');
  copyFileSync(inputs[1] as string, copy);
  inputs.push(copy);
  // legacy.csv: well-formed rows, and now and then a line that does not fit the header
  const legacy = join(dir, 'legacy.csv');
  const legacyRows = files['legacy.csv'] ?? [];
  const cell = (v: unknown) => (v === undefined || v === null ? '' : String(v).trim());
  const out = [INTERACTION_COLUMNS.join(',')];
  let malformed = 0;
  for (const row of legacyRows) {
    if (gen.chance(0.02)) {
      const fields = INTERACTION_COLUMNS.map((column) => cell(row[column]).replaceAll(',', ' '));
      out.push(gen.chance(0.5) ? [...fields, 'surplus'].join(',') : fields.slice(0, 4).join(','));
      malformed += 1;
    }
    out.push(INTERACTION_COLUMNS.map((column) => csvCell(row[column])).join(','));
  }
  writeFileSync(legacy, `${out.join('\n')}\n`);
  inputs.push(legacy);
  return {
    inputs,
    ref: [
      { name: 'interactions.csv', rows: project(files['interactions.csv'] ?? [], INTERACTION_COLUMNS) },
      { name: 'messages-copy.csv', rows: project(files['messages.csv'] ?? [], MESSAGE_COLUMNS) },
      { name: 'mixed.ndjson', rows: files['mixed.ndjson'] ?? [] },
      { name: 'all.csv', rows: project(files['all.csv'] ?? [], ALL_COLUMNS) },
      { name: 'legacy.csv', rows: project(legacyRows, INTERACTION_COLUMNS) },
    ],
    malformed,
  };
}

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}

/** What the reference is held to: every org but the calendar's, every row but those it does not model. */
function referenceInput(files: RefInput['files'], gen: LogGenerator, asOfMs: number): RefInput {
  const modelled = (row: InputRow) => !isImplausible(row) && (cleanText(row.org_id) ?? 'default') !== CALENDAR_ORG;
  return {
    files: files.map((file) => ({ name: file.name, rows: file.rows.filter((row) => modelled(row)) })),
    asOf: iso(asOfMs),
    defaultRule: gen.defaultRule,
    orgRules: gen.orgRules,
  };
}

/** The reference's facts in the engines' shape (epoch milliseconds). */
function referenceFacts(out: RefOutput): Pick<EngineFacts, 'detail' | 'counts' | 'cycles'> & { rejects: Record<string, number> } {
  const detail = sortBy(
    out.conversations.map(
      (c): DetailRow => ({
        org_id: c.org_id, cycle_id: c.cycle_id, cycle_start: Date.parse(c.cycle_start), cycle_end: Date.parse(c.cycle_end),
        integration_id: c.integration_id, platform: c.platform, customer_account_id: c.customer_account_id,
        interaction_count: c.interaction_count, first_activity_at: Date.parse(c.first_activity_at), last_activity_at: Date.parse(c.last_activity_at),
      }),
    ),
    detailKey,
  );
  const cycles = sortBy(
    out.cycles.map((c) => ({ org_id: c.org_id, cycle_id: c.cycle_id, cycle_start: Date.parse(c.cycle_start), cycle_end: Date.parse(c.cycle_end) })),
    (c) => [c.org_id, c.cycle_start],
  );
  const counts: Record<string, number> = {};
  for (const c of cycles) counts[`${c.org_id}/${c.cycle_id}`] = 0;
  for (const c of out.counts) counts[`${c.org_id}/${c.cycle_id}`] = (counts[`${c.org_id}/${c.cycle_id}`] ?? 0) + c.conversations;
  const rejects: Record<string, number> = {};
  for (const r of out.rejects) rejects[`${r.source_file} ${r.reason}`] = (rejects[`${r.source_file} ${r.reason}`] ?? 0) + r.n;
  return { detail, cycles, counts, rejects };
}

/** The engine's facts on what the reference models. */
function modelledPart(facts: EngineFacts): ReturnType<typeof referenceFacts> {
  const ours = (org: string | null) => org !== CALENDAR_ORG;
  const rejects: Record<string, number> = {};
  for (const r of facts.rejected) {
    if (!ours(r.org_id) || r.reason === 'malformed_row' || r.reason === 'implausible_timestamp') continue;
    rejects[`${r.source_file} ${r.reason}`] = (rejects[`${r.source_file} ${r.reason}`] ?? 0) + 1;
  }
  return {
    detail: facts.detail.filter((row) => ours(row.org_id)),
    cycles: facts.cycles.filter((row) => ours(row.org_id)),
    counts: Object.fromEntries(Object.entries(facts.counts).filter(([key]) => !key.startsWith(`${CALENDAR_ORG}/`))),
    rejects,
  };
}

/** Both engines' facts, equal; a difference in the detail is shown on its first rows only. */
function expectSameFacts(got: EngineFacts, want: EngineFacts, what: string): void {
  expect(got.detail.length, `${what}: detail rows`).toBe(want.detail.length);
  const differing = got.detail.flatMap((row, i) => (JSON.stringify(row) === JSON.stringify(want.detail[i]) ? [] : [{ got: row, want: want.detail[i] }]));
  expect(differing.slice(0, 5), `${what}: detail (${differing.length} rows differ)`).toEqual([]);
  expect(got.counts, `${what}: conversations per org/cycle`).toEqual(want.counts);
  expect(got.countRows, `${what}: fct_conversation_counts`).toEqual(want.countRows);
  expect(got.cycles, `${what}: dim_billing_cycles`).toEqual(want.cycles);
  expect(got.rejects, `${what}: rejects by reason`).toEqual(want.rejects);
  // (file, row, reason), and the keys and raw row beside them
  const rejected = (facts: EngineFacts) => new Set(facts.rejected.map((r) => JSON.stringify(r)));
  const [a, b] = [rejected(got), rejected(want)];
  expect([...a].filter((key) => !b.has(key)).slice(0, 5), `${what}: rejected rows only here`).toEqual([]);
  expect([...b].filter((key) => !a.has(key)).slice(0, 5), `${what}: rejected rows missing`).toEqual([]);
  expect(got.rejected.length, `${what}: rejected rows`).toBe(want.rejected.length);
}

function expectReference(got: EngineFacts, expected: ReturnType<typeof referenceFacts>, what: string): void {
  const ours = modelledPart(got);
  expect(ours.detail.length, `${what}: detail rows against the reference`).toBe(expected.detail.length);
  const differing = ours.detail.flatMap((row, i) => (JSON.stringify(row) === JSON.stringify(expected.detail[i]) ? [] : [{ got: row, want: expected.detail[i] }]));
  expect(differing.slice(0, 5), `${what}: detail against the reference (${differing.length} rows differ)`).toEqual([]);
  expect(ours.counts, `${what}: counts against the reference`).toEqual(expected.counts);
  expect(ours.cycles, `${what}: cycles against the reference`).toEqual(expected.cycles);
  expect(ours.rejects, `${what}: rejects against the reference`).toEqual(expected.rejects);
}

describeClickHouse(`ClickHouse differential: ${ROWS} random rows (seed ${SEED}) on DuckDB, ClickHouse on 1 shard and on 2`, (clickhouse: ClickHouseTarget) => {
  const gen = new LogGenerator(SEED);
  const dir = tempDir('convbill-chdiff-');
  let written: Written;
  let calendar: string;
  let expected: ReturnType<typeof referenceFacts>;
  let duck: EngineFacts;
  let twoShards: EngineTarget;
  let twoShardFacts: EngineFacts;
  const options = (inputs: string[], asOfMs: number) => ({
    inputs,
    asOf: iso(asOfMs),
    cycles: { defaultRule: gen.defaultRule, orgRules: gen.orgRules, calendar },
  });

  const implausible = () => written.ref.reduce((n, file) => n + file.rows.filter(isImplausible).length, 0);

  beforeAll(() => {
    const rows = gen.rows(ROWS);
    written = writeFiles(dir, gen, rows);
    calendar = writeCsv(dir, 'cycles.csv', gen.calendarRows, ['org_id', 'cycle_id', 'cycle_start', 'cycle_end']);
    expected = referenceFacts(reference(referenceInput(written.ref, gen, gen.asOfMs)));
  });

  it('the log has what the test claims to cover', () => {
    const total = written.ref.reduce((n, file) => n + file.rows.length, 0) + written.malformed;
    expect(total).toBeGreaterThanOrEqual(ROWS);
    expect(written.malformed).toBeGreaterThan(0);
    expect(implausible()).toBeGreaterThan(0);
    expect(gen.calendarGaps).toBeGreaterThanOrEqual(2);
    const reasons = new Set(Object.keys(expected.rejects).map((key) => key.split(' ')[1]));
    for (const reason of ['missing_integration_id', 'missing_customer_account_id', 'missing_timestamp', 'invalid_timestamp', 'ended_before_started', 'conflicting_customer_account', 'after_as_of']) {
      expect(reasons, reason).toContain(reason);
    }
    expect(expected.detail.some((c) => c.last_activity_at === gen.asOfMs), 'open interactions').toBe(true);
    expect(expected.detail.some((c) => c.last_activity_at === c.cycle_start), 'ends at a cycle start').toBe(true);
    expect(expected.detail.some((c) => c.first_activity_at < c.cycle_start), 'spans cycles').toBe(true);
    expect(new Set(expected.cycles.map((c) => c.org_id)).size).toBe(ORGS.length - 1);
  });

  it('DuckDB gives the reference facts on what it models', async () => {
    const target = newTarget('duckdb');
    await buildOn(target, options(written.inputs, gen.asOfMs));
    duck = await readFacts(target);
    expectReference(duck, expected, 'duckdb');
    // the calendar org: billed, with its gaps rejecting
    expect(duck.detail.some((row) => row.org_id === CALENDAR_ORG)).toBe(true);
    expect(duck.rejected.some((row) => row.org_id === CALENDAR_ORG && row.reason === 'outside_billing_cycles')).toBe(true);
    expect(duck.rejects.malformed_row).toBe(written.malformed);
    expect(duck.rejects.implausible_timestamp).toBe(implausible());
  });

  it('ClickHouse on one shard gives DuckDB\'s facts row for row', async () => {
    const target = newTarget('clickhouse', clickhouse, 'convbill_1shard');
    await buildOn(target, options(written.inputs, gen.asOfMs));
    const facts = await readFacts(target);
    expectSameFacts(facts, duck, 'convbill_1shard');
    expectReference(facts, expected, 'convbill_1shard');
  });

  it('ClickHouse on two shards gives DuckDB\'s facts row for row', async () => {
    twoShards = newTarget('clickhouse', clickhouse, 'convbill_2shards');
    const result = await buildOn(twoShards, options(written.inputs, gen.asOfMs));
    // every (org, cycle) with a conversation is a partition of the first build
    expect(result.plan.partitionsRebuilt).toBe(new Set(duck.detail.map((row) => `${row.org_id}/${row.cycle_id}`)).size);
    if (ROWS >= 50_000) expect(result.plan.partitionsRebuilt).toBeGreaterThan(200);
    twoShardFacts = await readFacts(twoShards);
    expectSameFacts(twoShardFacts, duck, 'convbill_2shards');
    // the facts really are spread over both shards
    const perShard = await rowsPerShard(twoShards, 'fct_billable_conversations_local');
    expect(perShard).toHaveLength(2);
    for (const n of perShard) expect(n).toBeGreaterThan(duck.detail.length / 10);
    expectReference(twoShardFacts, expected, 'convbill_2shards');
  });

  it('the same build again rewrites no partition and changes nothing', async () => {
    const result = await buildOn(twoShards, options(written.inputs, gen.asOfMs));
    expect(result.plan.partitionsRebuilt).toBe(0);
    expectSameFacts(await readFacts(twoShards), twoShardFacts, 'rebuild');
  });

  it('one more file and as-of a day later give the facts of a fresh DuckDB build of all the files', async () => {
    const late = gen.rows(Math.max(500, Math.floor(ROWS / 20)), 0.4);
    const latePath = writeNdjson(dir, 'late.ndjson', late);
    const asOfMs = gen.asOfMs + DAY;
    const inputs = [...written.inputs, latePath];
    const result = await buildOn(twoShards, options(inputs, asOfMs));
    expect(result.plan.partitionsRebuilt).toBeGreaterThan(0);
    const incremental = await readFacts(twoShards);

    const fresh = newTarget('duckdb');
    await buildOn(fresh, options(inputs, asOfMs));
    const full = await readFacts(fresh);
    expectSameFacts(incremental, full, 'incremental ClickHouse against a fresh DuckDB build');
    const refFiles = [...written.ref, { name: 'late.ndjson', rows: late }];
    expectReference(incremental, referenceFacts(reference(referenceInput(refFiles, gen, asOfMs))), 'incremental ClickHouse');
  });
});

/**
 * The partitions a later file empties or brings back, by hand: a conflict that rejects the
 * only interaction of January moves the org's first cycle to March (January's partition is
 * emptied, February's never held a row), then a February interaction fills February again.
 * Each step also equals a fresh DuckDB build of the same files.
 */
describeClickHouse('ClickHouse incremental builds: emptied and refilled partitions', (clickhouse: ClickHouseTarget) => {
  const dir = tempDir('convbill-chparts-');
  const asOf = '2024-03-31T00:00:00Z';
  const row = (id: string, account: string, started: string, ended: string) => ({
    org_id: 'solo', interaction_id: id, integration_id: 'wa-1', customer_account_id: account, started_at: started, ended_at: ended,
  });
  const first = writeCsv(dir, 'first.csv', [
    row('j', 'cust-1', '2024-01-10T09:00:00Z', '2024-01-10T10:00:00Z'),
    row('m', 'cust-2', '2024-03-10T09:00:00Z', '2024-03-10T10:00:00Z'),
  ]);
  const conflict = writeNdjson(dir, 'conflict.ndjson', [
    { org_id: 'solo', interaction_id: 'j', integration_id: 'wa-1', customer_account_id: 'cust-9', occurred_at: '2024-01-11T09:00:00Z' },
  ]);
  const february = writeCsv(dir, 'february.csv', [row('f', 'cust-3', '2024-02-05T09:00:00Z', '2024-02-05T10:00:00Z')]);
  let target: EngineTarget;

  const step = async (inputs: string[], counts: Record<string, number>, rejects: Record<string, number>) => {
    const result = await buildOn(target, { inputs, asOf });
    const facts = await readFacts(target);
    expect(facts.counts).toEqual(counts);
    expect(facts.rejects).toEqual(rejects);
    const fresh = newTarget('duckdb');
    await buildOn(fresh, { inputs, asOf });
    expectSameFacts(facts, await readFacts(fresh), `ClickHouse after ${inputs.length} files against a fresh DuckDB build`);
    return result;
  };

  it('a build, a conflict that empties January, and a file that fills February', async () => {
    target = newTarget('clickhouse', clickhouse, 'convbill_2shards');
    await step([first], { 'solo/2024-01-01': 1, 'solo/2024-02-01': 0, 'solo/2024-03-01': 1 }, {});
    const emptied = await step([first, conflict], { 'solo/2024-03-01': 1 }, { conflicting_customer_account: 2 });
    expect(emptied.plan.partitionsRebuilt).toBe(1);
    const refilled = await step([first, conflict, february], { 'solo/2024-02-01': 1, 'solo/2024-03-01': 1 }, { conflicting_customer_account: 2 });
    expect(refilled.plan.partitionsRebuilt).toBe(1);
  });
});
