/**
 * Nightly builds with as-of moving forward every night, and interactions
 * open at every as-of. Each night as-of moves on (a day and some hours,
 * several days, or onto or just past a cycle boundary of one org), never
 * by nothing and never back, and a file of new rows arrives, or none.
 * The warehouse always holds open interactions: some opened several cycles
 * back and never closed, some opened since the last night, some closed by
 * a later night's row (often with an end before the previous as-of, which
 * brings their conversation's last activity down), some given message
 * rows, which never close them; with them come late rows for old cycles,
 * rows after as-of that a later as-of takes in, rows ending exactly at
 * as-of, conflicts, duplicates and broken rows. After every night the
 * warehouse, its published copy and its Parquet exports must equal a full
 * rebuild of the same files at the same as-of (test/full-rebuild.ts), and
 * the facts of the orgs billed on rules those of the reference
 * (test/reference.ts).
 */
import { describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import { COLUMNS, expectFullRebuildOf, optionsFor } from './full-rebuild.js';
import { mulberry32, rows, seedsFromEnv, tempDir, writeCsv, type InputRow } from './helpers.js';
import { cleanText, reference, ruleCycles, type RefRule } from './reference.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
const NIGHTS = 7;
const ORGS = ['default', 'acme', 'globex', 'initech'] as const;
type Org = (typeof ORGS)[number];
const INTEGRATIONS = [['wa-1', 'whatsapp'], ['wa-2', 'whatsapp'], ['fb-1', 'facebook'], ['x-1', '']] as const;
/** the rules of optionsFor (full-rebuild.ts); initech bills on calendar.csv */
const DEFAULT_RULE: RefRule = { anchorDay: 1, timezone: 'UTC' };
const ORG_RULES: Record<string, RefRule> = {
  acme: { anchorDay: 15, timezone: 'Europe/Paris' },
  globex: { anchorDay: 31, timezone: 'America/New_York' },
};
/** initech's calendar: FY26, a gap in June 2026, FY27 (dates are UTC midnights) */
const CALENDAR = [
  { org_id: 'initech', cycle_start: '2025-06-01', cycle_end: '2026-06-01', cycle_id: 'FY26' },
  { org_id: 'initech', cycle_start: '2026-07-01', cycle_end: '2027-07-01', cycle_id: 'FY27' },
];
const INITECH_BOUNDARIES = CALENDAR.flatMap((cycle) => [Date.parse(cycle.cycle_start), Date.parse(cycle.cycle_end)]);

/** The first cycle boundary of `org` after `ms`. */
function nextBoundary(org: Org, ms: number): number | undefined {
  if (org === 'initech') return INITECH_BOUNDARIES.find((boundary) => boundary > ms);
  const rule = ORG_RULES[org] ?? DEFAULT_RULE;
  return ruleCycles(rule, ms - 40 * DAY, ms + 70 * DAY).map((cycle) => cycle.start).find((start) => start > ms);
}

interface Tracked {
  org: Org;
  integration: string;
  platform: string;
  id: string;
  account: string;
  start: number;
  /** opened several cycles back and never closed: the warehouse always holds open interactions */
  keepOpen: boolean;
  state: 'open' | 'closed' | 'conflict';
  /** the night of its first row */
  night: number;
}

interface Night {
  asOfMs: number;
  /** a row turned an interaction of an earlier night's file into a conflict: the build may start over in full */
  lateConflict: boolean;
  /** how as-of moved from the night before */
  move: 'first' | 'day' | 'days' | 'boundary';
  /** the night's file, or none: an as-of-only night */
  rows: InputRow[] | null;
}

interface Coverage {
  /** closing rows for open interactions ending before the previous as-of */
  closedBeforePrevious: number;
  /** message rows for open interactions */
  messagesForOpen: number;
  /** rows ending exactly at their night's as-of */
  endsAtAsOf: number;
}

function scenario(seed: number): { nights: Night[]; coverage: Coverage } {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => rnd() < p;
  const iso = (ms: number) => new Date(ms).toISOString();
  const coverage: Coverage = { closedBeforePrevious: 0, messagesForOpen: 0, endsAtAsOf: 0 };

  // how as-of moves each night: at least one night onto or past a cycle boundary, at least one night without a file
  const moves: Night['move'][] = ['first', ...Array.from({ length: NIGHTS - 1 }, () => pick(['day', 'day', 'days', 'boundary'] as const))];
  if (!moves.includes('boundary')) moves[1 + int(NIGHTS - 1)] = 'boundary';
  const withoutFile = new Set([2 + int(NIGHTS - 2)]);
  for (let n = 2; n < NIGHTS; n += 1) if (chance(0.12)) withoutFile.add(n);

  const tracked: Tracked[] = [];
  const written: InputRow[] = [];
  let serial = 0;
  let night = 0;
  const newTracked = (org: Org, start: number, keepOpen: boolean, account = `acct-${serial}`): Tracked => {
    const [integration, platform] = pick(INTEGRATIONS);
    serial += 1;
    return { org, integration, platform, id: `i-${serial}`, account, start, keepOpen, state: 'open', night };
  };
  const keys = (t: Tracked): InputRow => ({
    org_id: t.org === 'default' && chance(0.5) ? '' : t.org,
    integration_id: t.integration, interaction_id: t.id, customer_account_id: t.account, platform: t.platform,
  });
  const interactionRow = (t: Tracked, started: number, ended: number | null): InputRow =>
    ({ ...keys(t), started_at: iso(started), ended_at: ended === null ? '' : iso(ended) });
  const messageRow = (t: Tracked, at: number): InputRow => ({ ...keys(t), message_id: `m-${int(1_000_000)}`, occurred_at: iso(at) });
  /** whole seconds between from and to */
  const between = (from: number, to: number) => from + Math.floor((rnd() * (to - from)) / 1000) * 1000;
  const duration = () => pick([5 * 60_000, 40 * 60_000, 3 * HOUR, 2 * DAY, 9 * DAY]) + int(3_600) * 1000;

  const nights: Night[] = [];
  let asOfMs = Date.UTC(2026, 0, 1) + int(300) * DAY + int(86_400) * 1000;
  for (night = 0; night < NIGHTS; night += 1) {
    const previous = night === 0 ? null : asOfMs;
    const move = moves[night] as Night['move'];
    if (move === 'day') asOfMs += DAY + (1 + int(11)) * HOUR + int(3_600) * 1000;
    else if (move === 'days') asOfMs += (2 + int(6)) * DAY + int(24) * HOUR + int(3_600) * 1000;
    else if (move === 'boundary') {
      // onto a cycle start of one org (as-of exactly at it, now and then), or a few hours past it
      const candidates = ORGS.map((org) => nextBoundary(org, asOfMs)).filter((b): b is number => b !== undefined && b - asOfMs < 35 * DAY);
      const boundary = candidates.length > 0 ? pick(candidates) : asOfMs + DAY;
      asOfMs = boundary + (chance(0.3) ? 0 : 1000 + int(6) * HOUR + int(3_600) * 1000);
    }
    if (previous !== null && asOfMs <= previous) throw new Error(`seed ${seed}: as-of did not move forward on night ${night}`);
    if (withoutFile.has(night)) {
      nights.push({ asOfMs, move, lateConflict: false, rows: null });
      continue;
    }
    const out: InputRow[] = [];
    let lateConflict = false;
    const since = previous ?? asOfMs - 2 * DAY;
    if (night === 0) {
      // open since several cycles back, in every org: some never closed, some closed on a later night
      for (const org of ORGS) {
        for (let n = 2 + int(2); n > 0; n -= 1) {
          const t = newTracked(org, asOfMs - (40 + int(110)) * DAY - int(86_400) * 1000, n === 1);
          tracked.push(t);
          out.push(interactionRow(t, t.start, null));
        }
      }
    }
    // opened since the last night, each under an account of its own, open at as-of
    for (let n = 2 + int(3); n > 0; n -= 1) {
      // the first in an org billed on a rule: initech's calendar has a gap, where nothing is billable
      const t = newTracked(n === 1 ? pick(ORGS.slice(0, 3)) : pick(ORGS), between(since + 1000, asOfMs), false);
      tracked.push(t);
      out.push(interactionRow(t, t.start, null));
    }
    // a late row closes open interactions: mostly before the previous as-of, sometimes exactly at it,
    // between the two as-ofs, exactly at as-of or after it (still active)
    const closable = tracked.filter((t) => t.state === 'open' && !t.keepOpen && t.start <= since);
    for (let n = previous === null ? 0 : Math.min(closable.length, 1 + int(3)); n > 0; n -= 1) {
      const t = closable.splice(int(closable.length), 1)[0] as Tracked;
      const r = rnd();
      const end = r < 0.45 ? between(t.start, since) : r < 0.55 ? since : r < 0.75 ? between(since, asOfMs) : r < 0.85 ? asOfMs : asOfMs + int(3 * 86_400) * 1000;
      if (end < since) coverage.closedBeforePrevious += 1;
      if (end === asOfMs) coverage.endsAtAsOf += 1;
      // the closing row starts where the interaction did, or later
      out.push(interactionRow(t, chance(0.5) ? t.start : between(t.start, end), end));
      t.state = 'closed';
    }
    // message rows for open interactions, some after as-of: they never close them
    for (let n = 1 + int(3); n > 0; n -= 1) {
      const open = tracked.filter((t) => t.state === 'open' && t.start <= asOfMs);
      if (open.length === 0) break;
      const t = pick(open);
      out.push(messageRow(t, between(t.start, asOfMs + 2 * DAY)));
      coverage.messagesForOpen += 1;
    }
    // late rows for old cycles, under shared accounts: closed, messages, now and then open since long ago,
    // or an earlier start for an interaction already closed
    for (let n = 2 + int(4); n > 0; n -= 1) {
      const org = pick(ORGS);
      const start = asOfMs - (20 + int(130)) * DAY - int(86_400) * 1000;
      const t = newTracked(org, start, false, `cust-${int(4)}`);
      const r = rnd();
      if (r < 0.55) out.push(interactionRow(t, start, start + duration()));
      else if (r < 0.8) out.push(messageRow(t, start));
      else if (r < 0.9) {
        tracked.push(t);
        out.push(interactionRow(t, start, null));
      } else {
        const closed = tracked.filter((c) => c.state === 'closed');
        const c = closed.length > 0 ? pick(closed) : t;
        out.push(interactionRow(c, c.start - int(20) * DAY - 1000, c.start + HOUR));
      }
    }
    // rows after as-of, which a later as-of takes in: open (tracked) or closed
    for (let n = int(3); n > 0; n -= 1) {
      const t = newTracked(pick(ORGS), asOfMs + 1000 + int(6 * 86_400) * 1000, false);
      if (chance(0.6)) {
        tracked.push(t);
        out.push(interactionRow(t, t.start, null));
      } else out.push(interactionRow(t, t.start, t.start + duration()));
    }
    // ending exactly at as-of: an interaction, or a message (the next nights must keep its conversation, now ended)
    if (night === 0 || chance(0.6)) {
      const t = newTracked(pick(ORGS), asOfMs - (1 + int(30)) * HOUR, false, `cust-${int(4)}`);
      out.push(chance(0.6) ? interactionRow(t, t.start, asOfMs) : messageRow(t, asOfMs));
      coverage.endsAtAsOf += 1;
    }
    // a late row under another account: its interaction's rows are all rejected from now on
    if (chance(0.25)) {
      const victims = tracked.filter((t) => !t.keepOpen && t.state !== 'conflict');
      if (victims.length > 0) {
        const t = pick(victims);
        lateConflict = t.night < night;
        out.push({ ...interactionRow(t, t.start + HOUR, chance(0.5) ? null : t.start + 2 * HOUR), customer_account_id: `${t.account}-other` });
        t.state = 'conflict';
      }
    }
    // a row without an interaction id, a broken row, an exact duplicate of an earlier night's row
    if (chance(0.4)) {
      const t = newTracked(pick(ORGS), between(asOfMs - 40 * DAY, asOfMs), false, `cust-${int(4)}`);
      out.push({ ...interactionRow(t, t.start, chance(0.3) ? null : t.start + duration()), interaction_id: '' });
    }
    if (chance(0.4)) {
      const t = newTracked(pick(ORGS), between(asOfMs - 10 * DAY, asOfMs), false);
      const broken = interactionRow(t, t.start, t.start + HOUR);
      const r = rnd();
      if (r < 0.33) broken.integration_id = ' ';
      else if (r < 0.66) broken.started_at = 'not-a-date';
      else broken.ended_at = iso(t.start - DAY);
      out.push(broken);
    }
    if (written.length > 0 && chance(0.4)) out.push({ ...pick(written) });
    written.push(...out);
    nights.push({ asOfMs, move, lateConflict, rows: out });
  }
  return { nights, coverage };
}

/** The facts of the orgs billed on rules, as the reference computes them from the same files. */
function referenceFacts(files: { name: string; rows: InputRow[] }[], asOfMs: number) {
  const ruled = files.map((file) => ({ name: file.name, rows: file.rows.filter((row) => cleanText(row.org_id) !== 'initech') }));
  return reference({ files: ruled, asOf: new Date(asOfMs).toISOString(), defaultRule: DEFAULT_RULE, orgRules: ORG_RULES });
}

type Row = Record<string, unknown>;
const sortedOn = (items: Row[], columns: string[]): Row[] => {
  const key = (row: Row) => JSON.stringify(columns.map((column) => row[column] ?? null));
  return items.map((row) => Object.fromEntries(columns.map((column) => [column, row[column] ?? null])))
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
};
const CONVERSATION_COLUMNS = ['org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'integration_id', 'platform', 'customer_account_id', 'interaction_count', 'first_activity_at', 'last_activity_at'];
const COUNT_COLUMNS = ['org_id', 'cycle_id', 'cycle_start', 'cycle_end', 'integration_id', 'platform', 'conversations'];
const CYCLE_COLUMNS = ['org_id', 'cycle_id', 'cycle_start', 'cycle_end'];
const conversationKey = (row: Row) => JSON.stringify([row.org_id, row.cycle_start, row.integration_id, row.customer_account_id]);

describe('nightly builds: as-of moves forward every night, with open interactions', () => {
  // NIGHTLY_SEEDS=1-20 (or 7,9) runs other seeds
  for (const seed of seedsFromEnv(process.env.NIGHTLY_SEEDS) ?? [31, 32, 33]) {
    it(`seed ${seed}: every night's facts, published copy and exports equal a full rebuild at that as-of, and the reference's`, async () => {
      const dir = tempDir(`convbill-nightly-as-of-${seed}-`);
      writeCsv(dir, 'calendar.csv', CALENDAR);
      writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-2', platform: 'whatsapp', org_id: '', name: 'Support' }]);
      const { nights, coverage } = scenario(seed);
      const files: { name: string; path: string; rows: InputRow[] }[] = [];
      const reasons: string[] = [];
      let previous: { asOfMs: number; conversations: Row[] } | undefined;
      const seen = { lastActivityDown: 0, oldCycleChanged: 0, cycleAdded: 0, afterAsOfTakenIn: 0 };
      let afterAsOfBefore = new Set<string>();
      for (const [index, night] of nights.entries()) {
        const label = `seed ${seed}, night ${index} (as-of ${new Date(night.asOfMs).toISOString()}, ${night.move}, ${night.rows ? `${night.rows.length} rows` : 'no file'})`;
        if (previous) expect(night.asOfMs, label).toBeGreaterThan(previous.asOfMs);
        const input: string[] = [];
        if (night.rows) {
          const name = `night-${String(index).padStart(2, '0')}.csv`;
          const path = writeCsv(dir, name, night.rows, COLUMNS);
          files.push({ name, path, rows: night.rows });
          input.push(path);
        }
        const nightly = await build(optionsFor(dir, 'nightly', input, night.asOfMs, false));
        reasons.push(nightly.plan.reason);
        const { db: full, expected } = await expectFullRebuildOf(dir, files.map((file) => file.path), night.asOfMs, label);

        // not vacuous: interactions open at as-of, some opened several cycles back, and (on a night with a
        // file) some opened since the night before; each has a conversation whose last activity is as-of
        const asOf = `'${new Date(night.asOfMs).toISOString()}'::timestamptz`;
        const [open] = await rows(full, `
          select count(*)::integer as open,
                 count(*) filter (where first_activity_at < ${asOf} - interval 40 days)::integer as long_open
          from fct_billable_conversations where last_activity_at = ${asOf}`);
        expect(open?.open, `${label}: conversations open at as-of`).toBeGreaterThan(0);
        expect(open?.long_open, `${label}: conversations open since several cycles back`).toBeGreaterThan(0);
        if (previous && night.rows) {
          const [recent] = await rows(full, `
            select count(*)::integer as n from fct_billable_conversations
            where last_activity_at = ${asOf} and first_activity_at > '${new Date(previous.asOfMs).toISOString()}'::timestamptz`);
          expect(recent?.n, `${label}: conversations opened since the last night and open at as-of`).toBeGreaterThan(0);
        }

        // the rule orgs' facts are the reference's
        const ruled = (items: unknown[]) => (items as Row[]).filter((row) => row.org_id !== 'initech');
        const ref = referenceFacts(files, night.asOfMs);
        expect(sortedOn(ruled(expected.fct_billable_conversations ?? []), CONVERSATION_COLUMNS), `${label}: conversations, reference`)
          .toEqual(sortedOn(ref.conversations as unknown as Row[], CONVERSATION_COLUMNS));
        expect(sortedOn(ruled(expected.fct_conversation_counts ?? []), COUNT_COLUMNS), `${label}: counts, reference`)
          .toEqual(sortedOn(ref.counts as unknown as Row[], COUNT_COLUMNS));
        expect(sortedOn(ruled(expected.dim_billing_cycles ?? []), CYCLE_COLUMNS), `${label}: cycles, reference`)
          .toEqual(sortedOn(ref.cycles as unknown as Row[], CYCLE_COLUMNS));

        // what the night did to the facts, for the coverage checks below
        const conversations = expected.fct_billable_conversations as Row[];
        const rejectedRow = (row: Row) => `${row.source_file}#${row.source_row}`;
        const rejected = new Set((expected.rejected_interactions as Row[]).map(rejectedRow));
        const afterAsOf = new Set((expected.rejected_interactions as Row[]).filter((row) => row.reason === 'after_as_of').map(rejectedRow));
        if (previous) {
          const before = new Map(previous.conversations.map((row) => [conversationKey(row), row]));
          const previousAsOf = new Date(previous.asOfMs).toISOString().replace('.000Z', 'Z');
          for (const row of conversations) {
            const earlier = before.get(conversationKey(row));
            // open at the last as-of, now ended before it: its last activity went down
            if (earlier?.last_activity_at === previousAsOf && Date.parse(String(row.last_activity_at)) < previous.asOfMs) seen.lastActivityDown += 1;
            // a cycle that had ended by the last as-of gained or changed a conversation
            if (Date.parse(String(row.cycle_end)) <= previous.asOfMs && JSON.stringify(earlier) !== JSON.stringify(row)) seen.oldCycleChanged += 1;
          }
          const cycleStarts = new Set(previous.conversations.map((row) => `${row.org_id} ${row.cycle_start}`));
          if (conversations.some((row) => !cycleStarts.has(`${row.org_id} ${row.cycle_start}`) && Date.parse(String(row.cycle_start)) > previous!.asOfMs)) seen.cycleAdded += 1;
          // a row rejected as after_as_of last night, accepted now
          if ([...afterAsOfBefore].some((row) => !rejected.has(row))) seen.afterAsOfTakenIn += 1;
        }
        afterAsOfBefore = afterAsOf;
        previous = { asOfMs: night.asOfMs, conversations };
      }
      // every night after the first was built incrementally, as-of-only nights included, but for a night whose
      // late row made an interaction of earlier files a conflict: its earlier rows are rejected by a full refresh
      expect(reasons[0]).toBe('no earlier build');
      const lateConflictRefresh = 'a late row made an interaction of earlier loads a conflict, whose rows only a full refresh rereads';
      expect(reasons.slice(1), `seed ${seed}: plans`)
        .toEqual(nights.slice(1).map((night, n) => (night.lateConflict && reasons[n + 1] === lateConflictRefresh ? lateConflictRefresh : 'incremental')));
      expect(reasons.filter((reason) => reason === 'incremental').length, `seed ${seed}: incremental nights`).toBeGreaterThan(0);
      expect(nights.some((night) => night.rows === null), 'an as-of-only night').toBe(true);
      expect(coverage.closedBeforePrevious, 'closing rows ending before the previous as-of').toBeGreaterThan(0);
      expect(coverage.messagesForOpen, 'message rows for open interactions').toBeGreaterThan(0);
      expect(coverage.endsAtAsOf, 'rows ending exactly at as-of').toBeGreaterThan(0);
      expect(seen.lastActivityDown, "a conversation's last activity went down").toBeGreaterThan(0);
      expect(seen.oldCycleChanged, 'late rows changed a cycle that had ended').toBeGreaterThan(0);
      expect(seen.cycleAdded, 'as-of moved into a new cycle').toBeGreaterThan(0);
      expect(seen.afterAsOfTakenIn, 'rows after as-of taken in by a later as-of').toBeGreaterThan(0);
    }, 240_000);
  }
});

/**
 * The smallest cases of the random test above: a conversation whose last
 * activity is exactly an earlier night's as-of. At that night it was still
 * going (last activity >= as-of); once as-of has moved on it has ended, with
 * nothing about it changed.
 */
describe('nightly builds: a conversation that ended exactly at an earlier night\'s as-of', () => {
  const talk = (id: string, account: string, started: string, ended: string): InputRow => ({
    org_id: 'default', integration_id: 'wa-1', interaction_id: id, customer_account_id: account, platform: 'whatsapp',
    started_at: started, ended_at: ended,
  });
  const nights = async (steps: { asOf: string; rows?: InputRow[] }[]) => {
    const dir = tempDir('convbill-nightly-edge-');
    writeCsv(dir, 'calendar.csv', CALENDAR);
    writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-2', platform: 'whatsapp', org_id: '', name: 'Support' }]);
    const files: string[] = [];
    for (const [index, step] of steps.entries()) {
      const input = step.rows ? [writeCsv(dir, `night-${index}.csv`, step.rows, COLUMNS)] : [];
      files.push(...input);
      const nightly = await build(optionsFor(dir, 'nightly', input, Date.parse(step.asOf), false));
      expect(nightly.plan.reason, `night ${index}`).toBe(index === 0 ? 'no earlier build' : 'incremental');
      await expectFullRebuildOf(dir, files, Date.parse(step.asOf), `night ${index} (as-of ${step.asOf})`);
    }
  };

  it('an interaction that ends at as-of, and the next night an open one of the same cycle goes on', async () => {
    await nights([
      { asOf: '2026-03-10T00:00:00Z', rows: [talk('a', 'c1', '2026-03-05T10:00:00Z', '2026-03-10T00:00:00Z'), talk('b', 'c2', '2026-03-05T10:00:00Z', '')] },
      { asOf: '2026-03-11T05:00:00Z' },
    ]);
  });

  it('an open interaction closed by a later row that ends at the previous as-of', async () => {
    await nights([
      { asOf: '2026-03-10T00:00:00Z', rows: [talk('a', 'c1', '2026-03-05T10:00:00Z', ''), talk('b', 'c2', '2026-03-05T10:00:00Z', '')] },
      { asOf: '2026-03-11T05:00:00Z', rows: [talk('a', 'c1', '2026-03-05T10:00:00Z', '2026-03-10T00:00:00Z')] },
    ]);
  });

  it('an interaction that ends at as-of, a night that leaves its cycle alone, then an open interaction in that cycle', async () => {
    await nights([
      { asOf: '2026-03-10T00:00:00Z', rows: [talk('a', 'c1', '2026-03-05T10:00:00Z', '2026-03-10T00:00:00Z')] },
      { asOf: '2026-03-11T05:00:00Z' },
      { asOf: '2026-03-12T00:00:00Z', rows: [talk('b', 'c2', '2026-03-11T10:00:00Z', '')] },
    ]);
  });
});
