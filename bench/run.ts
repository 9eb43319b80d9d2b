/**
 * `npm run bench -- [--rows N] [--reps 3] [--work DIR] [--only id,id]`
 * (ids: convbill, convbill-2gb, clickhouse, clickhouse-1shard, clickhouse-node,
 * floor-bare, floor-spec, postgres, naive, nightly-full, nightly, nightly-none,
 * nightly-asof, nightly-asof-stale)
 *
 * Generates (once) a seeded synthetic log of N rows as Parquet, then runs
 * every contender on it, each repetition in a fresh process, and prints a
 * Markdown table (median seconds, rows/s, peak RSS, ratio to convbill) and
 * writes the same as JSON. Every contender must find the same number of
 * conversations as the others on the same data, or the run fails.
 *
 * The nightly pair adds one more day of rows (1/365 of the history) to it:
 * `nightly-full` rebuilds history + day from scratch, `nightly` builds the
 * day incrementally onto a copy of a warehouse holding the history (built
 * once, untimed), as a nightly job does. Two more nightly builds start from
 * such a copy with no new file: `nightly-none` at the history's as-of (nothing
 * to do), `nightly-asof` one day later (the history alone at NEXT_AS_OF, its
 * own dataset for the totals check). Open interactions are those still
 * running at the history's end, and the day closes those that end within it,
 * as a vendor's exports do; `nightly-asof-stale` is the worst case instead:
 * as-of +1 day on a history whose 0.5% open interactions never close, whatever
 * their start, so every later as-of changes conversations in every cycle they
 * span (rules §6). The partitions each nightly build
 * rebuilt follow the table, and a table of where a DuckDB build's time goes
 * (its phases, and its five slowest models and audits) after that.
 *
 * The ClickHouse pair is convbill's own build with engine clickhouse on the
 * cluster at CONVBILL_BENCH_CLICKHOUSE_URL (default http://127.0.0.1:18123):
 * `clickhouse` on convbill_2shards, `clickhouse-1shard` on convbill_1shard,
 * each run into a database dropped first; skipped when the cluster does not
 * answer. Their peak RSS is the node process's (the working DuckDB, which
 * reads, stages and ships the rows, included); the servers' memory and the
 * build's phases follow the table (bench/clickhouse.ts says how it is measured).
 * `clickhouse-node` is hand-written ClickHouse SQL on that URL's one server
 * (bench/clickhouse-node.ts): its rows as TSV (written untimed), loaded and
 * counted; its peak RSS is the node process's plus the server's.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { clickhouseServerUnavailable, clickhouseUnavailable, clickhouseUrl } from './clickhouse.js';
import type { ContenderArgs, ContenderResult } from './contenders.js';
import { AS_OF, benchDataset, benchDay, parquetRows } from './generate.js';
import { postgresBinaries } from './postgres.js';
import { runContender } from './spawn.js';

/** the night after the extra day, 2026-01-01 */
const NEXT_AS_OF = '2026-01-02T00:00:00Z';

interface Contender {
  /** what --only names */
  id: string;
  /** the script in contenders.ts */
  name: string;
  label: string;
  args?: Partial<ContenderArgs>;
  /** why it does not run at this size (or on this machine), if it does not */
  skip?: (rows: number) => string | undefined | Promise<string | undefined>;
  /** the history at AS_OF (the default), the history and one more day at NEXT_AS_OF, or the history alone at NEXT_AS_OF */
  dataset?: Dataset;
  /** a contender whose one untimed run (on the history at AS_OF) prepares the `base` of this one's runs */
  setup?: string;
}

/** stale@next: the worst-case history (bench/generate.sql, open = 'stale', 0.5% of its rows open forever) at NEXT_AS_OF */
type Dataset = 'history' | 'history+day' | 'history@next' | 'stale@next';

/** Contenders find the same totals on the same dataset; these are its words in the totals line. */
const DATASETS: Record<Dataset, string> = {
  history: 'history',
  'history+day': 'history + 1 day',
  'history@next': 'history as of a day later',
  'stale@next': 'worst-case history as of a day later',
};

