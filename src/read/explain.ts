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
import { loadModels } from '../project/models.js';
import { createScopeView } from '../ingest/raw-layer.js';
import { isoFromMicros } from '../engine/duckdb/values.js';
import { Warehouse } from '../engine/duckdb/warehouse.js';
import { rawStoreOf } from '../config/warehouse-paths.js';

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

// The rule of a conversation depends on the account's other conversations,
// so the windows run over all of them before --integration and --cycle narrow
// the list. Instants leave as epoch microseconds: nested values would
// otherwise reach JS as Dates and lose their microseconds.
const EXPLAIN_SQL = `
with account_conversations as (
    select org_id, customer_account_id, cycle_id, cycle_start, cycle_end, integration_id, platform, interaction_count
    from fct_billable_conversations
    where org_id = $org and customer_account_id = $account
),

conversations_in_context as (
    select
        *,
        cycle_start > min(cycle_start) over (partition by integration_id) as has_earlier_cycle,
        min(platform) over same_cycle <> max(platform) over same_cycle as has_other_platform,
        count(*) over (partition by cycle_start, platform) > 1 as has_other_integration
    from account_conversations
    window same_cycle as (partition by cycle_start)
),

listed_conversations as (
    select *
    from conversations_in_context
    where ($integration::varchar is null or integration_id = $integration)
        and ($cycle::varchar is null or cycle_id = $cycle)
),

-- docs/billing-rules.md §4: started_at < cycle_end and effective_end >= cycle_start
overlapping_interactions as (
    select
        listed_conversations.cycle_start,
        keys.integration_id,
        int_interactions.interaction_key,
        int_interactions.started_at,
        int_interactions.ended_at,
        int_interactions.effective_end
    from listed_conversations
    inner join int_integration_keys as keys
        on listed_conversations.org_id = keys.org_id
        and listed_conversations.integration_id = keys.integration_id
    inner join int_interactions
        on keys.integration_sk = int_interactions.integration_sk
        and listed_conversations.customer_account_id = int_interactions.customer_account_id
        and int_interactions.started_at < coalesce(listed_conversations.cycle_end, 'infinity'::timestamptz)
        and int_interactions.effective_end >= listed_conversations.cycle_start
    where int_interactions.reject_reason is null
),

-- every row of a billable interaction carries its account (or it would be a
-- conflict), so filtering on the account only prunes the scan
accepted_source_rows as (
    select
        stg_rows.integration_id,
        stg_rows.interaction_key,
        list({'source_file': raw_files.source_file, 'source_row': stg_rows.source_row}
            order by raw_files.load_id, stg_rows.source_row) as source_rows
    from stg_rows
    inner join raw_files on stg_rows.load_id = raw_files.load_id
    semi join overlapping_interactions
        on stg_rows.integration_id = overlapping_interactions.integration_id
        and stg_rows.interaction_key = overlapping_interactions.interaction_key
    where stg_rows.org_id = $org
        and stg_rows.customer_account_id = $account
        and stg_rows.row_reject_reason is null
    group by stg_rows.integration_id, stg_rows.interaction_key
),

interactions_per_conversation as (
    select
        overlapping_interactions.cycle_start,
        overlapping_interactions.integration_id,
        bool_or(overlapping_interactions.started_at < overlapping_interactions.cycle_start) as spans_boundary,
        list({
            'interaction_key': overlapping_interactions.interaction_key,
            'started_us': epoch_us(overlapping_interactions.started_at),
            'ended_us': epoch_us(overlapping_interactions.ended_at),
            'effective_end_us': epoch_us(overlapping_interactions.effective_end),
            'source_rows': coalesce(accepted_source_rows.source_rows, [])
        } order by overlapping_interactions.started_at, overlapping_interactions.interaction_key) as interactions
    from overlapping_interactions
    left join accepted_source_rows
        on overlapping_interactions.integration_id = accepted_source_rows.integration_id
        and overlapping_interactions.interaction_key = accepted_source_rows.interaction_key
    group by overlapping_interactions.cycle_start, overlapping_interactions.integration_id
)

select
    listed_conversations.org_id,
    listed_conversations.customer_account_id,
    listed_conversations.cycle_id,
    epoch_us(listed_conversations.cycle_start) as cycle_start_us,
    epoch_us(listed_conversations.cycle_end) as cycle_end_us,
    listed_conversations.integration_id,
    listed_conversations.platform,
    listed_conversations.interaction_count,
    coalesce(interactions_per_conversation.spans_boundary, false) as spans_boundary,
    listed_conversations.has_earlier_cycle,
    listed_conversations.has_other_platform,
    listed_conversations.has_other_integration,
    coalesce(interactions_per_conversation.interactions, []) as interactions
from listed_conversations
left join interactions_per_conversation
    on listed_conversations.cycle_start = interactions_per_conversation.cycle_start
    and listed_conversations.integration_id = interactions_per_conversation.integration_id
order by listed_conversations.cycle_start, listed_conversations.integration_id
`;

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
    for (const table of ['fct_billable_conversations', 'int_interactions', 'raw_files']) {
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
      .rows<ExplainRow & Record<string, unknown>>(EXPLAIN_SQL, {
        org: options.org,
        account: options.account,
        integration: options.integration ?? null,
        cycle: options.cycle ?? null,
      })
      .catch((error: unknown) => {
        throw new RunError(`Explaining account ${options.account} of org ${options.org} failed: ${engineMessage(error)}.`, { cause: error });
      });
    return rows.map(shape);
  } finally {
    warehouse.close();
  }
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
