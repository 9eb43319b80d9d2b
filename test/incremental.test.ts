/**
 * Incremental builds equal full rebuilds. Random sequences of loads — late
 * rows for old cycles, rows that close open interactions, conflicts arriving
 * late, duplicates, a file loaded twice, a file replaced, as-of moving on
 * (and, now and then, back) — are built step by step into one warehouse;
 * after every step its marts, Parquet exports and published copy must equal
 * a full rebuild of the same files into a fresh database.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import { COLUMNS, expectFullRebuildOf, optionsFor } from './full-rebuild.js';
import { mulberry32, rows, seedsFromEnv, tempDir, writeCsv, type InputRow } from './helpers.js';

const DAY = 86_400_000;
const ORGS = ['default', 'acme', 'globex', 'initech'];
const INTEGRATIONS = [['wa-1', 'whatsapp'], ['wa-2', 'whatsapp'], ['fb-1', 'facebook'], ['x-1', '']] as const;

interface Step {
  asOfMs: number;
  action: 'new_file' | 'same_file_again' | 'replace_file' | 'nothing';
  fullRefresh: boolean;
}

function scenario(seed: number) {
  const rnd = mulberry32(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const chance = (p: number) => rnd() < p;
  const startMs = Date.UTC(2026, 0, 1) + int(300) * DAY;
  const earlier: InputRow[] = [];
  const accountOf = new Map<string, string>();
  const iso = (ms: number) => new Date(ms).toISOString();

  const row = (asOfMs: number): InputRow => {
    if (earlier.length > 0 && chance(0.06)) return { ...pick(earlier) }; // an exact duplicate
    const org = pick(ORGS);
    const [integration, platform] = pick(INTEGRATIONS);
    const key = `${org}/${integration}/i-${int(8)}`;
    const interactionId = chance(0.06) ? '' : key.split('/')[2];
    let account = accountOf.get(key) ?? `cust-${int(6)}`;
    if (chance(0.05)) account = `other-${int(3)}`; // a conflict, perhaps with a much older row
    accountOf.set(key, account);
    // mostly recent activity, some late rows for old cycles, a few after as-of
    const base = chance(0.2) ? asOfMs - int(150) * DAY : chance(0.08) ? asOfMs + int(5) * DAY : asOfMs - int(20) * DAY;
    const start = base + int(86_400) * 1000;
    // now and then a row says another platform, which reprices its integration (the first in alphabetical order wins)
    const said = chance(0.03) ? 'apple' : platform;
    const out: InputRow = { org_id: org === 'default' && chance(0.5) ? '' : org, integration_id: integration, interaction_id: interactionId, customer_account_id: account, platform: said };
    if (chance(0.3)) {
      out.occurred_at = iso(start);
      out.message_id = `m-${int(1000)}`;
    } else {
      out.started_at = iso(start);
      // open about one time in six; durations from minutes to weeks
      out.ended_at = chance(0.17) ? '' : iso(start + pick([5 * 60_000, 3 * 3_600_000, 2 * DAY, 20 * DAY]) * (0.5 + rnd()));
    }
    const bad = rnd();
    if (bad < 0.02) out.integration_id = ' ';
    else if (bad < 0.04) out[out.started_at !== undefined ? 'started_at' : 'occurred_at'] = 'not-a-date';
    else if (bad < 0.06 && out.started_at) out.ended_at = iso(start - DAY);
    earlier.push(out);
    return out;
  };

  const steps: Step[] = [];
  let asOfMs = startMs;
  for (let index = 0; index < 8; index += 1) {
    if (index > 0) asOfMs = chance(0.06) ? asOfMs - int(15) * DAY : asOfMs + pick([0, 1, 1, 3, 20, 40]) * DAY + int(3_600) * 1000;
    const action = index === 0 ? 'new_file' : pick(['new_file', 'new_file', 'new_file', 'same_file_again', 'replace_file', 'nothing'] as const);
    steps.push({ asOfMs, action, fullRefresh: index > 0 && chance(0.05) });
  }
  return { steps, row, int };
}

describe('incremental builds', () => {
  // INCR_SEEDS=1-40 (or 7,9) runs other seeds; file-versions.test.ts runs 50 seeds of file events
  for (const seed of seedsFromEnv(process.env.INCR_SEEDS) ?? [11, 12]) {
    it(`seed ${seed}: after every load and build, the warehouse equals a full rebuild of the same files`, async () => {
      const dir = tempDir();
      // initech bills on an explicit calendar with a gap (outside_billing_cycles)
      writeCsv(dir, 'calendar.csv', [
        { org_id: 'initech', cycle_start: '2025-06-01', cycle_end: '2026-06-01', cycle_id: 'FY26' },
        { org_id: 'initech', cycle_start: '2026-07-01', cycle_end: '2027-07-01', cycle_id: 'FY27' },
      ]);
      writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-2', platform: 'whatsapp', org_id: '', name: 'Support' }]);
      const { steps, row, int } = scenario(seed);
      const files: string[] = [];
      const plans: string[] = [];
      for (const [index, step] of steps.entries()) {
        let input: string[] = [];
        if (step.action === 'new_file') {
          const path = writeCsv(dir, `logs-${index}.csv`, Array.from({ length: 8 + int(20) }, () => row(step.asOfMs)), COLUMNS);
          files.push(path);
          input = [path];
        } else if (step.action === 'same_file_again') {
          input = [files[int(files.length)] as string];
        } else if (step.action === 'replace_file') {
          // a corrected export at the same path: some rows dropped, others added
          const path = files[int(files.length)] as string;
          writeCsv(dir, path.slice(dir.length + 1), Array.from({ length: 5 + int(10) }, () => row(step.asOfMs)), COLUMNS);
          input = [path];
        }
        const incremental = await build(optionsFor(dir, 'nightly', input, step.asOfMs, step.fullRefresh));
        plans.push(incremental.plan.reason);
        await expectFullRebuildOf(dir, files, step.asOfMs, `seed ${seed}, step ${index} (${step.action}${step.fullRefresh ? ', full refresh' : ''})`);
      }
      // the sequence exercised the incremental path, not only full refreshes
      expect(plans).toContain('incremental');
      expect(existsSync(join(dir, 'nightly_runs', 'run_results.json'))).toBe(true);
    }, 180_000);
  }

  it('an org whose history starts earlier in a night gains the cycles before its first; a conflict does not move its start (int_integration_starts)', async () => {
    const dir = tempDir();
    writeCsv(dir, 'calendar.csv', [{ org_id: 'initech', cycle_start: '2025-06-01', cycle_end: '2026-06-01', cycle_id: 'FY26' }]);
    writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-2', platform: 'whatsapp', org_id: '', name: 'Support' }]);
    const talk = (id: string, day: string, account = `cust-${id}`): InputRow => ({
      org_id: 'acme', integration_id: 'wa-1', interaction_id: id, customer_account_id: account,
      started_at: `${day}T10:00:00Z`, ended_at: `${day}T11:00:00Z`,
    });
    const cycleIds = async () =>
      (await rows(join(dir, 'nightly_published.duckdb'), `select cycle_id from dim_billing_cycles where org_id = 'acme' order by cycle_start`))
        .map((row) => row.cycle_id);
    const asOfMs = Date.UTC(2026, 2, 1);
    const files = [writeCsv(dir, 'history.csv', [talk('a', '2026-02-20')], COLUMNS)];
    await build(optionsFor(dir, 'nightly', files, asOfMs, false));
    expect(await cycleIds()).toEqual(['2026-02-15']);
    // a late row from before the first cycle: the start moves back, incrementally
    files.push(writeCsv(dir, 'late.csv', [talk('b', '2026-01-05')], COLUMNS));
    expect((await build(optionsFor(dir, 'nightly', files.slice(-1), asOfMs, false))).plan.reason).toBe('incremental');
    await expectFullRebuildOf(dir, files, asOfMs, 'a late row before the first cycle');
    expect(await cycleIds()).toEqual(['2025-12-15', '2026-01-15', '2026-02-15']);
    // a night of later rows leaves the start where it was
    files.push(writeCsv(dir, 'later.csv', [talk('d', '2026-02-25')], COLUMNS));
    expect((await build(optionsFor(dir, 'nightly', files.slice(-1), asOfMs, false))).plan.reason).toBe('incremental');
    await expectFullRebuildOf(dir, files, asOfMs, 'a night of later rows');
    expect(await cycleIds()).toEqual(['2025-12-15', '2026-01-15', '2026-02-15']);
    // an interaction earlier still, but a conflict within the night: no say in the start
    files.push(writeCsv(dir, 'conflict.csv', [talk('c', '2025-11-20'), talk('c', '2025-11-20', 'cust-other')], COLUMNS));
    expect((await build(optionsFor(dir, 'nightly', files.slice(-1), asOfMs, false))).plan.reason).toBe('incremental');
    await expectFullRebuildOf(dir, files, asOfMs, 'a conflict before the first cycle');
    expect(await cycleIds()).toEqual(['2025-12-15', '2026-01-15', '2026-02-15']);
    // the interaction holding the start turns into a conflict: the start moves forward again
    files.push(writeCsv(dir, 'turned.csv', [talk('b', '2026-01-05', 'cust-other')], COLUMNS));
    await build(optionsFor(dir, 'nightly', files.slice(-1), asOfMs, false));
    await expectFullRebuildOf(dir, files, asOfMs, 'the earliest interaction turned into a conflict');
    expect(await cycleIds()).toEqual(['2026-02-15']);
  });

  it('a platform change, from the integrations reference or from new rows, relabels every cycle of the integration without a recount', async () => {
    const dir = tempDir();
    writeCsv(dir, 'calendar.csv', [{ org_id: 'initech', cycle_start: '2025-06-01', cycle_end: '2026-06-01', cycle_id: 'FY26' }]);
    writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-2', platform: 'whatsapp', org_id: '', name: 'Support' }]);
    const talk = (integration: string, id: string, day: string, platform: string): InputRow => ({
      org_id: 'acme', integration_id: integration, interaction_id: id, customer_account_id: `cust-${id}`, platform,
      started_at: `${day}T10:00:00Z`, ended_at: `${day}T11:00:00Z`,
    });
    const history = writeCsv(dir, 'history.csv', [
      talk('wa-1', 'a', '2026-01-20', 'whatsapp'), talk('wa-1', 'b', '2026-02-20', 'whatsapp'),
      talk('fb-1', 'c', '2026-01-21', 'facebook'), talk('fb-1', 'd', '2026-02-21', 'facebook'),
    ], COLUMNS);
    const asOfMs = Date.UTC(2026, 2, 1);
    await build(optionsFor(dir, 'nightly', [history], asOfMs, false));
    const platforms = async () => rows(join(dir, 'nightly_published.duckdb'),
      `select integration_id, cycle_id, platform from fct_billable_conversations order by all`);
    // the reference now names wa-1's platform; no new rows
    writeCsv(dir, 'integrations.csv', [
      { integration_id: 'wa-2', platform: 'whatsapp', org_id: '', name: 'Support' },
      { integration_id: 'wa-1', platform: 'sms', org_id: 'acme', name: 'Texts' },
    ]);
    expect((await build(optionsFor(dir, 'nightly', [], asOfMs, false))).plan.reason).toBe('incremental');
    await expectFullRebuildOf(dir, [history], asOfMs, 'wa-1 repriced by the reference');
    // a row naming a platform that sorts first reprices fb-1 in the cycles before it too
    const late = writeCsv(dir, 'late.csv', [talk('fb-1', 'e', '2026-02-25', 'apple')], COLUMNS);
    expect((await build(optionsFor(dir, 'nightly', [late], asOfMs, false))).plan.reason).toBe('incremental');
    await expectFullRebuildOf(dir, [history, late], asOfMs, 'fb-1 repriced by a row');
    expect(await platforms()).toEqual([
      { integration_id: 'fb-1', cycle_id: '2026-01-15', platform: 'apple' },
      { integration_id: 'fb-1', cycle_id: '2026-02-15', platform: 'apple' },
      { integration_id: 'fb-1', cycle_id: '2026-02-15', platform: 'apple' },
      { integration_id: 'wa-1', cycle_id: '2026-01-15', platform: 'sms' },
      { integration_id: 'wa-1', cycle_id: '2026-02-15', platform: 'sms' },
    ]);
  });
});
