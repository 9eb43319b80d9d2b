/**
 * `convbill query` (and the library's query, arrowTable, export --where)
 * runs the user's SQL in a sandbox: read-only, no file outside the folders
 * the published views read and those --allow-dir names, no ATTACH, no
 * extension, no setting changed back. One built warehouse for every case.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { ConvbillError } from '../src/engine/errors.js';
import { arrowTable } from '../src/read/arrow.js';
import { query } from '../src/read/query.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { buildFacts, tempDir, writeCsv } from './helpers.js';

let published = '';
let allowed = '';
let outside = '';

beforeAll(async () => {
  const dir = tempDir();
  const input = writeCsv(dir, 'logs.csv', [
    { interaction_id: 'a', integration_id: 'wa-1', customer_account_id: 'c-1', started_at: '2024-01-10T09:00:00Z', ended_at: '2024-01-10T09:30:00Z', org_id: 'acme' },
    { interaction_id: 'b', integration_id: 'wa-1', customer_account_id: 'c-2', started_at: '2024-02-10T09:00:00Z', ended_at: '', org_id: 'acme' },
  ]);
  const built = await buildFacts({ dir, inputs: [input], asOf: '2024-02-20T00:00:00Z' });
  published = built.result.publishedDb;
  allowed = join(dir, 'allowed');
  outside = join(dir, 'outside');
  mkdirSync(allowed);
  mkdirSync(outside);
  writeFileSync(join(allowed, 'extra.csv'), 'k,v\nx,1\n');
  writeFileSync(join(outside, 'secret.csv'), 'k,v\nsecret,42\n');
  // a database file where user SQL may read files: ATTACH stays refused there too
  for (const folder of [allowed, outside]) {
    const other = await Warehouse.open(join(folder, 'other.duckdb'));
    await other.run('create table secret as select 42 as s');
    other.close();
  }
});

async function cli(args: string[]) {
  let out = '';
  let err = '';
  const status = await runCli(args, { out: (text) => { out += text; }, err: (text) => { err += text; } });
  return { status, out, err };
}

const q = (sql: string, ...flags: string[]) => cli(['query', sql, '--db', published, '--format', 'json', ...flags]);

/** Exit 1, one line, one sentence, the sandbox named. */
function expectRefused(run: { status: number; out: string; err: string }, words: RegExp) {
  expect(run.status, run.err).toBe(1);
  expect(run.out).toBe('');
  const lines = run.err.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^convbill: Query refused: .*\(convbill query is read-only; --allow-dir, or the allowedDirectories option, names the folders it may read and write\)\.$/);
  expect(lines[0]).toMatch(words);
}

