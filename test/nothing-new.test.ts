/**
 * Nights that bring little: a file whose stat is the one recorded when it
 * was last hashed is not read again; a build with no new file, the same
 * as-of and the same references is up to date and writes no fact, no
 * export; an as-of one day later rewrites only the partitions whose facts
 * changed, and the run history says which files of each it wrote.
 */
import { readFileSync, readlinkSync, utimesSync, statSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { rows, tempDir, writeCsv, type InputRow } from './helpers.js';

const COLUMNS = ['org_id', 'interaction_id', 'integration_id', 'customer_account_id', 'started_at', 'ended_at'];

function options(dir: string, inputs: string[], asOf: string): BuildOptions {
  return {
    db: join(dir, 'convbill.duckdb'),
    parquetDir: join(dir, 'convbill_parquet'),
    sources: [],
    inputs,
    cycles: { defaultRule: { anchorDay: 1, timezone: 'UTC' }, orgRules: {} },
    asOf,
  };
}

/** One closed interaction per month from January to May 2026, and one opened in May still going. */
function history(): InputRow[] {
  const closed = [1, 2, 3, 4, 5].map((month) => ({
    org_id: 'acme', interaction_id: `i-${month}`, integration_id: 'wa-1', customer_account_id: `c-${month}`,
    started_at: `2026-0${month}-10T09:00:00Z`, ended_at: `2026-0${month}-10T10:00:00Z`,
  }));
  return [...closed, {
    org_id: 'acme', interaction_id: 'open', integration_id: 'wa-1', customer_account_id: 'c-open', started_at: '2026-05-12T09:00:00Z', ended_at: '',
  }];
}

// a file changed within two seconds of a build is read again by the next one (ingest.ts: "racily clean")
const settle = () => sleep(2_100);

describe('nothing new', () => {
  it('a file whose stat is unchanged is not read again; one edited in place is, even with its size and modification time put back', async () => {
    const dir = tempDir();
    const file = writeCsv(dir, 'logs.csv', history(), COLUMNS);
    await settle();
    const first = await build(options(dir, [file], '2026-05-20T00:00:00Z'));
    expect(first.ingest.files).toMatchObject([{ event: 'loaded', read: true }]);
    const again = await build(options(dir, [file], '2026-05-21T00:00:00Z'));
    expect(again.ingest.files).toMatchObject([{ event: 'unchanged', read: false }]);

    // the same bytes but one account: same size, and the modification time restored
    const before = statSync(file);
    writeFileSync(file, readFileSync(file, 'utf8').replace('c-1,', 'c-9,'));
    utimesSync(file, before.atime, before.mtime);
    expect(statSync(file).size).toBe(before.size);
    const edited = await build(options(dir, [file], '2026-05-21T00:00:00Z'));
    expect(edited.ingest.files).toMatchObject([{ event: 'loaded', read: true }]);
    expect(await rows(edited.db, `select customer_account_id from fct_billable_conversations where cycle_start = timestamptz '2026-01-01' order by 1`))
      .toEqual([{ customer_account_id: 'c-9' }]);
  }, 60_000);

  it('a file written within two seconds of a build is read again by the next build', async () => {
    const dir = tempDir();
    const file = writeCsv(dir, 'logs.csv', history(), COLUMNS);
    await build(options(dir, [file], '2026-05-20T00:00:00Z'));
    const next = await build(options(dir, [file], '2026-05-21T00:00:00Z'));
    expect(next.ingest.files).toMatchObject([{ event: 'unchanged', read: true }]);
  });

  it('no new file, the same as-of and references: up to date, nothing written but the run; a later as-of, a new file or missing outputs build again', async () => {
    const dir = tempDir();
    const file = writeCsv(dir, 'logs.csv', history(), COLUMNS);
    await settle();
    const first = await build(options(dir, [file], '2026-05-20T00:00:00Z'));
    const version = readlinkSync(join(dir, 'convbill_parquet'));
    const facts = await rows(first.db, `select * from fct_billable_conversations order by all`);

    const same = await build(options(dir, [file], '2026-05-20T00:00:00Z'));
    expect(same.plan).toMatchObject({
      fullRefresh: false, reason: `up to date: no new file, and the as-of and references of run ${first.runId}`, partitionsRebuilt: 0,
    });
    expect(same.timings.map((timing) => timing.name).filter((name) => !name.startsWith('phase:'))).toEqual([]);
    expect(readlinkSync(join(dir, 'convbill_parquet'))).toBe(version);
    expect(await rows(first.db, `select * from fct_billable_conversations order by all`)).toEqual(facts);
    // readers' run history shows the run
    expect(await rows(join(dir, 'convbill_published.duckdb'), `select max(run_id) as run, count(*) filter (where status = 'success') as ok from convbill_runs`))
      .toEqual([{ run: same.runId, ok: 2 }]);

    // other references are something new
    writeCsv(dir, 'integrations.csv', [{ integration_id: 'wa-1', platform: 'whatsapp' }]);
    const referenced = await build({ ...options(dir, [file], '2026-05-20T00:00:00Z'), integrations: join(dir, 'integrations.csv') });
    expect(referenced.plan.reason).toBe('incremental');
    expect((await build({ ...options(dir, [file], '2026-05-20T00:00:00Z'), integrations: join(dir, 'integrations.csv') })).plan.reason)
      .toMatch(/^up to date/);

    // a published copy gone is rebuilt
    unlinkSync(join(dir, 'convbill_published.duckdb'));
    const restored = await build({ ...options(dir, [file], '2026-05-20T00:00:00Z'), integrations: join(dir, 'integrations.csv') });
    expect(restored.plan.reason).toBe('incremental');
    expect(await rows(join(dir, 'convbill_published.duckdb'), `select count(*) as n from fct_billable_conversations`)).toEqual([{ n: facts.length }]);
  }, 60_000);

  it('as-of one day later: only the partitions whose facts changed are rewritten, and the run history says which files of each', async () => {
    const dir = tempDir();
    const file = writeCsv(dir, 'logs.csv', history(), COLUMNS);
    const first = await build(options(dir, [file], '2026-05-20T00:00:00Z'));
    expect(first.plan.partitionsRebuilt).toBe(5);
    const next = await build(options(dir, [file], '2026-05-21T00:00:00Z'));
    // the open interaction's May conversation: its last activity is as-of; the other months are settled
    expect(next.plan).toMatchObject({ fullRefresh: false, reason: 'incremental', partitionsRebuilt: 1 });
    expect(await rows(next.db, `select cycle_id, conversations, counts_changed, settled_files from convbill_run_partitions where run_id = ${next.runId}`))
      .toEqual([{ cycle_id: '2026-05-01', conversations: 2, counts_changed: false, settled_files: 'kept' }]);
    const files = (await rows(next.db, `select file from glob('${join(dir, 'convbill_parquet')}/fct_billable_conversations/*/cycle=2026-05-01/*.parquet')`))
      .map((row) => String(row.file).split('/').pop());
    expect(files.sort()).toEqual([`active_r${next.runId}_0.parquet`, `settled_0.parquet`]);

    // into June: the open interaction reaches a new cycle; its May conversation is still active (its last activity is as-of)
    const june = await build(options(dir, [file], '2026-06-02T00:00:00Z'));
    expect(await rows(june.db, `select cycle_id, counts_changed, settled_files from convbill_run_partitions where run_id = ${june.runId} order by 1`))
      .toEqual([
        { cycle_id: '2026-05-01', counts_changed: false, settled_files: 'kept' },
        { cycle_id: '2026-06-01', counts_changed: true, settled_files: 'kept' },
      ]);
    // a late row closes it on 25 May: May's conversation settles, June's goes
    const closing = writeCsv(dir, 'closing.csv', [{
      org_id: 'acme', interaction_id: 'open', integration_id: 'wa-1', customer_account_id: 'c-open',
      started_at: '2026-05-12T09:00:00Z', ended_at: '2026-05-25T00:00:00Z',
    }], COLUMNS);
    const closed = await build(options(dir, [file, closing], '2026-06-03T00:00:00Z'));
    expect(await rows(closed.db, `select cycle_id, counts_changed, settled_files from convbill_run_partitions where run_id = ${closed.runId} order by 1`))
      .toEqual([
        { cycle_id: '2026-05-01', counts_changed: false, settled_files: 'added' },
        { cycle_id: '2026-06-01', counts_changed: true, settled_files: 'kept' },
      ]);
    const may = (await rows(closed.db, `select file from glob('${join(dir, 'convbill_parquet')}/fct_billable_conversations/*/cycle=2026-05-01/*.parquet')`))
      .map((row) => String(row.file).split('/').pop());
    expect(may.sort()).toEqual([`settled_0.parquet`, `settled_r${closed.runId}_0.parquet`]);
    const fresh = await build(options(join(dir, 'fresh'), [file, closing], '2026-06-03T00:00:00Z'));
    const detail = `select * from read_parquet('%s/fct_billable_conversations/*/*/*.parquet', hive_partitioning = false) order by all`;
    expect(await rows(closed.db, detail.replace('%s', join(dir, 'convbill_parquet'))))
      .toEqual(await rows(fresh.db, detail.replace('%s', join(dir, 'fresh', 'convbill_parquet'))));
    const counts = `select * from read_parquet('%s/fct_conversation_counts/*/*/*.parquet', hive_partitioning = false) order by all`;
    expect(await rows(closed.db, counts.replace('%s', join(dir, 'convbill_parquet'))))
      .toEqual(await rows(fresh.db, counts.replace('%s', join(dir, 'fresh', 'convbill_parquet'))));
  }, 60_000);
});
