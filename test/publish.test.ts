/**
 * What a killed build leaves beside its targets: a publish killed before its
 * rename leaves `<published>.next-PID` and its `.wal`, a build killed between
 * making its export link and renaming it `<parquet>.swap-PID`, an ingest
 * killed while copying a Parquet input a copy no load names. The next build
 * removes those of dead processes and leaves a live process's alone.
 * (test/kills.test.ts kills real builds; these plant the files.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, lstatSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildFacts, tempDir, writeCsv, writeParquet, type InputRow } from './helpers.js';

const ROWS: InputRow[] = [
  { interaction_id: 'a', integration_id: 'wa-1', customer_account_id: 'cust-1', started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-10T09:30:00Z' },
  { interaction_id: 'b', integration_id: 'wa-1', customer_account_id: 'cust-2', started_at: '2024-02-10T09:00:00Z', ended_at: '2024-02-10T09:30:00Z' },
];

const sleepers: ChildProcess[] = [];
afterAll(() => {
  for (const child of sleepers) child.kill();
});

/** A process that has exited (and been reaped): its PID names no process. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid as number;
}

/** A process that lives until the tests end. */
function livePid(): number {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600_000)'], { stdio: 'ignore' });
  sleepers.push(child);
  return child.pid as number;
}

describe('publish', () => {
  it('removes the staged copies a killed publish left, of dead processes only', async () => {
    const dir = tempDir();
    const options = { dir, inputs: [writeCsv(dir, 'interactions.csv', ROWS)], asOf: '2024-03-31T00:00:00Z' };
    const first = await buildFacts(options);
    const published = first.result.publishedDb;
    expect(existsSync(published)).toBe(true);

    const [dead, otherDead] = [await deadPid(), await deadPid()];
    const live = livePid();
    expect(() => process.kill(live, 0)).not.toThrow();
    const planted = {
      dead: [`${published}.next-${dead}`, `${published}.next-${dead}.wal`, `${published}.next-${otherDead}.wal`],
      live: [`${published}.next-${live}`, `${published}.next-${live}.wal`],
      // not a staged copy's name: never touched
      other: [`${published}.next-${dead}.bak`, `${published}.next-notapid`, `${dir}/other.duckdb.next-${dead}`],
    };
    for (const path of [...planted.dead, ...planted.live, ...planted.other]) writeFileSync(path, 'half-written');

    const second = await buildFacts({ ...options, inputs: [] });
    expect(second.result.publishedDb).toBe(published);
    for (const path of planted.dead) expect(existsSync(path), path).toBe(false);
    for (const path of [...planted.live, ...planted.other]) expect(existsSync(path), path).toBe(true);
    // and the build's own staged copy was renamed into place
    const staged = readdirSync(dirname(published)).filter((name) => name.startsWith(`${basename(published)}.next-`));
    expect(staged.sort()).toEqual([...planted.live, ...planted.other.slice(0, 2)].map((path) => basename(path)).sort());
    expect((await second.rows(`select count(*)::integer as n from fct_billable_conversations`))[0]?.n).toBe(2);
  });

  it('removes an export link a killed build did not rename, and stored Parquet copies no load names', async () => {
    const dir = tempDir();
    const input = await writeParquet(dir, 'interactions.parquet', `select 'a' as interaction_id, 'wa-1' as integration_id, 'cust-1' as customer_account_id,
      timestamptz '2024-01-10 09:00:00+00' as started_at, timestamptz '2024-01-10 09:30:00+00' as ended_at`);
    const options = { dir, inputs: [input], asOf: '2024-03-31T00:00:00Z' };
    await buildFacts(options);
    const link = join(dir, 'convbill_parquet');
    const store = join(dir, 'convbill.duckdb.raw');
    expect(readdirSync(store)).toEqual(['load-000001.parquet']);

    const [dead, live] = [await deadPid(), livePid()];
    symlinkSync('.convbill_parquet.versions/gone', `${link}.swap-${dead}`);
    symlinkSync('.convbill_parquet.versions/gone', `${link}.swap-${live}`);
    // a copy the killed ingest's rolled-back load named, and one no load ever will
    writeFileSync(join(store, 'load-000002.parquet'), 'half-copied');
    writeFileSync(join(store, 'load-000107.parquet'), 'half-copied');
    writeFileSync(join(store, 'notes.txt'), 'not a stored copy');

    await buildFacts({ ...options, inputs: [] });
    expect(existsSync(`${link}.swap-${dead}`) || isLink(`${link}.swap-${dead}`)).toBe(false);
    expect(isLink(`${link}.swap-${live}`)).toBe(true);
    expect(isLink(link)).toBe(true);
    expect(readdirSync(store).sort()).toEqual(['load-000001.parquet', 'notes.txt']);
  });
});

const isLink = (path: string) => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};
