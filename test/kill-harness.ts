/**
 * The kill test's harness: the CLI as a child process whose JSON events are
 * watched, SIGKILL at a point named by those events, and what a build leaves
 * for readers (the published copy, the export link and its files) taken as
 * bytes and as query results.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { PUBLISHED_TABLES } from '../src/build/publish.js';
import { parquetVersionsOf } from '../src/config/warehouse-paths.js';

const cliPath = resolve('dist/src/cli/main.js');

export interface LogEvent {
  event: string;
  phase?: string;
  model?: string;
  run_id?: number;
  time: string;
  /** ms after the spawn at which the test read it */
  receivedMs: number;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** ms after the spawn */
  ms: number;
}

export interface Child {
  child: ChildProcess;
  events: LogEvent[];
  /** stderr lines that are not JSON events (errors) */
  errors: () => string;
  onEvent: (listener: (event: LogEvent) => void) => void;
  exited: Promise<Exit>;
  sinceSpawn: () => number;
}

/** Starts `convbill build ... --log-format json` and parses its events as they come. */
export function startBuild(cwd: string, args: string[]): Child {
  const spawned = performance.now();
  const child = spawn(process.execPath, [cliPath, 'build', ...args, '--log-format', 'json'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: LogEvent[] = [];
  const listeners: ((event: LogEvent) => void)[] = [];
  let pending = '';
  let errors = '';
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (!line.startsWith('{')) {
        errors += `${line}\n`;
        continue;
      }
      const event = { ...JSON.parse(line), receivedMs: performance.now() - spawned } as LogEvent;
      events.push(event);
      for (const listener of listeners) listener(event);
    }
  });
  const exited = new Promise<Exit>((resolveExit) =>
    child.on('exit', (code, signal) => resolveExit({ code, signal, ms: performance.now() - spawned })),
  );
  return {
    child,
    events,
    errors: () => errors + (pending.startsWith('{') ? '' : pending),
    onEvent: (listener) => listeners.push(listener),
    exited,
    sinceSpawn: () => performance.now() - spawned,
  };
}

/** `convbill query SQL ...` as a child process, without blocking the event loop (a build's events keep coming). */
export function convbillQuery(cwd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [cliPath, 'query', ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (status) => resolveRun({ status, stdout, stderr }));
  });
}

/** An event of the build's log: `phase:models`, `model:int_interactions`, or an event name (`plan`, `published`). */
export type EventName = string;

const nameOf = (event: LogEvent): EventName =>
  event.event === 'phase' ? `phase:${event.phase}` : event.event === 'model' ? `model:${event.model}` : event.event;

/**
 * A kill point: `fraction` of the way from `anchor` to `until` (as long as
 * that took in the reference build), or at `deadline` if that comes first.
 */
export interface KillPoint {
  anchor: EventName;
  until?: EventName;
  fraction: number;
  deadline?: EventName;
  /** intact: readers see the state before the build; published: the build's */
  expect: 'intact' | 'published';
}

/** ms from `anchor` to `until` in a build's log (the reference build's). */
export function spanOf(events: LogEvent[], anchor: EventName, until: EventName): number {
  const from = events.find((event) => nameOf(event) === anchor);
  const to = events.find((event) => nameOf(event) === until);
  if (!from || !to) throw new Error(`the reference build logged no ${from ? until : anchor} event`);
  return Date.parse(to.time) - Date.parse(from.time);
}

export interface Kill {
  exit: Exit;
  /** ms after the spawn, undefined when the build ended first */
  killedMs?: number;
  why: 'timer' | 'deadline' | 'ended first';
  runId?: number;
  /** the phase running when the signal went, and how far into it */
  phase: string;
}

/** Runs a build and SIGKILLs it at `point`. */
export async function killBuild(cwd: string, args: string[], point: KillPoint, reference: LogEvent[]): Promise<Kill> {
  const delay = point.until && point.fraction > 0 ? point.fraction * spanOf(reference, point.anchor, point.until) : 0;
  const run = startBuild(cwd, args);
  let killedMs: number | undefined;
  let why: Kill['why'] = 'ended first';
  let timer: NodeJS.Timeout | undefined;
  const kill = (reason: Kill['why']) => {
    if (killedMs !== undefined) return;
    clearTimeout(timer);
    killedMs = run.sinceSpawn();
    why = reason;
    run.child.kill('SIGKILL');
  };
  run.onEvent((event) => {
    const name = nameOf(event);
    if (name === point.anchor && timer === undefined) {
      if (delay === 0) kill('timer');
      else timer = setTimeout(() => kill('timer'), delay);
    } else if (name === point.deadline) {
      kill('deadline');
    }
  });
  const exit = await run.exited;
  clearTimeout(timer);
  const seen = run.events.filter((event) => killedMs === undefined || event.receivedMs <= killedMs);
  return { exit, killedMs, why, runId: seen.find((event) => event.run_id !== undefined)?.run_id, phase: phaseAt(seen, killedMs) };
}

