/**
 * `explain`: why an account was billed what it was. A disputed invoice line
 * is a count; support needs the conversations behind it, the interactions
 * behind each and the input rows behind those, so the customer can be shown
 * their own file and row numbers.
 *
 * The facts keep no lineage to the raw rows, so the rows are found again:
 * the staging model runs over the loads that count and its interaction keys
 * are matched with the stored interactions. That needs the raw layer and
 * int_interactions, which only the working database holds.
 */
import { ConfigError, RunError, engineMessage } from '../engine/errors.js';
import { loadModels } from '../project/load-models.js';
import { namedQuery } from '../project/named-queries.js';
import { createScopeView } from '../ingest/raw-layer.js';
import { isoFromMicros } from '../engine/duckdb/values.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { rawStoreOf } from '../config/warehouse-paths.js';
import type { ClickHouseSettings } from '../config/build-options.js';
import { clickhouseMessage } from '../engine/clickhouse/cluster.js';
import { clickhouseString } from '../engine/clickhouse/literals.js';
import { pullIntoDuckDB } from '../engine/clickhouse/pull.js';
import { READ_ONLY_SETTINGS } from '../engine/clickhouse/read-only.js';
import { readerClient } from '../engine/clickhouse/reader-client.js';

export interface ExplainOptions {
  /** the working database (the published copy has no interactions or raw rows) */
  db: string;
  /** folder of stored Parquet copies (default: `<db>.raw`) */
  rawStore?: string;
  org: string;
  account: string;
  integration?: string;
  /** a cycle_id */
  cycle?: string;
  /**
   * the ClickHouse warehouse the working database builds (engine clickhouse):
   * the account's conversations and interactions are read from it, the
   * input rows behind them from the working database's raw layer, as on DuckDB
   */
  clickhouse?: ClickHouseSettings;
}

export interface ExplainedInteraction {
  interaction_key: string;
  /** as given in the input; null for a row that had none (its key is made from its content) */
  interaction_id: string | null;
  started_at: string;
  /** null: still open */
  ended_at: string | null;
  /** the end the cycles were counted to: the end, or as-of for an open interaction */
  effective_end: string;
  rows: { source_file: string; source_row: number }[];
}

export type ExplainRule = 'interaction_spans_boundary' | 'new_cycle' | 'other_platform' | 'other_integration' | 'first_conversation';

export interface ExplainedConversation {
  org_id: string;
  customer_account_id: string;
  cycle_id: string;
  cycle_start: string;
  cycle_end: string | null;
  integration_id: string;
  platform: string;
  interaction_count: number;
  /** the first of `rules` */
  rule: ExplainRule;
  rule_sentence: string;
  /** every rule that applies, in order of precedence */
  rules: ExplainRule[];
  interactions: ExplainedInteraction[];
}

export const RULE_SENTENCES: Record<ExplainRule, string> = {
  interaction_spans_boundary:
    'an interaction that started in an earlier cycle was still going on in this one, and an interaction counts once in each cycle it touches',
  new_cycle: 'the account already had a conversation on this integration in an earlier cycle, and each cycle bills its own',
  other_platform: 'the account also talked through an integration of another platform in this cycle, and each integration is billed separately',
  other_integration:
    'the account also talked through another integration of the same platform in this cycle, and each integration is billed separately',
  first_conversation: "the account's first conversation on this integration, and its only one in this cycle",
};

/** A row of sql/queries/explain_conversations.sql. */
interface ExplainRow {
  org_id: string;
  customer_account_id: string;
  cycle_id: string;
  cycle_start_us: bigint;
  cycle_end_us: bigint | null;
  integration_id: string;
  platform: string;
  interaction_count: bigint;
  spans_boundary: boolean;
  has_earlier_cycle: boolean;
  has_other_platform: boolean;
  has_other_integration: boolean;
  interactions: {
    interaction_key: string;
    started_us: bigint;
    ended_us: bigint | null;
    effective_end_us: bigint;
    source_rows: { source_file: string; source_row: bigint }[];
  }[];
}

