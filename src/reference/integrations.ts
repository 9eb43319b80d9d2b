/**
 * The integrations reference (docs/billing-rules.md §6): integration_id, platform and
 * optionally org_id and name, into `cfg_integrations`. A line without an
 * integration or platform, or two lines giving one integration two platforms,
 * is a configuration error.
 */
import { ConfigError } from '../engine/errors.js';
import { readReferenceFile } from './reference-files.js';
import type { Engine } from '../engine/engine.js';

export async function loadIntegrations(warehouse: Engine, file: string | undefined): Promise<void> {
  await warehouse.run(
    `create or replace table cfg_integrations (org_id varchar, integration_id varchar, platform varchar, name varchar, source_row bigint)`,
  );
  if (!file) return;
  const columns = await readReferenceFile(warehouse, {
    label: 'Integrations file',
    file,
    table: 'integration_rows',
    required: ['integration_id', 'platform'],
    optional: ['org_id', 'name'],
  });
  const optional = (name: string) => (columns.includes(name) ? `clean_text(${name})` : 'null::varchar');
  await warehouse.run(`
    insert into cfg_integrations
    select ${optional('org_id')}, clean_text(integration_id), lower(clean_text(platform)), ${optional('name')}, source_row
    from integration_rows`);
  const [incomplete] = await warehouse.rows<{ source_row: bigint; field: string }>(`
    select source_row, case when integration_id is null then 'integration_id' else 'platform' end as field
    from cfg_integrations where integration_id is null or platform is null order by source_row limit 1`);
  if (incomplete) {
    throw new ConfigError(`Integrations file ${file}, row ${incomplete.source_row}: ${incomplete.field} is missing.`);
  }
  const [conflict] = await warehouse.rows<{ org_id: string | null; integration_id: string; platforms: string }>(`
    select org_id, integration_id, string_agg(distinct platform, ' and ' order by platform) as platforms
    from cfg_integrations group by org_id, integration_id
    having count(distinct platform) > 1 order by all limit 1`);
  if (conflict) {
    const org = conflict.org_id === null ? '' : ` of org "${conflict.org_id}"`;
    throw new ConfigError(
      `Integrations file ${file}: integration "${conflict.integration_id}"${org} is given two platforms, ${conflict.platforms}.`,
    );
  }
  // Exact repeats of a line are harmless; keep one so joins stay one-to-one.
  await warehouse.run(`
    create or replace table cfg_integrations as
    select org_id, integration_id, any_value(platform) as platform, max(name) as name, min(source_row) as source_row
    from cfg_integrations group by org_id, integration_id`);
}