const CONTENDERS: Contender[] = [
  { id: 'convbill', name: 'convbill', label: 'convbill build (full, from Parquet)' },
  { id: 'convbill-2gb', name: 'convbill', label: 'convbill build, --memory-limit 2GB', args: { memoryLimit: '2GB' } },
  {
    id: 'clickhouse',
    name: 'clickhouse',
    label: 'convbill on ClickHouse 18.16, 2 shards (engine clickhouse)',
    args: { clickhouseCluster: 'convbill_2shards' },
    skip: () => clickhouseUnavailable('convbill_2shards'),
  },
  {
    id: 'clickhouse-1shard',
    name: 'clickhouse',
    label: 'convbill on ClickHouse 18.16, 1 shard (engine clickhouse)',
    args: { clickhouseCluster: 'convbill_1shard' },
    skip: () => clickhouseUnavailable('convbill_1shard'),
  },
  {
    id: 'clickhouse-node',
    name: 'clickhouse-node',
    label: 'ClickHouse 18.16, one node, hand-written SQL (load + count)',
    skip: () => clickhouseServerUnavailable(),
    setup: 'clickhouse-node-input',
  },
  { id: 'floor-bare', name: 'floor-bare', label: 'engine floor, bare (counts + detail, no merge)' },
  { id: 'floor-spec', name: 'floor-spec', label: 'engine floor, spec-complete (merge, DuckDB file, Hive exports)' },
  {
    id: 'postgres',
    name: 'postgres',
    label: 'PostgreSQL 15 (COPY + same SQL)',
    skip: () => (postgresBinaries() ? undefined : 'PostgreSQL is not installed (apt-get install postgresql-15)'),
  },
  {
    id: 'naive',
    name: 'naive',
    label: 'naive TypeScript (one Map, one thread)',
    skip: (rows) => (rows > 10_000_000 ? 'only run up to 10M rows' : undefined),
  },
  { id: 'nightly-full', name: 'convbill', label: 'history + 1 day: full rebuild', dataset: 'history+day' },
  { id: 'nightly', name: 'nightly', label: 'history + 1 day: nightly increment', dataset: 'history+day', setup: 'convbill' },
  { id: 'nightly-none', name: 'nightly', label: 'history, nothing new, same as-of: nightly', setup: 'convbill' },
  { id: 'nightly-asof', name: 'nightly', label: 'history, no new file, as-of +1 day: nightly', dataset: 'history@next', setup: 'convbill' },
  {
    id: 'nightly-asof-stale',
    name: 'nightly',
    label: 'worst case, 0.5% open forever: as-of +1 day: nightly',
    dataset: 'stale@next',
    setup: 'convbill',
  },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function runOnce(contender: Contender, args: ContenderArgs): ContenderResult {
  return runContender(contender.name, { ...args, ...contender.args }, contender.label);
}

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    reps: { type: 'string', default: '3' },
    work: { type: 'string', default: resolve('bench/out') },
    only: { type: 'string' },
  },
});
const rows = Number(values.rows);
const reps = Number(values.reps);
const work = resolve(values.work as string);
const input = await benchDataset(work, rows);
const { path: day, rows: dayRows } = await benchDay(work, rows);
const closingRows = Number(await parquetRows(day)) - dayRows;