/** "models, after int_cycle_segments, +1234 ms": the last phase begun, the last model ended in it. */
function phaseAt(events: LogEvent[], killedMs: number | undefined): string {
  const phases = events.filter((event) => event.event === 'phase');
  const phase = phases.at(-1);
  const last = events.at(-1);
  if (!phase || !last) return last ? `after ${last.event}` : 'before run_started (opening)';
  if (last.event === 'published' || last.event === 'run_finished') return `${phase.phase}, after ${last.event}`;
  const model = phase.phase === 'models' ? events.filter((event) => event.event === 'model' && event.receivedMs >= phase.receivedMs).at(-1) : undefined;
  const into = killedMs === undefined ? '' : `, +${Math.round(killedMs - (model ?? phase).receivedMs)} ms`;
  return `${phase.phase}${model ? `, after ${model.model}` : ''}${into}`;
}

/** What readers of a warehouse see: bytes of the published copy and export, and what queries over them return. */
export interface ReaderState {
  publishedSha: string;
  link: string;
  exportSha: string;
  /** per published table: rows and an order-independent hash of them */
  tables: Record<string, string>;
}

export async function readerState(dir: string): Promise<ReaderState> {
  const published = join(dir, 'convbill_published.duckdb');
  const link = join(dir, 'convbill_parquet');
  return {
    publishedSha: createHash('sha256').update(readFileSync(published)).digest('hex'),
    link: readlinkSync(link),
    exportSha: exportDigest(link),
    tables: await tableHashes(published, PUBLISHED_TABLES),
  };
}

/** The published tables that hold facts, not the history of the runs behind them. */
export const FACT_TABLES: Record<string, string> = {
  fct_billable_conversations: '*',
  fct_conversation_counts: '*',
  fct_conversation_charges: '*',
  dim_billing_cycles: '*',
  dim_integrations: '*',
  rejected_interactions: '*',
  rpt_data_quality: '*',
  // loaded_at is when a file was loaded: each build of its own
  rpt_source_files: '* exclude (loaded_at)',
};

export async function tableHashes(db: string, tables: string[]): Promise<Record<string, string>> {
  const warehouse = await Warehouse.open(db, { readOnly: true });
  try {
    const present = new Set((await warehouse.rows<{ name: string }>(`select table_name as name from duckdb_tables() union all select view_name from duckdb_views()`)).map((row) => row.name));
    const hashes: Record<string, string> = {};
    for (const table of tables.filter((name) => present.has(name))) {
      const columns = FACT_TABLES[table] ?? '*';
      const [row] = await warehouse.rows<{ n: bigint; h: bigint | null }>(`select count(*) as n, sum(hash(t)) as h from (select ${columns} from ${table}) as t`);
      hashes[table] = `${row?.n} rows, hash ${row?.h}`;
    }
    return hashes;
  } finally {
    warehouse.close();
  }
}

/** SHA-256 over every file under the export link, names and bytes. */
export function exportDigest(link: string): string {
  const hash = createHash('sha256');
  const root = resolve(dirname(link), readlinkSync(link));
  const walk = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = join(path, entry.name);
      if (entry.isDirectory()) walk(child);
      else hash.update(child.slice(root.length)).update(readFileSync(child));
    }
  };
  walk(root);
  return hash.digest('hex');
}

/** Files a build writes beside its targets and leaves when killed: what is there now. */
export function leftovers(dir: string): string[] {
  const found = readdirSync(dir).filter((name) => /\.(next|swap)-\d+/.test(name));
  const versions = parquetVersionsOf(join(dir, 'convbill_parquet'));
  const current = basename(readlinkSync(join(dir, 'convbill_parquet')));
  const others = existsSync(versions) ? readdirSync(versions).filter((name) => name !== current) : [];
  if (others.length > 0) found.push(`${others.length} other export version(s)`);
  return found;
}

/** What the working database says after a kill: the last build committed, and the raw store's copies it names. */
export async function workingState(dir: string): Promise<{ committed: number | null; copies: string[]; named: string[] }> {
  const store = join(dir, 'convbill.duckdb.raw');
  const copies = existsSync(store) ? readdirSync(store).sort() : [];
  const warehouse = await Warehouse.open(join(dir, 'convbill.duckdb'), { readOnly: true });
  try {
    const rows = await warehouse.rows<{ stored_file: string }>(`select stored_file from raw_files where stored_file is not null order by 1`);
    const committed = await warehouse.value<number | null>(`select max(run_id) from convbill_state`);
    return { committed, copies, named: rows.map((row) => basename(row.stored_file)) };
  } finally {
    warehouse.close();
  }
}
