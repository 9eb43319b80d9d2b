/**
 * The ClickHouse server the ClickHouse tests run against: a real one, named
 * by CONVBILL_TEST_CLICKHOUSE_URL (.ci/clickhouse-cluster starts one). Without
 * it the tests are skipped, loudly, on a developer's machine; under CI they
 * fail, since a CI that silently skips them tests nothing.
 */
import { describe, it } from 'vitest';

export interface ClickHouseTarget {
  url: string;
  user: string;
  password: string;
}

const HOW = 'set CONVBILL_TEST_CLICKHOUSE_URL=http://127.0.0.1:18123 after `.ci/clickhouse-cluster start /tmp/chc`';

export function clickhouseTarget(): ClickHouseTarget | null {
  const url = process.env.CONVBILL_TEST_CLICKHOUSE_URL?.trim();
  if (!url) return null;
  return {
    url: url.replace(/\/$/, ''),
    user: process.env.CONVBILL_TEST_CLICKHOUSE_USER || 'default',
    password: process.env.CONVBILL_TEST_CLICKHOUSE_PASSWORD ?? '',
  };
}

/** describe(), given the target; without one, a skip (or under CI a failure) in its place. */
export function describeClickHouse(name: string, fn: (target: ClickHouseTarget) => void): void {
  const target = clickhouseTarget();
  if (target) {
    describe(name, () => fn(target));
  } else if (process.env.CI) {
    describe(name, () => {
      it('has a ClickHouse server to run against', () => {
        throw new Error(`CI is set but CONVBILL_TEST_CLICKHOUSE_URL is not: the ClickHouse tests "${name}" cannot run (${HOW}).`);
      });
    });
  } else {
    console.warn(`\n*** SKIPPED: ClickHouse tests: ${name} (${HOW}) ***\n`);
    describe.skip(name, () => {
      it('needs CONVBILL_TEST_CLICKHOUSE_URL', () => {});
    });
  }
}