describe('convbill query: what the SQL may do', () => {
  it('a select over the facts works, the published view over Parquet included', async () => {
    const run = await q('select org_id, cycle_id, count(*)::integer as n from fct_billable_conversations group by all order by all');
    expect(run.err).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.out)).toEqual([
      { org_id: 'acme', cycle_id: '2024-01-01', n: 1 },
      { org_id: 'acme', cycle_id: '2024-02-01', n: 1 },
    ]);
  });

  it('COPY ... TO inside --allow-dir works, and so does reading a file there', async () => {
    const target = join(allowed, 'counts.csv');
    const copy = await q(`copy (select org_id, conversations from fct_conversation_counts order by all) to '${target}'`, '--allow-dir', allowed);
    expect(copy.err).toBe('');
    expect(copy.status).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('org_id,conversations\nacme,1\nacme,1\n');
    const read = await q(`select k, v from read_csv('${join(allowed, 'extra.csv')}')`, '--allow-dir', allowed);
    expect(read.status).toBe(0);
    expect(JSON.parse(read.out)).toEqual([{ k: 'x', v: 1 }]);
  });

  it('--allow-dir must name a folder (exit 2)', async () => {
    const run = await q('select 1', '--allow-dir', join(outside, 'missing'));
    expect(run.status).toBe(2);
    expect(run.err).toMatch(/^convbill: Option --allow-dir .*missing is not a folder\.\n$/);
  });

  const refused: [string, string, RegExp, string[]?][] = [
    ['insert', `insert into fct_conversation_counts select * from fct_conversation_counts`, /read-only/],
    ['update', `update fct_conversation_counts set conversations = 0`, /read-only/],
    ['create', `create table stolen as select 1`, /read-only/],
    ['drop', `drop table fct_conversation_counts`, /read-only/],
    ['read_csv of /etc/passwd', `select * from read_csv('/etc/passwd')`, /Permission Error: .*\/etc\/passwd/],
    ['read_text of a file outside', `select * from read_text('OUTSIDE/secret.csv')`, /Permission Error: .*secret\.csv/],
    ['read_csv outside --allow-dir', `select * from read_csv('OUTSIDE/secret.csv')`, /Permission Error/, ['--allow-dir', 'ALLOWED']],
    ['a path that climbs out of --allow-dir', `select * from read_csv('ALLOWED/../outside/secret.csv')`, /Permission Error/, ['--allow-dir', 'ALLOWED']],
    ['glob', `select * from glob('OUTSIDE/*')`, /Permission Error/],
    ['read_parquet outside', `select * from read_parquet('OUTSIDE/*.parquet')`, /Permission Error/],
    ['COPY TO outside', `copy (select 1) to 'OUTSIDE/out.csv'`, /Permission Error: .*out\.csv/],
    ['COPY TO outside --allow-dir', `copy (select 1) to 'OUTSIDE/out.csv'`, /Permission Error/, ['--allow-dir', 'ALLOWED']],
    ['ATTACH outside', `attach 'OUTSIDE/other.duckdb' as other`, /ATTACH is not allowed/],
    ['ATTACH inside --allow-dir', `attach 'ALLOWED/other.duckdb' as other (read_only)`, /ATTACH is not allowed/, ['--allow-dir', 'ALLOWED']],
    ['ATTACH after another statement', `select 1; attach 'ALLOWED/other.duckdb' as other`, /ATTACH is not allowed/, ['--allow-dir', 'ALLOWED']],
    ['INSTALL', `install httpfs`, /Permission Error/],
    ['LOAD', `load httpfs`, /Permission Error: Loading external extensions is disabled/],
    ['LOAD a file', `load 'ALLOWED/x.duckdb_extension'`, /Permission Error: Loading external extensions is disabled/, ['--allow-dir', 'ALLOWED']],
    ['SET enable_external_access back', `set enable_external_access = true`, /configuration has been locked/],
    ['RESET enable_external_access', `reset enable_external_access`, /configuration has been locked/],
    ['SET allowed_directories', `set allowed_directories = ['/']`, /configuration has been locked/],
    ['SET allowed_paths', `set allowed_paths = ['/etc/passwd']`, /configuration has been locked/],
    ['RESET allowed_directories', `reset allowed_directories`, /configuration has been locked/],
    ['SET lock_configuration', `set lock_configuration = false`, /configuration has been locked/],
    ['SET temp_directory', `set temp_directory = 'OUTSIDE'`, /configuration has been locked/],
    ['a URL', `select * from read_csv('https://example.com/x.csv')`, /Permission Error/],
  ];
  const fill = (text: string) => text.replaceAll('OUTSIDE', outside).replaceAll('ALLOWED', allowed);
  for (const [name, sql, words, flags] of refused) {
    it(`refuses ${name} (exit 1, one sentence)`, async () => {
      expectRefused(await q(fill(sql), ...(flags ?? []).map(fill)), words);
    });
  }

  it('nothing refused was written', () => {
    expect(existsSync(join(outside, 'out.csv'))).toBe(false);
  });
});

