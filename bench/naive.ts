/**
 * The naive contender: single-threaded TypeScript, one Map keyed by
 * org/cycle/integration/account. DuckDB only reads the file; every row goes
 * through a JavaScript loop. For comparison only: this is what the package
 * itself must never do.
 */
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import type { ContenderArgs } from './contenders.js';
import { orgRulesValues } from './orgs.js';
import { benchSql } from './sql-template.js';

export async function naiveCount(args: ContenderArgs): Promise<{ seconds: number; conversations: number }> {
  const started = performance.now();
  const warehouse = await Warehouse.open(':memory:', { threads: 1 });
  try {
    await warehouse.run(benchSql('cycles.sql', { org_rules: orgRulesValues() }));
    const cycles = new Map<string, { id: string; start: number; end: number }[]>();
    for await (const chunk of warehouse.stream(
      `select org_id, cycle_id, epoch_ms(cycle_start)::double, epoch_ms(cycle_end)::double from bench_cycles order by all`,
    )) {
      for (const [org, id, start, end] of chunk as [string, string, number, number][]) {
        if (!cycles.has(org)) cycles.set(org, []);
        cycles.get(org)?.push({ id, start, end });
      }
    }
    const asOf = Date.parse(args.asOf);
    const conversations = new Map<string, number>();
    for await (const chunk of warehouse.stream(
      `select org_id, integration_id, customer_account_id, epoch_ms(started_at)::double, epoch_ms(ended_at)::double
       from read_parquet('${args.input}')`,
    )) {
      for (const [org, integration, account, start, end] of chunk as [string, string | null, string, number, number | null][]) {
        if (integration === null || start > asOf) continue;
        const effectiveEnd = Math.min(end ?? asOf, asOf);
        for (const cycle of cycles.get(org) ?? []) {
          if (start < cycle.end && effectiveEnd >= cycle.start) {
            const key = `${org}|${cycle.id}|${integration}|${account}`;
            conversations.set(key, (conversations.get(key) ?? 0) + 1);
          }
        }
      }
    }
    return { seconds: (performance.now() - started) / 1000, conversations: conversations.size };
  } finally {
    warehouse.close();
  }
}
