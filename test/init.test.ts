/**
 * `convbill init`: a starter config with every key the config file knows,
 * valid as written, each key explained by `convbill init --help`, a sample
 * layout that builds and reconciles out of the box, and no file overwritten
 * unasked.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import { resolveBuildOptions } from '../src/config/build-options.js';
import { readConfigFile } from '../src/config/config-file.js';
import { ConfigError } from '../src/engine/errors.js';
import { init, initHelp } from '../src/config/init.js';
import { reconcile } from '../src/read/reconcile.js';
import { rows, tempDir } from './helpers.js';

/** The keys the config validator knows, from its own error for an unknown key: no list to keep in step. */
function knownConfigKeys(): string[] {
  const probe = join(tempDir(), 'probe.json');
  writeFileSync(probe, JSON.stringify({ not_a_config_key: 1 }));
  try {
    readConfigFile(probe);
  } catch (error) {
    const known = /known keys: ([^)]+)\)/.exec((error as Error).message)?.[1];
    if (known) return known.split(', ').sort();
  }
  throw new Error('the config validator no longer lists its known keys in its error for an unknown key');
}

describe('convbill init', () => {
  it('writes every config key the validator knows, valid as written, each explained by the help', () => {
    const dir = tempDir();
    const result = init({ dir });
    expect(result.written).toEqual(['convbill.json', 'logs/sample-interactions.csv', 'integrations.csv', 'calendar.csv', 'prices.csv', 'invoices/sample-invoice.csv']);
    const config = readConfigFile(result.config);
    const known = knownConfigKeys();
    expect(known.length).toBeGreaterThan(10);
    // left out on purpose: as_of (its default is now), engine and clickhouse (DuckDB needs no server; a cluster is
    // the user's to name), threads and memory_limit (this machine's, in a config meant to be committed)
    const leftOut = ['as_of', 'engine', 'clickhouse', 'threads', 'memory_limit'];
    expect(Object.keys(config).sort()).toEqual(known.filter((key) => !leftOut.includes(key)));
    const help = initHelp();
    for (const key of known) expect(help, `init --help does not explain "${key}"`).toMatch(new RegExp(`^  ${key} +\\S`, 'm'));
    for (const key of leftOut) expect(help).toMatch(new RegExp(`^  ${key} .*not written by init`, 'm'));
  });

  it('builds and reconciles in the new folder out of the box', async () => {
    const dir = tempDir();
    const { config } = init({ dir });
    const options = resolveBuildOptions({ config });
    expect(options.db).toBe(join(dir, 'out', 'convbill.duckdb'));
    const result = await build(options);
    expect(result.summary).toBeDefined();
    const published = options.publishedDb as string;
    // one org per way of cutting cycles: the default rule, an org rule, the calendar
    expect(await rows(published, `select org_id, sum(conversations)::integer as n from fct_conversation_counts group by all order by all`)).toEqual([
      { org_id: 'acme', n: 6 },
      { org_id: 'globex', n: 4 },
      { org_id: 'initech', n: 2 },
    ]);
    expect(await rows(published, `select count(*)::integer as n from rejected_interactions`)).toEqual([{ n: 0 }]);
    expect(await rows(published, `select distinct cycle_source from dim_billing_cycles order by all`)).toEqual([
      { cycle_source: 'calendar' },
      { cycle_source: 'rule' },
    ]);
    expect(await rows(published, `select count(*)::integer as n from fct_conversation_charges where price_status = 'no_price'`)).toEqual([{ n: 0 }]);
    const reconciled = await reconcile({ db: options.db, invoices: join(dir, 'invoices', 'sample-invoice.csv') });
    expect(reconciled.differences).toBe(0);
  });

  it('refuses to overwrite convbill.json without force, and never overwrites a sample file', () => {
    const dir = tempDir();
    init({ dir });
    writeFileSync(join(dir, 'prices.csv'), 'mine\n');
    expect(() => init({ dir })).toThrow(ConfigError);
    expect(() => init({ dir })).toThrow(/^\S*convbill\.json already exists; pass --force to overwrite it[^.]*\.$/);
    const again = init({ dir, force: true });
    expect(again.written).toEqual(['convbill.json']);
    expect(again.kept).toContain('prices.csv');
    expect(readFileSync(join(dir, 'prices.csv'), 'utf8')).toBe('mine\n');
  });
});