/** Keys of rows without an interaction_id (see stg_rows). */
const CONTENT_KEY_PREFIX = '~row:';

const iso = (micros: bigint) => isoFromMicros(micros, 'Z');

export async function explain(options: ExplainOptions): Promise<ExplainedConversation[]> {
  // Read-only, like query: explain changes nothing, and the temp views it
  // needs live in memory, outside the file.
  const warehouse = await Warehouse.open(options.db, { readOnly: true });
  try {
    if (options.clickhouse) await pullAccount(warehouse, options.clickhouse, options.org, options.account);
    for (const table of options.clickhouse ? ['raw_files'] : ['fct_billable_conversations', 'int_interactions', 'raw_files']) {
      if ((await warehouse.columnsOf(table)).length === 0) {
        throw new ConfigError(
          `Database ${options.db} has no table ${table}; explain needs the working database of a build, not the published copy.`,
        );
      }
    }
    const loads = await warehouse.rows<{ load_id: number }>(`select load_id from cfg_loads order by load_id`);
    await createScopeView(warehouse, options.rawStore ?? rawStoreOf(options.db), loads.map((load) => load.load_id));
    const staging = loadModels().find((model) => model.name === 'stg_rows');
    if (!staging) throw new RunError('The stg_rows model is missing from the sql/ folder of the convbill package.');
    await warehouse.run(`create or replace temp view stg_rows as\n${staging.sql}`);
    const rows = await warehouse
      .rows<ExplainRow & Record<string, unknown>>(namedQuery('explain_conversations'), {
        org: options.org,
        account: options.account,
        integration: options.integration ?? null,
        cycle: options.cycle ?? null,
      })
      .catch((error: unknown) => {
        throw new RunError(`Explaining account ${options.account} of org ${options.org} failed: ${engineMessage(error)}.`, { cause: error });
      });
    if (rows.length === 0) await assertKnownKeys(warehouse, options);
    return rows.map(shape);
  } finally {
    warehouse.close();
  }
}

/**
 * Nothing to explain is an answer only for a billed account whose cycle or
 * integration filter matched none; an org or account that is billed nowhere
 * is most likely a typo, and a support script must not read it as "owes
 * nothing". (On ClickHouse the working database holds only the account's
 * pulled rows, so no close matches are offered there.)
 */
async function assertKnownKeys(warehouse: Warehouse, options: ExplainOptions): Promise<void> {
  const [known] = await warehouse.rows<{ org_known: boolean; account_known: boolean; closest: string[] | null }>(
    namedQuery('explain_known_keys'),
    { org: options.org, account: options.account },
  );
  if (!known || known.account_known) return;
  const byAccount = known.org_known || options.clickhouse !== undefined;
  const closest = options.clickhouse ? '' : (known.closest ?? []).map((id) => JSON.stringify(id)).join(', ');
  const what = byAccount
    ? `Account ${JSON.stringify(options.account)} has no billed conversation in org ${JSON.stringify(options.org)}`
    : `Org ${JSON.stringify(options.org)} has no billed conversation in ${options.db}`;
  const hint = closest ? `; the closest billed ${byAccount ? 'accounts' : 'orgs'}: ${closest}` : '';
  throw new RunError(`${what}${hint}.`);
}

/**
 * One account's conversations and interactions from a ClickHouse warehouse,
 * as temp tables of the names and columns explain_conversations.sql reads
 * (they shadow nothing: a ClickHouse build's working database keeps neither).
 * int_interactions there is the last build's, kept on the shards until the next.
 */
