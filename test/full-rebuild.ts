/**
 * Incremental builds against full rebuilds: the build options the
 * step-by-step tests use (incremental.test.ts, nightly-as-of.test.ts), the
 * marts they compare, and the comparison of the `nightly` warehouse, its
 * published copy and its Parquet exports with a full rebuild of the same
 * files into a fresh database.
 */
import { join } from 'node:path';
import { expect } from 'vitest';
import { build } from '../src/build/build.js';
import { EXPORTED_TABLES } from '../src/build/parquet-exports.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { rowsEach } from './helpers.js';

export const COLUMNS = ['org_id', 'integration_id', 'interaction_id', 'customer_account_id', 'platform', 'message_id', 'started_at', 'ended_at', 'occurred_at'];

/** What a build must publish, in a stable order: compared between the two warehouses. */
export const MARTS: Record<string, string> = {
  fct_billable_conversations: `select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, customer_account_id,
      interaction_count, first_activity_at, last_activity_at from fct_billable_conversations order by all`,
  fct_conversation_counts: `select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, conversations
      from fct_conversation_counts order by all`,
  fct_conversation_charges: `select org_id, cycle_id, cycle_start, cycle_end, platform, integration_id, conversations,
      billable_conversations, currency, amount, price_scope, price_status from fct_conversation_charges order by all`,
  dim_billing_cycles: `select org_id, cycle_id, cycle_start, cycle_end, timezone, cycle_source from dim_billing_cycles order by all`,
  dim_integrations: `select org_id, integration_id, platform, integration_name, platform_source from dim_integrations order by all`,
  rejected_interactions: `select source_file, source_row, reason, raw from rejected_interactions order by all`,
  rpt_source_files: `select source_file, rows_read, rows_accepted, rows_rejected, identity_holds from rpt_source_files
      where superseded_by is null order by all`,
  rpt_data_quality: `select check_name, affected_count from rpt_data_quality where check_name <> 'superseded_rows' order by all`,
};

/**
 * `dir`'s database `db` over `files` (as --input names them: each night's
 * files, which stay loaded), with dir's integrations.csv and calendar.csv;
 * acme and globex bill on rules of their own, the other orgs on the default.
 */
export function optionsFor(dir: string, db: string, files: string[], asOfMs: number, fullRefresh: boolean): BuildOptions {
  return {
    db: join(dir, `${db}.duckdb`),
    parquetDir: join(dir, `${db}_parquet`),
    sources: [],
    inputs: files,
    integrations: join(dir, 'integrations.csv'),
    cycles: {
      defaultRule: { anchorDay: 1, timezone: 'UTC' },
      orgRules: { acme: { anchorDay: 15, timezone: 'Europe/Paris' }, globex: { anchorDay: 31, timezone: 'America/New_York' } },
      calendar: join(dir, 'calendar.csv'),
    },
    asOf: new Date(asOfMs).toISOString(),
    fullRefresh,
    // small builds: one DuckDB thread costs about a tenth less CPU, and CI runs a test file per core
    threads: 1,
  };
}

export async function marts(db: string): Promise<Record<string, unknown[]>> {
  return rowsEach(db, MARTS);
}

/**
 * The `nightly` warehouse, its published copy and its Parquet exports equal
 * a full rebuild of `files` into a fresh database. Returns the full
 * rebuild's marts and the path of its database.
 */
export async function expectFullRebuildOf(
  dir: string, files: string[], asOfMs: number, label: string,
): Promise<{ db: string; expected: Record<string, unknown[]> }> {
  const full = await build(optionsFor(dir, `full-${label.replace(/\W+/g, '-')}`, files, asOfMs, false));
  expect(full.plan.fullRefresh).toBe(true);
  const nightly = join(dir, 'nightly.duckdb');
  const expected = await marts(full.db);
  expect(await marts(nightly), label).toEqual(expected);
  // what readers see: the published copy and the Parquet exports
  const published = await marts(join(dir, 'nightly_published.duckdb'));
  expect(published.fct_billable_conversations, `fct_billable_conversations published, ${label}`).toEqual(expected.fct_billable_conversations);
  expect(published.fct_conversation_counts, `fct_conversation_counts published, ${label}`).toEqual(expected.fct_conversation_counts);
  expect(published.fct_conversation_charges, `fct_conversation_charges published, ${label}`).toEqual(expected.fct_conversation_charges);
  expect(published.rejected_interactions, `rejected_interactions published, ${label}`).toEqual(expected.rejected_interactions);
  const exportQueries = Object.fromEntries(
    Object.entries(EXPORTED_TABLES)
      .filter(([table]) => expected[table]?.length !== 0)
      .map(([table, columns]) => [table, `select ${columns.join(', ')}
       from read_parquet('${join(dir, 'nightly_parquet', table)}/**/*.parquet', hive_partitioning = false)
       order by all`]),
  );
  const exported = await rowsEach(nightly, exportQueries);
  for (const table of Object.keys(EXPORTED_TABLES)) {
    expect(exported[table] ?? [], `${table} exported, ${label}`).toEqual(expected[table]);
  }
  return { db: full.db, expected };
}
