/**
 * The ClickHouse cluster the tests build on, from the environment:
 * CONVBILL_TEST_CLICKHOUSE_URL (e.g. http://127.0.0.1:18123, the entry node),
 * CONVBILL_TEST_CLICKHOUSE_USER (default `default`) and
 * CONVBILL_TEST_CLICKHOUSE_PASSWORD (default empty).
 *
 * Without the URL the ClickHouse tests are skipped, and say so on stderr; on
 * CI (env CI set) a missing URL fails instead, so a CI job that lost its
 * cluster never passes by testing nothing.
 */
import { describe, it } from 'vitest';

export interface ClickHouseTarget {
  url: string;
  user: string;
  password: string;
}

export function clickhouseTarget(): ClickHouseTarget | null {
  const url = process.env.CONVBILL_TEST_CLICKHOUSE_URL?.trim();
  if (!url) return null;
  return {
    url: url.replace(/\/$/, ''),
    user: process.env.CONVBILL_TEST_CLICKHOUSE_USER ?? 'default',
    password: process.env.CONVBILL_TEST_CLICKHOUSE_PASSWORD ?? '',
  };
}

/** `describe` when a cluster is configured; otherwise a loud skip (or, on CI, a failure). */
export function describeClickHouse(name: string, fn: (target: ClickHouseTarget) => void): void {
  const target = clickhouseTarget();
  if (target) {
    describe(name, () => fn(target));
    return;
  }
  if (process.env.CI) {
    describe(name, () => {
      it('needs a ClickHouse cluster: CONVBILL_TEST_CLICKHOUSE_URL is not set on CI', () => {
        throw new Error(`${name}: CONVBILL_TEST_CLICKHOUSE_URL is not set, and CI is: the ClickHouse tests must run on CI.`);
      });
    });
    return;
  }
  process.stderr.write(`\n*** SKIPPED: "${name}" needs a ClickHouse cluster; set CONVBILL_TEST_CLICKHOUSE_URL (e.g. http://127.0.0.1:18123). ***\n\n`);
  describe.skip(`${name} [SKIPPED: CONVBILL_TEST_CLICKHOUSE_URL is not set]`, () => {
    it('needs CONVBILL_TEST_CLICKHOUSE_URL', () => undefined);
  });
}