async function pullAccount(warehouse: Warehouse, settings: ClickHouseSettings, org: string, account: string): Promise<void> {
  const client = readerClient(settings);
  const where = `where org_id = ${clickhouseString(org)} and customer_account_id = ${clickhouseString(account)}`;
  try {
    await pullIntoDuckDB(
      client,
      `select org_id, cycle_id, cycle_start, cycle_end, integration_id, platform, customer_account_id, interaction_count,
              first_activity_at, last_activity_at
       from fct_billable_conversations ${where}`,
      warehouse,
      'fct_billable_conversations',
      {
        org_id: 'varchar', cycle_id: 'varchar', cycle_start: 'instant', cycle_end: 'instant', integration_id: 'varchar', platform: 'varchar',
        customer_account_id: 'varchar', interaction_count: 'bigint', first_activity_at: 'instant', last_activity_at: 'instant',
      },
      READ_ONLY_SETTINGS,
    );
    await pullIntoDuckDB(
      client,
      `select org_id, integration_id, interaction_key, customer_account_id, started_at, ended_at, effective_end, reject_reason
       from int_interactions ${where}`,
      warehouse,
      'clickhouse_interactions',
      {
        org_id: 'varchar', integration_id: 'varchar', interaction_key: 'varchar', customer_account_id: 'varchar',
        started_at: 'instant', ended_at: 'instant', effective_end: 'instant', reject_reason: 'varchar',
      },
      READ_ONLY_SETTINGS,
    );
  } catch (error) {
    throw new RunError(`Explaining account ${account} of org ${org} failed reading ClickHouse at ${settings.url}: ${clickhouseMessage(error)}.`, { cause: error });
  } finally {
    await client.close();
  }
  await warehouse.run(
    `create or replace temp table int_interactions as
     select keys.integration_sk, interactions.interaction_key, interactions.customer_account_id, interactions.started_at,
            interactions.ended_at, interactions.effective_end, interactions.reject_reason
     from clickhouse_interactions as interactions
     inner join int_integration_keys as keys
         on interactions.org_id = keys.org_id and interactions.integration_id = keys.integration_id`,
  );
}

function shape(row: ExplainRow): ExplainedConversation {
  const rules: ExplainRule[] = [
    ...(row.spans_boundary ? (['interaction_spans_boundary'] as const) : []),
    ...(row.has_earlier_cycle ? (['new_cycle'] as const) : []),
    ...(row.has_other_platform ? (['other_platform'] as const) : []),
    ...(row.has_other_integration ? (['other_integration'] as const) : []),
  ];
  const rule = rules[0] ?? 'first_conversation';
  return {
    org_id: row.org_id,
    customer_account_id: row.customer_account_id,
    cycle_id: row.cycle_id,
    cycle_start: iso(row.cycle_start_us),
    cycle_end: row.cycle_end_us === null ? null : iso(row.cycle_end_us),
    integration_id: row.integration_id,
    platform: row.platform,
    interaction_count: Number(row.interaction_count),
    rule,
    rule_sentence: RULE_SENTENCES[rule],
    rules: rules.length > 0 ? rules : [rule],
    interactions: row.interactions.map((interaction) => ({
      interaction_key: interaction.interaction_key,
      interaction_id: interaction.interaction_key.startsWith(CONTENT_KEY_PREFIX) ? null : interaction.interaction_key,
      started_at: iso(interaction.started_us),
      ended_at: interaction.ended_us === null ? null : iso(interaction.ended_us),
      effective_end: iso(interaction.effective_end_us),
      rows: interaction.source_rows.map((source) => ({ source_file: source.source_file, source_row: Number(source.source_row) })),
    })),
  };
}

export function formatExplain(conversations: ExplainedConversation[], format: 'table' | 'json'): string {
  if (format === 'json') return JSON.stringify(conversations, null, 2);
  if (conversations.length === 0) return 'no conversations';
  return conversations
    .flatMap((conversation) => [
      `cycle ${conversation.cycle_id}  ${conversation.integration_id} (${conversation.platform})  ` +
        `${conversation.rule}: ${conversation.rule_sentence}`,
      ...conversation.interactions.map((interaction) => {
        const name = interaction.interaction_id ?? `(no id) ${interaction.interaction_key}`;
        const end = interaction.ended_at ?? `open, counted to ${interaction.effective_end}`;
        const rows = interaction.rows.map((source) => `${source.source_file}:${source.source_row}`).join(', ');
        return `    ${name}  ${interaction.started_at} .. ${end}  rows ${rows || 'none'}`;
      }),
    ])
    .join('\n');
}