describe('library: query and arrowTable are sandboxed too', () => {
  it('query(db, sql) keeps its signature and refuses a file outside', async () => {
    expect((await query(published, 'select count(*)::integer as n from fct_billable_conversations')).rows).toEqual([[2]]);
    const refusal = await query(published, `select * from read_csv('${join(outside, 'secret.csv')}')`).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(ConvbillError);
    expect((refusal as ConvbillError).exitCode).toBe(1);
    expect((refusal as Error).message).toMatch(/^Query refused: Permission Error: /);
  });

  it('query(db, sql, { allowedDirectories }) reads there', async () => {
    const result = await query(published, `select k from read_csv('${join(allowed, 'extra.csv')}')`, { allowedDirectories: [allowed] });
    expect(result.rows).toEqual([['x']]);
  });

  it('arrowTable by path refuses a file outside and ATTACH', async () => {
    const table = await arrowTable(published, 'fct_conversation_counts');
    expect(table.numRows).toBe(2);
    await expect(arrowTable(published, `select * from read_text('/etc/passwd')`)).rejects.toThrow(/^Query refused: Permission Error/);
    await expect(arrowTable(published, `attach '${join(allowed, 'other.duckdb')}' as o`, { allowedDirectories: [allowed] })).rejects.toThrow(
      /^Query refused: ATTACH is not allowed/,
    );
  });
});

describe('convbill export --where is sandboxed', () => {
  it('a filter that reads a file outside is refused (exit 1); a plain one works', async () => {
    const out = join(allowed, 'acme.csv');
    const refused = await cli([
      'export', '--db', published, '--table', 'fct_conversation_counts', '--out', out,
      '--where', `org_id in (select k from read_csv('${join(outside, 'secret.csv')}'))`,
    ]);
    expect(refused.status).toBe(1);
    expect(refused.err).toMatch(/^convbill: Option --where ".*" was refused: Permission Error: .*secret\.csv.*\.\n$/);
    expect(existsSync(out)).toBe(false);
    const fine = await cli(['export', '--db', published, '--table', 'fct_conversation_counts', '--out', out, '--where', "org_id = 'acme'"]);
    expect(fine.err).toBe('');
    expect(fine.status).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]).toMatch(/^org_id,/);
  });

  it('a filter that ends the select and starts another statement is a usage error (exit 2), and runs nothing', async () => {
    const out = join(allowed, 'never.csv');
    const run = await cli([
      'export', '--db', published, '--table', 'fct_conversation_counts', '--out', out,
      '--where', `true); attach '${join(allowed, 'other.duckdb')}' as o; select (1`,
    ]);
    expect(run.status).toBe(2);
    expect(run.err).toMatch(/^convbill: Option --where ".*" is not a valid filter on fct_conversation_counts: the SQL holds 3 statements where one is expected\.\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('parquet exports still work (insertion order is set at open, before the lock)', async () => {
    const out = join(allowed, 'facts.parquet');
    const run = await cli(['export', '--db', published, '--table', 'fct_billable_conversations', '--out', out]);
    expect(run.err).toBe('');
    expect(run.status).toBe(0);
    expect((await query(published, `select count(*)::integer from read_parquet('${out}')`, { allowedDirectories: [allowed] })).rows).toEqual([[2]]);
  });
});

describe('convbill export says what it writes', () => {
  it('names the format it chose from the file name, and refuses an extension it does not write (exit 2, no file)', async () => {
    const json = join(allowed, 'counts.json');
    const written = await cli(['export', '--db', published, '--table', 'fct_conversation_counts', '--out', json]);
    expect(written.status).toBe(0);
    expect(written.out).toBe(`Exported 2 rows of fct_conversation_counts to ${json} as NDJSON (one JSON object per line).\n`);
    const lines = readFileSync(json, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => typeof line.org_id)).toEqual(['string', 'string']);
    const xlsx = join(allowed, 'counts.xlsx');
    const refused = await cli(['export', '--db', published, '--table', 'fct_conversation_counts', '--out', xlsx]);
    expect(refused.status).toBe(2);
    expect(refused.err).toBe(
      `convbill: --out ${xlsx} ends in ".xlsx", which convbill export does not write: name it .parquet, .csv, .ndjson (.jsonl, .json) or .arrow, or pass --format.\n`,
    );
    expect(existsSync(xlsx)).toBe(false);
  });
});