const only = values.only?.split(',');
const results: Record<string, unknown>[] = [];
/** the setups run so far (their `base` is under work/run/<setup>-base) */
const prepared = new Set<string>();
for (const contender of CONTENDERS.filter((c) => !only || only.includes(c.id))) {
  const skipped = await contender.skip?.(rows);
  if (skipped) {
    process.stderr.write(`skip ${contender.label}: ${skipped}\n`);
    results.push({ id: contender.id, contender: contender.label, skipped });
    continue;
  }
  const dataset = contender.dataset ?? 'history';
  const stale = dataset === 'stale@next';
  const history = stale ? await benchDataset(work, rows, 'stale') : input;
  const args: ContenderArgs = {
    input: history,
    ...(dataset === 'history+day' && { day }),
    asOf: dataset === 'history' ? AS_OF : NEXT_AS_OF,
    work: join(work, 'run', contender.id),
  };
  const runs: ContenderResult[] = [];
  try {
    if (contender.setup) {
      // one untimed run per setup and bench run, shared by the contenders that start from it (they copy it, or only read it)
      const setup = `${contender.setup}${stale ? '-stale' : ''}`;
      args.base = join(work, 'run', `${setup}-base`);
      if (!prepared.has(setup)) {
        process.stderr.write(`${contender.label}: preparing what it starts from with ${contender.setup} (untimed)\n`);
        runOnce({ ...contender, name: contender.setup }, { input: history, asOf: AS_OF, work: args.base });
        prepared.add(setup);
      }
    }
    for (let rep = 0; rep < reps; rep += 1) {
      process.stderr.write(`${contender.label}: run ${rep + 1}/${reps}\n`);
      runs.push(runOnce(contender, args));
    }
  } catch (error) {
    // the others' results still count; the run fails at the end
    const failed = error instanceof Error ? error.message : String(error);
    process.stderr.write(`${failed}\n`);
    results.push({ id: contender.id, contender: contender.label, skipped: `FAILED: ${failed}`, failed: true });
    continue;
  }
  const phases = Object.keys(runs[0]?.phases ?? {});
  const models = Object.keys(runs[0]?.models ?? {});
  const servers = runs[0]?.servers && {
    peakRssKb: runs.every((run) => run.servers?.peakRssKb !== undefined) ? median(runs.map((run) => run.servers?.peakRssKb ?? 0)) : undefined,
    peakTrackedKb: median(runs.map((run) => run.servers?.peakTrackedKb ?? 0)),
    method: runs[0].servers.method,
  };
  results.push({
    id: contender.id,
    contender: contender.label,
    dataset,
    seconds: median(runs.map((run) => run.seconds)),
    maxRssKb: median(runs.map((run) => run.maxRssKb)),
    conversations: runs[0]?.conversations,
    ...(runs[0]?.partitionsRebuilt !== undefined && { partitionsRebuilt: runs[0].partitionsRebuilt }),
    phases: Object.fromEntries(phases.map((phase) => [phase, median(runs.map((run) => run.phases?.[phase] ?? 0))])),
    ...(servers && { servers }),
    ...(models.length && { models: Object.fromEntries(models.map((model) => [model, median(runs.map((run) => run.models?.[model] ?? 0))])) }),
    runs,
  });
}

