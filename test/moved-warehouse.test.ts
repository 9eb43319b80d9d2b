/**
 * The warehouse folder moved or copied whole (docs/nightly.md, publish):
 * the published copy's detail view names its Parquet export relative to the
 * copy's folder, so convbill's readers, and DuckDB sessions that search that
 * folder, read the same rows wherever the folder goes, and the next build
 * there carries on incrementally.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { arrowTable } from '../src/read/arrow.js';
import { exportTable } from '../src/read/export-table.js';
import { query } from '../src/read/query.js';
import { openWarehouse } from '../src/typed/open-warehouse.js';
import { tempDir, writeCsv, type InputRow } from './helpers.js';

const DETAIL = `select org_id, cycle_id, integration_id, customer_account_id, interaction_count,
    first_activity_at, last_activity_at from fct_billable_conversations order by all`;
const AS_OF = '2024-03-20T00:00:00Z';

function logs(count: number, offset = 0): InputRow[] {
  return Array.from({ length: count }, (_, n) => ({
    org_id: ['acme', 'globex'][n % 2],
    interaction_id: `i-${offset + n}`,
    integration_id: `wa-${n % 3}`,
    customer_account_id: `cust-${(offset + n) % 7}`,
    started_at: `2024-0${1 + (n % 3)}-${String(1 + (n % 27)).padStart(2, '0')}T09:00:00Z`,
    ended_at: n % 5 === 0 ? '' : `2024-0${1 + (n % 3)}-${String(1 + (n % 27)).padStart(2, '0')}T10:00:00Z`,
  }));
}

function optionsIn(folder: string, inputs: string[]): BuildOptions {
  return {
    db: join(folder, 'convbill.duckdb'),
    parquetDir: join(folder, 'convbill_parquet'),
    sources: [],
    inputs,
    cycles: { defaultRule: { anchorDay: 1, timezone: 'UTC' }, orgRules: {}, calendar: undefined },
    asOf: AS_OF,
  };
}

const published = (folder: string) => join(folder, 'convbill_published.duckdb');
const detailOf = async (folder: string) => (await query(published(folder), DETAIL)).rows;

/** What a plain @duckdb/node-api session prints, run by its own process in `cwd`, as a user's script would be. */
function plainDuckDB(cwd: string, db: string, searchPath?: string): { rows?: number; error?: string } {
  const api = pathToFileURL(createRequire(import.meta.url).resolve('@duckdb/node-api')).href;
  const script = `
    const { DuckDBInstance } = await import(${JSON.stringify(api)});
    const instance = await DuckDBInstance.create(${JSON.stringify(db)}, { access_mode: 'READ_ONLY' });
    const connection = await instance.connect();
    try {
      ${searchPath === undefined ? '' : `await connection.run("set file_search_path = '" + ${JSON.stringify(searchPath)} + "'");`}
      const reader = await connection.runAndReadAll('select count(*)::integer from fct_billable_conversations');
      console.log(JSON.stringify({ rows: reader.getRows()[0][0] }));
    } catch (error) {
      console.log(JSON.stringify({ error: error.message }));
    }`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { rows?: number; error?: string };
}

describe('a warehouse folder moved or copied whole', () => {
  const root = tempDir('convbill-moved-');
  // the inputs stay where they are: only the warehouse folder moves
  const inputs = join(root, 'inputs');
  const elsewhere = join(root, 'somewhere', 'else');
  const original = join(root, 'warehouse');
  const moved = join(root, 'renamed warehouse');
  const copied = join(root, 'a copy', 'warehouse');
  let expected: unknown[][];

  beforeAll(async () => {
    for (const folder of [inputs, elsewhere, original]) mkdirSync(folder, { recursive: true });
    await build(optionsIn(original, [writeCsv(inputs, 'first.csv', logs(40))]));
    expected = await detailOf(original);
  });

  it('the copy\'s view names the export version relative to the copy\'s folder', async () => {
    expect(expected.length).toBeGreaterThan(20);
    const [view] = (await query(published(original), `select sql from duckdb_views() where view_name = 'fct_billable_conversations'`)).rows;
    expect(String(view?.[0])).toMatch(/read_parquet\('\.convbill_parquet\.versions\/[^/']+\/fct_billable_conversations\/\*\/\*\/\*\.parquet'/);
    expect(String(view?.[0])).not.toContain(root);
  });

  it('renamed: query, the CLI from another folder, openWarehouse, Arrow and export read the same rows', async () => {
    renameSync(original, moved);
    expect(await detailOf(moved)).toEqual(expected);

    const cli = spawnSync(process.execPath, [resolve('dist/src/cli/main.js'), 'query', '--db', join(moved, 'convbill.duckdb'), '--format', 'csv', DETAIL], {
      cwd: elsewhere, encoding: 'utf8',
    });
    expect(cli.status, cli.stderr).toBe(0);
    expect(cli.stdout.trim().split('\n')).toHaveLength(expected.length + 1);

    const typed = openWarehouse(published(moved));
    try {
      const keys = await typed.selectFrom('fct_billable_conversations').select(['org_id', 'customer_account_id']).execute();
      expect(keys).toHaveLength(expected.length);
    } finally {
      await typed.destroy();
    }

    const arrow = await arrowTable(published(moved), 'fct_billable_conversations');
    expect(arrow.numRows).toBe(expected.length);

    const out = join(elsewhere, 'detail.parquet');
    expect(await exportTable({ db: published(moved), table: 'fct_billable_conversations', format: 'parquet', out })).toBe(expected.length);
    const exported = await query(published(moved), DETAIL.replace('from fct_billable_conversations', `from read_parquet('${out}')`), {
      allowedDirectories: [elsewhere],
    });
    expect(exported.rows).toEqual(expected);
  });

  it('a plain DuckDB session reads it from inside the folder, or from anywhere with file_search_path; elsewhere without, it cannot', () => {
    const db = published(moved);
    expect(plainDuckDB(moved, db)).toEqual({ rows: expected.length });
    expect(plainDuckDB(elsewhere, db, moved)).toEqual({ rows: expected.length });
    // the documented limit: DuckDB resolves a view's relative path against the working directory
    expect(plainDuckDB(elsewhere, db).error).toMatch(/No files found that match the pattern "\.convbill_parquet\.versions\//);
  });

  it('copied elsewhere with the original deleted: the copy reads its own files, and its next build is incremental', async () => {
    // as `cp -a` does: the export link stays the relative link it is
    cpSync(moved, copied, { recursive: true, verbatimSymlinks: true });
    rmSync(moved, { recursive: true });
    expect(await detailOf(copied)).toEqual(expected);

    const more = writeCsv(inputs, 'second.csv', logs(12, 100));
    const next = await build(optionsIn(copied, [join(inputs, 'first.csv'), more]));
    expect(next.plan.fullRefresh).toBe(false);
    const fresh = join(root, 'fresh');
    mkdirSync(fresh);
    await build(optionsIn(fresh, [join(inputs, 'first.csv'), more]));
    const now = await detailOf(copied);
    expect(now.length).toBeGreaterThan(expected.length);
    expect(now).toEqual(await detailOf(fresh));
  });
});
