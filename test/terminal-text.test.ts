/**
 * What a terminal shows of hostile values: the build summary and
 * `convbill query`'s table print org ids and accounts, which are data. An
 * escape sequence in one must not reach the operator's terminal, and a
 * megabyte org id must not become a megabyte line; CSV and JSON output keep
 * every value exactly.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { displayText } from '../src/read/display-text.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { tempDir, writeCsv } from './helpers.js';

const cliPath = resolve('dist/src/cli/main.js');
const convbill = (cwd: string, args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

describe('values on a terminal', () => {
  it('displayText escapes control characters and cuts long values with an ellipsis', () => {
    expect(displayText('acme')).toBe('acme');
    expect(displayText('a\u001b[2Jb\r\n\u0007\u009b\u2028')).toBe('a\\u001b[2Jb\\u000d\\u000a\\u0007\\u009b\\u2028');
    expect(displayText('é'.repeat(100))).toBe(`${'é'.repeat(79)}…`);
    expect(displayText('x'.repeat(80))).toBe('x'.repeat(80));
  });

  it('the build summary and query tables print no control character and no huge line; --format csv keeps the value', () => {
    const dir = tempDir();
    const hostile = ['evil\u001b]0;pwned\u0007\u001b[2J', 'o'.repeat(1024 * 1024), 'line\rbreak'];
    writeCsv(dir, 'logs.csv', hostile.map((org, i) => ({
      org_id: org, integration_id: 'wa-1', interaction_id: `i${i}`, customer_account_id: `c\u001b[31m${i}`, started_at: '2026-03-10T10:00:00Z', ended_at: '',
    })));
    const built = convbill(dir, ['build', '--input', 'logs.csv', '--as-of', '2026-03-20T00:00:00Z']);
    expect(built.status, built.stderr).toBe(0);
    for (const output of [built.stdout, built.stderr]) {
      // eslint-disable-next-line no-control-regex
      expect(output).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
      expect(Math.max(...output.split('\n').map((line) => line.length))).toBeLessThan(300);
    }
    expect(built.stdout).toContain('evil\\u001b]0;pwned\\u0007\\u001b[2J');
    const table = convbill(dir, ['query', 'select org_id, customer_account_id from fct_billable_conversations order by 1', '--db', join(dir, 'convbill.duckdb')]);
    expect(table.status, table.stderr).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(table.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    const csv = convbill(dir, ['query', `select customer_account_id from fct_billable_conversations where org_id like 'evil%'`, '--format', 'csv']);
    expect(csv.stdout.trim().split('\n')[1]).toBe('c\u001b[31m0');
  });

  it('a reader that closes the pipe early (convbill query … | head -1) ends the command quietly, without a stack trace', async () => {
    const db = join(tempDir(), 'empty.duckdb');
    (await Warehouse.open(db)).close();
    // far more than a pipe's buffer, so the write meets the closed pipe
    const sql = 'select range as n from range(300000)';
    const piped = spawnSync('sh', ['-c', `"${process.execPath}" "${cliPath}" query "${sql}" --db "${db}" --format csv | head -1`], { encoding: 'utf8' });
    expect(piped.stdout).toBe('n\n');
    expect(piped.stderr).toBe('');
  });
});
