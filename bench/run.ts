/**
 * `npm run bench -- [--rows N] [--reps 3] [--work DIR] [--only id,id]`
 * (ids: convbill, convbill-2gb, floor-bare, floor-spec, postgres, naive,
 * nightly-full, nightly)
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
 * once, untimed), as a nightly job does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { ContenderArgs, ContenderResult } from './contenders.js';
import { HISTORY, generate } from './generate.js';
import { postgresBinaries } from './postgres.js';

const AS_OF = '2026-01-01T00:00:00Z';
/** the night after the extra day, 2026-01-01 */
const NEXT_AS_OF = '2026-01-02T00:00:00Z';

interface Contender {
  /** what --only names */
  id: string;
  /** the script in contenders.ts */
  name: string;
  label: string;
  args?: Partial<ContenderArgs>;
  /** why it does not run at this size, if it does not */
  skip?: (rows: number) => string | undefined;
  /** the history alone, or the history and one more day */
  dataset?: 'history+day';
  /** a contender whose one untimed run prepares the `base` of this one's runs */
  setup?: string;
}

const CONTENDERS: Contender[] = [
  { id: 'convbill', name: 'convbill', label: 'convbill build (full, from Parquet)' },
  { id: 'convbill-2gb', name: 'convbill', label: 'convbill build, --memory-limit 2GB', args: { memoryLimit: '2GB' } },
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
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function runOnce(contender: Contender, args: ContenderArgs): ContenderResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'contenders.js');
  const child = spawnSync(process.execPath, [script, contender.name, JSON.stringify({ ...args, ...contender.args })], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  if (child.status !== 0) throw new Error(`${contender.label} failed: ${child.stderr.trim().split('\n').slice(-3).join(' ')}`);
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as ContenderResult;
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
mkdirSync(join(work, 'data'), { recursive: true });
const input = join(work, 'data', `rows-${rows}-seed42.parquet`);
const day = join(work, 'data', `rows-${rows}-seed42-day.parquet`);
const dayRows = Math.max(1, Math.round(rows / 365));
for (const [path, count, span] of [
  [input, rows, HISTORY],
  [day, dayRows, { first: rows, start: '2026-01-01 00:00:00+00', days: 1 }],
] as const) {
  if (existsSync(path)) continue;
  process.stderr.write(`generating ${count} rows into ${path}\n`);
  // written aside and renamed, so an interrupted run leaves no truncated file
  await generate(count, `${path}.partial`, 42, span);
  renameSync(`${path}.partial`, path);
}

const only = values.only?.split(',');
const results: Record<string, unknown>[] = [];
for (const contender of CONTENDERS.filter((c) => !only || only.includes(c.id))) {
  const skipped = contender.skip?.(rows);
  if (skipped) {
    process.stderr.write(`skip ${contender.label}: ${skipped}\n`);
    results.push({ contender: contender.label, skipped });
    continue;
  }
  const args: ContenderArgs = contender.dataset
    ? { input, day, asOf: NEXT_AS_OF, work: join(work, 'run', contender.id) }
    : { input, asOf: AS_OF, work: join(work, 'run', contender.id) };
  if (contender.setup) {
    process.stderr.write(`${contender.label}: preparing the warehouse it starts from (untimed)\n`);
    args.base = join(work, 'run', `${contender.id}-base`);
    runOnce({ ...contender, name: contender.setup }, { input, asOf: AS_OF, work: args.base });
  }
  const runs: ContenderResult[] = [];
  for (let rep = 0; rep < reps; rep += 1) {
    process.stderr.write(`${contender.label}: run ${rep + 1}/${reps}\n`);
    runs.push(runOnce(contender, args));
  }
  const phases = Object.keys(runs[0]?.phases ?? {});
  results.push({
    contender: contender.label,
    dataset: contender.dataset ?? 'history',
    seconds: median(runs.map((run) => run.seconds)),
    maxRssKb: median(runs.map((run) => run.maxRssKb)),
    conversations: runs[0]?.conversations,
    phases: Object.fromEntries(phases.map((phase) => [phase, median(runs.map((run) => run.phases?.[phase] ?? 0))])),
    runs,
  });
}

const measured = results.filter((r) => r.seconds !== undefined) as {
  contender: string;
  dataset: string;
  seconds: number;
  maxRssKb: number;
  conversations: number;
}[];
const reference = measured.find((r) => r.contender.startsWith('convbill build')) ;
const totalsOf = (dataset: string) => new Set(measured.filter((r) => r.dataset === dataset).map((r) => r.conversations));
const agree = ['history', 'history+day'].every((dataset) => totalsOf(dataset).size <= 1);
const lines = [
  `Benchmark: ${rows.toLocaleString('en')} rows, median of ${reps}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
  '',
  '| contender | seconds | rows/s | peak RSS | time vs convbill | conversations |',
  '|---|---:|---:|---:|---:|---:|',
  ...results.map((r) => {
    if (r.seconds === undefined) return `| ${r.contender} | – | – | – | – | ${r.skipped} |`;
    const m = r as (typeof measured)[number];
    const ratio = reference ? (m.seconds / reference.seconds).toFixed(2) : '–';
    return `| ${m.contender} | ${m.seconds.toFixed(2)} | ${Math.round(rows / m.seconds).toLocaleString('en')} | ${(m.maxRssKb / 1024 / 1024).toFixed(2)} GiB | ${ratio}x | ${m.conversations.toLocaleString('en')} |`;
  }),
  '',
  agree
    ? `Every contender found the same conversations as the others on the same data (history: ${[...totalsOf('history')].join('') || '–'}; history + 1 day: ${[...totalsOf('history+day')].join('') || '–'}).`
    : `MISMATCH: contenders disagree on the conversation total (history: ${[...totalsOf('history')].join(', ')}; history + 1 day: ${[...totalsOf('history+day')].join(', ')}).`,
];
const floor = measured.find((r) => r.contender.startsWith('engine floor, spec'));
if (reference && floor) lines.push(`convbill / spec-complete floor: ${(reference.seconds / floor.seconds).toFixed(2)}x time, ${(reference.maxRssKb / floor.maxRssKb).toFixed(2)}x memory.`);
const fullDay = measured.find((r) => r.contender.endsWith('full rebuild'));
const nightlyDay = measured.find((r) => r.contender.endsWith('nightly increment'));
if (fullDay && nightlyDay) {
  lines.push(
    `Nightly increment (${dayRows.toLocaleString('en')} rows) / full rebuild of the same data: ${((100 * nightlyDay.seconds) / fullDay.seconds).toFixed(1)}% of the time, ${(nightlyDay.maxRssKb / fullDay.maxRssKb).toFixed(2)}x the memory.`,
  );
}
process.stdout.write(`${lines.join('\n')}\n`);
const jsonPath = join(work, `bench-${rows}.json`);
writeFileSync(jsonPath, JSON.stringify({ rows, reps, asOf: AS_OF, machine: { cores: cpus().length, memoryBytes: totalmem(), node: process.version }, results }, null, 2));
process.stderr.write(`wrote ${jsonPath}\n`);
if (!agree) process.exitCode = 1;
