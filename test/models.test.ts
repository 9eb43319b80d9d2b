/**
 * The SQL model runner: order from the SQL itself, headers, and a database
 * that holds only what outlives the build.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModels } from '../src/project/load-models.js';
import { buildFacts, rows, tempDir, writeCsv } from './helpers.js';

describe('models', () => {
  it('every model states its grain and purpose, and runs after the models it reads', () => {
    const models = loadModels();
    const position = new Map(models.map((model, index) => [model.name, index]));
    for (const model of models) {
      expect(model.sql, model.file).toMatch(/^-- grain: /m);
      expect(model.sql, model.file).toMatch(/^-- purpose: /m);
      for (const dependency of model.dependsOn) expect(position.get(dependency)).toBeLessThan(position.get(model.name) as number);
    }
    const stored = models.find((model) => model.name === 'int_conversations');
    expect(stored?.dependsOn).toEqual(expect.arrayContaining(['int_interaction_cycles']));
    expect(models.find((model) => model.name === 'fct_billable_conversations')?.dependsOn).toEqual(['dim_billing_cycles', 'dim_integrations', 'int_conversations', 'int_integration_keys']);
    // the partitions a platform change relabels are read from the counts as the last build left them
    expect(position.get('int_dirty_cycles')).toBeLessThan(position.get('fct_conversation_counts') as number);
    // reads_previous: the replaced conversations are read as the last build left them
    expect(position.get('int_replaced_conversations')).toBeLessThan(position.get('int_conversations') as number);
    expect(stored?.dependsOn).toContain('int_replaced_conversations');
    // <model>_delta is the rows an incremental model wrote in this build
    expect(models.find((model) => model.name === 'int_interaction_reject_rows')?.dependsOn).toContain('int_interactions');
    for (const model of models.filter((candidate) => candidate.materialized === 'incremental')) {
      expect(model.ddl, model.file).toMatch(new RegExp(`^create table if not exists ${model.name} \\(`));
      expect(model.uniqueKey?.length, model.file).toBeGreaterThan(0);
      expect(model.sql, model.file).not.toMatch(/create table/);
    }
  });

  it('derives dependencies from the SQL, ignoring comments and strings, and refuses a cycle', () => {
    const root = tempDir();
    mkdirSync(join(root, 'macros'));
    writeFileSync(join(root, 'b.sql'), "-- reads from a, not from c\nselect x from a where y = 'from c'");
    writeFileSync(join(root, 'a.sql'), 'select 1 as x');
    writeFileSync(join(root, 'c.sql'), 'select x from b join a using (x)');
    expect(loadModels(root).map((model) => model.name)).toEqual(['a', 'b', 'c']);
    writeFileSync(join(root, 'a.sql'), 'select x from c');
    expect(() => loadModels(root)).toThrow(/cycle: a -> c -> b -> a|cycle: .*a.*/);
  });

  it('leaves in the database file only relations that can be queried once the build is over', async () => {
    const dir = tempDir();
    const facts = await buildFacts({
      dir,
      inputs: [writeCsv(dir, 'in.csv', [{ interaction_id: 'a', integration_id: 'wa', customer_account_id: 'c', started_at: '2024-01-10T00:00:00Z' }])],
    });
    const relations = await rows(facts.db, `select table_name from information_schema.tables where table_schema = 'main' order by 1`);
    const names = relations.map((relation) => relation.table_name as string);
    expect(names).toEqual(expect.arrayContaining(['fct_billable_conversations', 'fct_conversation_counts', 'dim_billing_cycles', 'rejected_interactions']));
    for (const name of names) await expect(rows(facts.db, `select count(*) from ${name}`)).resolves.toBeDefined();
  });
});