const measured = results.filter((r) => r.seconds !== undefined) as {
  id: string;
  contender: string;
  dataset: Dataset;
  seconds: number;
  maxRssKb: number;
  conversations: number;
  partitionsRebuilt?: number;
  phases: Record<string, number>;
  models?: Record<string, number>;
  servers?: { peakRssKb?: number; peakTrackedKb: number; method: string };
  runs: ContenderResult[];
}[];
const reference = measured.find((r) => r.contender.startsWith('convbill build'));
const gib = (kb: number | undefined) => (kb === undefined ? '–' : `${(kb / 1024 / 1024).toFixed(2)} GiB`);
// totals are compared within a dataset: the same rows at the same as-of
const datasetsRun = [...new Set(measured.map((r) => r.dataset))];
const totalsOf = (dataset: Dataset) => [...new Set(measured.filter((r) => r.dataset === dataset).map((r) => r.conversations))];
const agree = datasetsRun.every((dataset) => totalsOf(dataset).length <= 1);
const totals = datasetsRun.map((dataset) => `${DATASETS[dataset]}: ${totalsOf(dataset).map((total) => total.toLocaleString('en')).join(', ')}`).join('; ');
const lines = [
  `Benchmark: ${rows.toLocaleString('en')} rows, median of ${reps}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  '',
  '| contender | seconds | rows/s | peak RSS | time vs convbill | conversations |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.map((r) => {
    if (r.seconds === undefined) return `| ${r.contender} | – | – | – | – | ${r.skipped} |`;
    const m = r as (typeof measured)[number];
    const ratio = reference ? `${(m.seconds / reference.seconds).toFixed(2)}x` : '–';
    const whose = m.id === 'clickhouse-node' ? ' (node + server)' : m.servers ? ' (node)' : '';
    return `| ${m.contender} | ${m.seconds.toFixed(2)} | ${Math.round(rows / m.seconds).toLocaleString('en')} | ${gib(m.maxRssKb)}${whose} | ${ratio} | ${m.conversations.toLocaleString('en')} |`;
  }),
  '',
  agree
    ? `Every contender found the same conversations as the others on the same data (${totals || 'none measured'}).`
    : `MISMATCH: contenders disagree on the conversation total (${totals}).`,
];
const rebuilt = measured.filter((r) => r.partitionsRebuilt !== undefined);
if (rebuilt.some((r) => r.id.startsWith('nightly'))) {
  lines.push(`Partitions rebuilt (the build's plan.partitionsRebuilt): ${rebuilt.map((r) => `${r.id} ${r.partitionsRebuilt?.toLocaleString('en')}`).join(', ')}.`);
}
const onClickHouse = measured.filter((r) => r.servers && r.id !== 'clickhouse-node');
if (onClickHouse.length) {
  const phaseNames = ['ingest', 'loader models', 'ship', 'models', 'audits', 'publish', 'summary'];
  lines.push(
    '',
    `ClickHouse builds (${clickhouseUrl()}): memory side by side, and the build's phases (median seconds; "rest" is the build's time outside them: connecting, the cluster's tables, the run history, DuckDB's commit):`,
    '',
    `| contender | seconds | node peak RSS | servers' peak RSS | servers' peak MemoryTracking | ${phaseNames.join(' | ')} | rest |`,
    `|---|---:|---:|---:|---:|${phaseNames.map(() => '---:|').join('')}---:|`,
    ...onClickHouse.map((r) => {
      const phase = (name: string) => r.phases[`phase: ${name}`] ?? 0;
      const inPhases = Object.entries(r.phases).reduce((sum, [name, seconds]) => sum + (name.startsWith('phase: ') ? seconds : 0), 0);
      return `| ${r.contender} | ${r.seconds.toFixed(2)} | ${gib(r.maxRssKb)} | ${gib(r.servers?.peakRssKb)} | ${gib(r.servers?.peakTrackedKb)} | ${phaseNames.map((name) => phase(name).toFixed(2)).join(' | ')} | ${(r.seconds - inPhases).toFixed(2)} |`;
    }),
    '',
    `Servers' memory: ${onClickHouse[0]?.servers?.method}.`,
    ...onClickHouse.map(
      (r) =>
        `${r.contender}, shard-local models: ${Object.entries(r.models ?? {})
          .map(([model, seconds]) => `${model} ${seconds.toFixed(2)} s`)
          .join(', ')}.`,
    ),
  );
  const twoShards = onClickHouse.find((r) => r.id === 'clickhouse');
  const oneShard = onClickHouse.find((r) => r.id === 'clickhouse-1shard');
  if (twoShards && oneShard) {
    lines.push(
      `2 shards / 1 shard on this machine: ${(twoShards.seconds / oneShard.seconds).toFixed(2)}x the time; the models phase ${(twoShards.phases['phase: models'] ?? 0).toFixed(2)} s against ${(oneShard.phases['phase: models'] ?? 0).toFixed(2)} s.`,
    );
  }
  if (reference) lines.push(`ClickHouse, 2 shards / convbill on DuckDB: ${twoShards ? (twoShards.seconds / reference.seconds).toFixed(2) : '–'}x the time.`);
}
const node = measured.find((r) => r.id === 'clickhouse-node');
if (node) {
  const phase = (name: string) => `${(node.phases[name] ?? 0).toFixed(2)} s`;
  lines.push(
    '',
    `ClickHouse, one node (${clickhouseUrl()}, bench/clickhouse-node.sql; its rows written as TSV beforehand, untimed): setup ${phase('setup')}, load ${phase('load')}, count ${phase('count')} (merge ${phase('count: merge')}, detail ${phase('count: detail')}, counts ${phase('count: counts')}); the server's peak RSS ${gib(node.servers?.peakRssKb)}, its peak MemoryTracking ${gib(node.servers?.peakTrackedKb)}${reference ? `; convbill / it: ${(reference.seconds / node.seconds).toFixed(2)}x the time` : ''}.`,
  );
}
const floor = measured.find((r) => r.contender.startsWith('engine floor, spec'));
if (reference && floor) lines.push(`convbill / spec-complete floor: ${(reference.seconds / floor.seconds).toFixed(2)}x time, ${(reference.maxRssKb / floor.maxRssKb).toFixed(2)}x memory.`);
const fullDay = measured.find((r) => r.id === 'nightly-full');
const nightlyDay = measured.find((r) => r.id === 'nightly');
if (fullDay && nightlyDay) {
  lines.push(
    `Nightly increment (${dayRows.toLocaleString('en')} new rows and ${closingRows.toLocaleString('en')} closing rows) / full rebuild of the same data: ${((100 * nightlyDay.seconds) / fullDay.seconds).toFixed(1)}% of the time, ${(nightlyDay.maxRssKb / fullDay.maxRssKb).toFixed(2)}x the memory.`,
  );
}

// Where a DuckDB build's time goes: its phases per run (median over the runs), then its slowest steps.
const builds = measured.filter((r) => r.phases['phase: models, audits and commit'] !== undefined);
if (builds.length) {
  type Phases = Record<string, number>;
  const at = (phases: Phases, name: string) => phases[`phase: ${name}`] ?? 0;
  const TOP = ['setup', 'ingest', 'models, audits and commit', 'parquet export', 'summary', 'publish', 'checkpoint'];
  const columns: [string, (phases: Phases, seconds: number) => number][] = [
    ...['setup', 'ingest', 'configuration', 'models', 'audits'].map((name): [string, (phases: Phases) => number] => [name, (phases) => at(phases, name)]),
    ['commit', (phases) => at(phases, 'models, audits and commit') - at(phases, 'configuration') - at(phases, 'models') - at(phases, 'audits')],
    ...['parquet export', 'summary', 'publish', 'checkpoint'].map((name): [string, (phases: Phases) => number] => [name, (phases) => at(phases, name)]),
    ['rest', (phases, seconds) => seconds - TOP.reduce((sum, name) => sum + at(phases, name), 0)],
  ];
  const medianOf = (r: (typeof measured)[number], value: (phases: Phases, seconds: number) => number) =>
    median(r.runs.map((run) => value(run.phases ?? {}, run.seconds)));
  lines.push(
    '',
    'Where the time goes (median seconds per phase; commit is "models, audits and commit" less configuration, models and audits; rest is the build outside its phases: the run history between them, the export link, the run results, closing):',
    '',
    `| contender | seconds | ${columns.map(([name]) => name).join(' | ')} |`,
    `|---|---:|${columns.map(() => '---:|').join('')}`,
    ...builds.map((r) => `| ${r.contender} | ${r.seconds.toFixed(2)} | ${columns.map(([, value]) => medianOf(r, value).toFixed(2)).join(' | ')} |`),
    '',
    'The five slowest models and audits of each (median seconds):',
    '',
    ...builds.map((r) => {
      const steps = Object.entries(r.phases)
        .filter(([name]) => !name.startsWith('phase: '))
        .sort(([, a], [, b]) => b - a)
        .slice(0, 5);
      return `- ${r.contender}: ${steps.map(([name, seconds]) => `${name} ${seconds.toFixed(2)}`).join(', ')}`;
    }),
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const jsonPath = join(work, `bench-${rows}.json`);
writeFileSync(jsonPath, JSON.stringify({ rows, reps, asOf: AS_OF, machine: { cores: cpus().length, memoryBytes: totalmem(), node: process.version }, results }, null, 2));
process.stderr.write(`wrote ${jsonPath}\n`);
if (!agree || results.some((r) => r.failed)) process.exitCode = 1;
