/**
 * Restatements: every build records the counts it changed, and `diff`
 * names what changed between two builds, by how much, and why: a late
 * file, a full refresh, or a later as-of carrying an open interaction.
 */
import { spawnSync } from 'node:child_process';
import { basename, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/engine/errors.js';
import { diffRuns } from '../src/read/diff.js';
import { type InputRow, buildFacts, rows, tempDir, writeCsv } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');

const talk = (integration: string, account: string, start: string, end: string | null = null): InputRow => ({
  interaction_id: `${integration}-${account}-${start}`,
  integration_id: integration,
  customer_account_id: account,
  started_at: start,
  ended_at: end ?? '',
});

function changes(diff: Awaited<ReturnType<typeof diffRuns>>) {
  return diff.changes;
}

describe('restatements: count history and convbill diff', () => {
  it('a late file: diff lists the changed count, by how much, and the file behind it', async () => {
    const dir = tempDir();
    const first = writeCsv(dir, 'day-1.csv', [talk('wa-1', 'a', '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z'), talk('sms-1', 'b', '2024-02-03T10:00:00Z', '2024-02-03T11:00:00Z')]);
    const built = await buildFacts({ dir, inputs: [first], asOf: '2024-02-10T00:00:00Z' });
    const late = writeCsv(dir, 'late.csv', [talk('wa-1', 'c', '2024-01-20T10:00:00Z', '2024-01-20T11:00:00Z'), talk('wa-1', 'd', '2024-01-21T10:00:00Z', '2024-01-21T11:00:00Z')]);
    await buildFacts({ dir, inputs: [late], asOf: '2024-02-10T00:00:00Z' });
    const diff = await diffRuns({ db: built.db });
    expect([diff.from, diff.to]).toEqual([1, 2]);
    expect(changes(diff).map((change) => ({ ...change, caused_by: basename(String(change.caused_by)) }))).toEqual([
      { org_id: 'default', cycle_id: '2024-01-01', integration_id: 'wa-1', platform: 'unknown', conversations_before: 1, conversations_after: 3, change: 2, caused_by: 'late.csv' },
    ]);
    // the first build changed every count from nothing
    expect(changes(await diffRuns({ db: built.db, from: 0, to: 1 })).map((change) => [change.integration_id, change.change])).toEqual([
      ['wa-1', 1],
      ['sms-1', 1],
    ]);
    // the history is in the database and in the published copy
    expect(await rows(built.db, `select run_id, integration_id, conversations_before, conversations_after from convbill_count_changes order by all`)).toEqual([
      { run_id: 1, integration_id: 'sms-1', conversations_before: 0, conversations_after: 1 },
      { run_id: 1, integration_id: 'wa-1', conversations_before: 0, conversations_after: 1 },
      { run_id: 2, integration_id: 'wa-1', conversations_before: 1, conversations_after: 3 },
    ]);
    expect(await rows(built.result.publishedDb as string, `select count(*)::integer as n from convbill_count_changes`)).toEqual([{ n: 3 }]);
  });

  it('an open interaction carried into a new cycle by a later as-of, and a full refresh, are named as causes', async () => {
    const dir = tempDir();
    const logs = writeCsv(dir, 'logs.csv', [talk('wa-1', 'a', '2024-01-30T10:00:00Z')]);
    const built = await buildFacts({ dir, inputs: [logs], asOf: '2024-01-31T00:00:00Z' });
    await buildFacts({ dir, inputs: [logs], asOf: '2024-02-02T00:00:00Z' });
    expect(changes(await diffRuns({ db: built.db })).map((change) => [change.cycle_id, change.change, change.caused_by])).toEqual([
      ['2024-02-01', 1, 'no new rows: a later as-of carried open interactions into this cycle'],
    ]);
    const integrations = writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-1', platform: 'whatsapp' }]);
    await buildFacts({ dir, inputs: [logs], asOf: '2024-02-02T00:00:00Z', integrations });
    // a new platform changes no count: nothing to list
    expect(changes(await diffRuns({ db: built.db }))).toEqual([]);
    const more = writeCsv(dir, 'more.csv', [talk('wa-1', 'b', '2024-01-05T10:00:00Z', '2024-01-05T11:00:00Z')]);
    const cycles = writeCsv(dir, 'cycles.csv', [
      { org_id: 'default', cycle_start: '2024-01-01', cycle_end: '2024-02-01' },
      { org_id: 'default', cycle_start: '2024-02-01', cycle_end: '2024-03-01' },
    ]);
    await buildFacts({ dir, inputs: [more], asOf: '2024-02-02T00:00:00Z', integrations, cycles: { calendar: cycles } });
    const [change] = changes(await diffRuns({ db: built.db }));
    expect(change).toMatchObject({ cycle_id: '2024-01-01', change: 1 });
    expect(String(change?.caused_by)).toMatch(/^full refresh in run 4 \(.+\)$/);
  });

  it('bad run ids are usage errors; the command prints the diff', async () => {
    const dir = tempDir();
    const logs = writeCsv(dir, 'logs.csv', [talk('wa-1', 'a', '2024-01-10T10:00:00Z', '2024-01-10T11:00:00Z')]);
    const built = await buildFacts({ dir, inputs: [logs], asOf: '2024-02-01T00:00:00Z' });
    await expect(diffRuns({ db: built.db, from: 1, to: 7 })).rejects.toThrow(ConfigError);
    await expect(diffRuns({ db: built.db, from: 1, to: 1 })).rejects.toThrow(/--from \(1\) must be an earlier run than --to \(1\)/);
    const late = writeCsv(dir, 'late.csv', [talk('wa-1', 'b', '2024-01-11T10:00:00Z', '2024-01-11T11:00:00Z')]);
    await buildFacts({ dir, inputs: [late], asOf: '2024-02-01T00:00:00Z' });
    const run = spawnSync(process.execPath, [cliPath, 'diff', '--db', built.db, '--format', 'csv'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('org_id,cycle_id,integration_id,platform,conversations_before,conversations_after,change,caused_by');
    expect(run.stdout).toContain(`default,2024-01-01,wa-1,unknown,1,2,1,${late}`);
    const bad = spawnSync(process.execPath, [cliPath, 'diff', '--db', built.db, '--from', 'x'], { encoding: 'utf8' });
    expect([bad.status, bad.stderr]).toEqual([2, 'convbill: Option --from must be a run id (see "convbill runs"), not "x".\n']);
  });
});
