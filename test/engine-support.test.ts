/**
 * The README's engine table says what src/cli/engine-support.ts enforces:
 * a command marked "yes" on ClickHouse runs there, any other exits 2.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLICKHOUSE_SUPPORT } from '../src/cli/engine-support.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The rows of the table under "Past one machine: ClickHouse": command names → the ClickHouse cell. */
function engineTable(): Map<string, string> {
  const section = README.slice(README.indexOf('## Past one machine: ClickHouse'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n').filter((row) => /^\| `/.test(row))) {
    const [commands, , clickhouse] = line.split('|').slice(1).map((cell) => cell.trim());
    for (const [, name] of (commands ?? '').matchAll(/`([a-zA-Z]+)(?:\(\))?`/g)) rows.set(name as string, clickhouse ?? '');
  }
  return rows;
}

describe("the README's engine table", () => {
  it('lists every command, and says yes on ClickHouse exactly for those that run there', () => {
    const table = engineTable();
    for (const [command, support] of Object.entries(CLICKHOUSE_SUPPORT)) {
      const cell = table.get(command);
      expect(cell, `README's engine table has no row for ${command}`).toBeDefined();
      // docs runs there; only docs --check does not
      const runs = support === true || command === 'docs';
      expect(cell?.startsWith('yes'), `${command}: README says "${cell}"`).toBe(runs);
    }
    expect(table.get('openWarehouse')).toMatch(/^yes/);
  });
});
