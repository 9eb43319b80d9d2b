/**
 * The data tests of sql/clickhouse/audits/ on a ClickHouse warehouse: in a
 * build, over the run's own tables before it publishes; in `convbill test`,
 * over what readers see. Each returns offending rows; none is a pass.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { AuditResult } from '../../project/audits.js';
import { READ_ONLY_SETTINGS } from './read-only.js';
import { clickhouseFolder } from './sql-files.js';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { sqlDirectory, sqlFiles } from '../../project/load-models.js';

export type AuditSubject = 'run' | 'published';

const SUBJECTS: Record<AuditSubject, { detail: string; counts: string }> = {
  run: { detail: 'fct_billable_conversations_next', counts: 'fct_conversation_counts_next' },
  published: { detail: 'fct_billable_conversations', counts: 'fct_conversation_counts' },
};

/** Audits whose header says `-- in_build: skip` (and why), run by convbill test only. */
const SKIPPED_IN_BUILD = new Set(
  sqlFiles(join(sqlDirectory(), 'clickhouse', 'audits'))
    .filter((file) => /^-- in_build: skip\b/m.test(readFileSync(file, 'utf8')))
    .map((file) => basename(file, '.sql')),
);

export async function runClickHouseAudits(client: ClickHouseClient, database: string, subject: AuditSubject): Promise<AuditResult[]> {
  const results: AuditResult[] = [];
  for (const [name, statements] of clickhouseFolder('audits', { database, ...SUBJECTS[subject] })) {
    if (subject === 'run' && SKIPPED_IN_BUILD.has(name)) continue;
    const started = performance.now();
    const rows: Record<string, unknown>[] = [];
    for (const statement of statements) {
      const result = await client.query({ query: statement, format: 'JSONEachRow', clickhouse_settings: READ_ONLY_SETTINGS });
      rows.push(...(await result.json<Record<string, unknown>>()));
    }
    results.push({ name, file: join('sql', 'clickhouse', 'audits', `${name}.sql`), passed: rows.length === 0, rows: rows.slice(0, 5), seconds: (performance.now() - started) / 1000 });
  }
  return results;
}
