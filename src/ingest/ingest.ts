/**
 * Ingest: the sources' files into the raw layer, and the set of loads that
 * count now (docs/billing-rules.md §4, "Sources" and "Files and versions").
 *
 * Every file found is hashed, unless its stat (size, modification and
 * change times, inode) is the one recorded when it was last hashed and it is
 * read the same way: then it holds what it held, and a night that brings
 * one new file reads that file alone. Content already loaded the same way
 * adds nothing, but the path now points at it (a path put back to an earlier
 * version counts that version again). What counts is the current content
 * of every path under a configured source, or named with --input; a path
 * under neither stops counting. All of it happens in one transaction with
 * the staging settings of every current load, so a configuration error
 * (a mapped column a file lacks) loads nothing.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../engine/errors.js';
import { createRawLayer, removeUnreferencedCopies } from './raw-layer.js';
import { readIntoRaw } from './readers.js';
import { type SourceSpec, expandPath, formatOf, readFingerprint } from './sources.js';
import { type CurrentLoad, stageSettings } from './staging.js';
import type { Engine } from '../engine/engine.js';

export type { FileFormat, SourceSpec } from './sources.js';
export { formatOf } from './sources.js';

/**
 * What a load did with a path, told against the state before it
 * (docs/billing-rules.md §4, "Files and versions"): loaded, new content;
 * unchanged, the content the path held; reverted, a content the path held
 * before (it counts again); duplicate, a content that already counts under
 * another path, or that another path brought in this same load (counted
 * once); restored, a content loaded before that no path counts now (a
 * superseded or dropped version), which counts again at this path.
 */
export type FileEvent = 'loaded' | 'unchanged' | 'reverted' | 'duplicate' | 'restored';

export interface FileLoad {
  file: string;
  /** loaded: new content; already_loaded: content the warehouse has */
  status: 'loaded' | 'already_loaded';
  event: FileEvent;
  loadId: number;
  rows: number;
  /** the loads this path held before, no longer counted there */
  supersedes: number[];
  /** whether its bytes were read: not when its stat is the one recorded when it was last hashed */
  read: boolean;
}

export interface IngestReport {
  files: FileLoad[];
  /** files found in directories or globs whose extension we do not read */
  skipped: string[];
  /** configured paths that matched nothing (a quiet night) */
  warnings: string[];
  /** paths that counted at the last build and no longer do: under no current source, or forgotten */
  dropped: string[];
  /** the loads that count now */
  current: number[];
}

export interface IngestSources {
  /** the config's sources: what is loaded */
  sources: SourceSpec[];
  /** paths given with --input: loaded until `convbill forget` drops them */
  inputs?: string[];
  /** the settings of an --input path under no configured source (default: UTC, the contract's column names) */
  inputDefaults?: Omit<SourceSpec, 'path'>;
}

const defaultsOf = (given: IngestSources): SourceSpec => ({
  timezone: 'UTC',
  columns: {},
  ...given.inputDefaults,
  key: given.inputDefaults?.key ?? '',
  path: '',
});

interface FoundFile {
  file: string;
  source: SourceSpec;
  pinned: boolean;
}

/** `onFile` hears of each file as it is loaded, for a log that stamps events when they happen. */
export async function ingest(warehouse: Engine, given: IngestSources, rawStore?: string, onFile?: (load: FileLoad) => void): Promise<IngestReport> {
  await createRawLayer(warehouse);
  await removeUnreferencedCopies(warehouse, rawStore);
  const report: IngestReport = { files: [], skipped: [], warnings: [], dropped: [], current: [] };
  const found = await findFiles(warehouse, given, report);
  const copies: string[] = [];
  try {
    await warehouse.transaction(async () => {
      // the loads that counted before, and those this load brings in: a path holding one of them is a duplicate
      const counted = new Set((await warehouse.rows<{ load_id: number }>(`select load_id from cfg_loads`)).map((row) => row.load_id));
      for (const entry of found) {
        const load = await loadFile(warehouse, entry, rawStore, copies, counted);
        report.files.push(load);
        onFile?.(load);
      }
      const matched = await matchSources(warehouse, given.sources);
      const current = await currentLoads(warehouse, given, matched);
      const before = await warehouse.rows<{ source_file: string }>(
        `select distinct raw_paths.source_file from cfg_loads inner join raw_paths using (load_id) order by 1`,
      );
      await stageSettings(warehouse, rawStore, current);
      report.current = current.map((load) => load.load_id);
      const counting = new Set(await countingPaths(warehouse, matched));
      report.dropped = before.map((row) => row.source_file).filter((file) => !counting.has(file));
    });
  } catch (error) {
    for (const copy of copies) rmSync(copy, { force: true });
    throw error;
  }
  return report;
}

/** The files each source and input names; a configured path that matches nothing is only a warning. */
async function findFiles(warehouse: Engine, given: IngestSources, report: IngestReport): Promise<FoundFile[]> {
  const found = new Map<string, FoundFile>();
  for (const [index, source] of given.sources.entries()) {
    const { files, skipped } = await expandPath(warehouse, source.path);
    report.skipped.push(...skipped);
    if (files.length === 0) report.warnings.push(`Source ${source.key ?? `sources[${index}]`} (${source.path}) matches no file: 0 new files.`);
    for (const file of files) if (!found.has(file)) found.set(file, { file, source, pinned: false });
  }
  for (const input of given.inputs ?? []) {
    const { files, skipped } = await expandPath(warehouse, input);
    report.skipped.push(...skipped);
    if (files.length === 0) {
      throw new ConfigError(
        existsSync(input) ? `Input ${input} holds no .csv, .json, .ndjson, .jsonl or .parquet file.` : `Input file ${input} does not exist.`,
      );
    }
    for (const file of files) {
      const covering = (await matchSources(warehouse, given.sources, [file])).get(file);
      const configured = found.get(file) ?? { file, source: covering === undefined ? defaultsOf(given) : (given.sources[covering] as SourceSpec), pinned: true };
      found.set(file, { ...configured, pinned: true });
    }
  }
  return [...found.values()];
}

/**
 * What changes whenever a file's bytes do: its size, its modification time
 * and its change time (which no tool can set back, unlike the modification
 * time), at the nanosecond, with its inode and device (a file replaced by
 * a rename is another inode).
 */
function statOf(file: string): { key: string; recent: boolean } {
  const stat = statSync(file, { bigint: true });
  const changedMs = Number((stat.ctimeNs > stat.mtimeNs ? stat.ctimeNs : stat.mtimeNs) / 1_000_000n);
  return { key: [stat.size, stat.mtimeNs, stat.ctimeNs, stat.ino, stat.dev].join(':'), recent: Date.now() - changedMs < 2_000 };
}

/** SHA-256 of the file's bytes and, for an uncompressed file, whether it holds a CR (one read for both). */
async function hashFile(file: string): Promise<{ hash: string; carriageReturn?: boolean }> {
  const hash = createHash('sha256');
  let carriageReturn = false;
  for await (const chunk of createReadStream(file)) {
    hash.update(chunk as Buffer);
    carriageReturn ||= (chunk as Buffer).includes(13);
  }
  return { hash: hash.digest('hex'), carriageReturn: /\.gz$/i.test(file) ? undefined : carriageReturn };
}

async function loadFile(
  warehouse: Engine, entry: FoundFile, rawStore: string | undefined, copies: string[], counted: Set<number>,
): Promise<FileLoad> {
  const { file, source } = entry;
  // the stat is taken before the bytes are read: a file written meanwhile is read again next time
  const { key: fileStat, recent } = statOf(file);
  // A file changed within the file system's timestamp granularity of now
  // could change again with the same stat (git's "racily clean" files): its
  // stat is not kept, so the next build reads it again.
  const keptStat = recent ? null : fileStat;
  const readFp = readFingerprint(file, source);
  const [path] = await warehouse.rows<{ load_id: number; pinned: boolean; file_stat: string | null; read_fingerprint: string | null }>(
    `select load_id, pinned, file_stat, read_fingerprint from raw_paths where source_file = $file`,
    { file },
  );
  const unchanged = path !== undefined && path.file_stat === fileStat && path.read_fingerprint === readFp;
  type Known = { load_id: number; rows_read: bigint; content_hash: string };
  let [known] = unchanged
    ? await warehouse.rows<Known>(
      `select load_id, rows_read, content_hash from raw_files where load_id = $load_id and read_fingerprint = $fp`,
      { load_id: path.load_id, fp: readFp },
    )
    : [];
  let hashed: Awaited<ReturnType<typeof hashFile>> | undefined;
  if (!known) {
    hashed = await hashFile(file);
    [known] = await warehouse.rows<Known>(
      `select load_id, rows_read, content_hash from raw_files where content_hash = $hash and read_fingerprint = $fp`,
      { hash: hashed.hash, fp: readFp },
    );
  }
  const carriageReturn = hashed?.carriageReturn;
  const contentHash = known?.content_hash ?? (hashed as { hash: string }).hash;
  let loadId: number;
  let rows: number;
  if (known) {
    loadId = known.load_id;
    rows = Number(known.rows_read);
  } else {
    loadId = (await warehouse.value<number>(`select coalesce(max(load_id), 0) + 1 from raw_files`)) ?? 1;
    const sizeBytes = statSync(file).size;
    const content = await readIntoRaw(warehouse, file, formatOf(file) ?? 'csv', source, loadId, rawStore, sizeBytes, carriageReturn);
    if (content.storedFile && rawStore) copies.push(join(dirname(rawStore), content.storedFile));
    rows = content.rowsRead;
    await warehouse.run(
      `insert into raw_files values ($load_id, $file, $hash, $fp, $size, $format, $columns::varchar[], $rows, $malformed, now(), null, $stored)`,
      {
        load_id: loadId,
        file,
        hash: contentHash,
        fp: readFp,
        size: sizeBytes,
        format: formatOf(file) ?? 'csv',
        columns: JSON.stringify(content.columns),
        rows,
        malformed: content.rowsMalformed,
        stored: content.storedFile ?? null,
      },
    );
  }
  const supersedes = path && path.load_id !== loadId ? [path.load_id] : [];
  // raw_files' first path stands in for the history of warehouses from before raw_path_versions
  const heldBefore = known !== undefined && (await warehouse.value<boolean>(
    `select exists (select 1 from raw_path_versions where source_file = $file and load_id = $load_id)
         or exists (select 1 from raw_files where source_file = $file and load_id = $load_id)`,
    { file, load_id: loadId },
  ));
  const event: FileEvent = !known ? 'loaded'
    : path?.load_id === loadId ? 'unchanged'
    : heldBefore ? 'reverted'
    : counted.has(loadId) ? 'duplicate'
    : 'restored';
  counted.add(loadId);
  await warehouse.run(`insert or ignore into raw_path_versions values ($file, $load_id, now())`, { file, load_id: loadId });
  if (!path || path.load_id !== loadId || (entry.pinned && !path.pinned)) {
    await warehouse.run(
      `insert or replace into raw_paths values ($file, $load_id, $pinned, now(), $stat, $fp)`,
      { file, load_id: loadId, pinned: entry.pinned || Boolean(path?.pinned), stat: keptStat, fp: readFp },
    );
  } else if (!unchanged) {
    await warehouse.run(`update raw_paths set file_stat = $stat, read_fingerprint = $fp where source_file = $file`, { file, stat: keptStat, fp: readFp });
  }
  if (supersedes.length > 0) {
    // superseded only where no other path still holds that content
    await warehouse.run(
      `update raw_files set superseded_by = $load_id where load_id = $old and load_id not in (select load_id from raw_paths)`,
      { load_id: loadId, old: supersedes[0] as number },
    );
  }
  await warehouse.run(`update raw_files set superseded_by = null where load_id = $load_id`, { load_id: loadId });
  return { file, status: known ? 'already_loaded' : 'loaded', event, loadId, rows, supersedes, read: hashed !== undefined };
}

/** Paths that count: under a configured source (first match wins), or pinned by --input. */
async function countingPaths(warehouse: Engine, matched: Map<string, number>): Promise<string[]> {
  const pinned = await warehouse.rows<{ source_file: string }>(`select source_file from raw_paths where pinned`);
  return [...new Set([...matched.keys(), ...pinned.map((row) => row.source_file)])];
}

/**
 * Each path under a configured source, with the first such source's index:
 * the stored paths, or the `paths` given. One query for all of them.
 */
async function matchSources(warehouse: Engine, sources: SourceSpec[], paths?: string[]): Promise<Map<string, number>> {
  if (sources.length === 0) return new Map();
  const patterns = sources.map((source, index) => {
    const path = resolve(source.path);
    // a path gone from disk (a folder archived whole) still names what it named: the file, or what was below it
    const kind = existsSync(path) ? (statSync(path).isDirectory() ? 'dir' : 'file') : /[*?[]/.test(source.path) ? 'glob' : 'gone';
    return { index, kind, path };
  });
  const rows = await warehouse.rows<{ source_file: string; source_index: number }>(
    `with patterns as (select unnest($patterns::struct(index integer, kind varchar, path varchar)[], recursive := true)),
     candidate_paths as (
         select source_file from raw_paths where $paths is null
         union all
         select unnest($paths::varchar[])
     )
     select raw_paths.source_file, min(patterns.index) as source_index
     from candidate_paths as raw_paths
     inner join patterns
         on (patterns.kind = 'file' and raw_paths.source_file = patterns.path)
         or (patterns.kind in ('dir', 'gone') and starts_with(raw_paths.source_file, rtrim(patterns.path, '/') || '/'))
         or (patterns.kind = 'gone' and raw_paths.source_file = patterns.path)
         or (patterns.kind = 'glob' and raw_paths.source_file glob patterns.path)
     group by raw_paths.source_file`,
    { patterns: JSON.stringify(patterns), paths: paths ? JSON.stringify(paths) : null },
  );
  return new Map(rows.map((row) => [row.source_file, row.source_index]));
}

/**
 * The loads that count now, each with the settings of the source its path
 * is under (a load held by several paths: the first path's), and for
 * pinned paths under no source the settings they were given with.
 */
async function currentLoads(warehouse: Engine, given: IngestSources, matched: Map<string, number>): Promise<CurrentLoad[]> {
  const paths = await warehouse.rows<{
    source_file: string; load_id: number; pinned: boolean; format: string; source_columns: string[]; stored_file: string | null; rows_read: bigint;
  }>(
    `select raw_paths.source_file, raw_paths.load_id, raw_paths.pinned, raw_files.format, raw_files.source_columns,
            raw_files.stored_file, raw_files.rows_read
     from raw_paths inner join raw_files on raw_paths.load_id = raw_files.load_id
     order by raw_paths.source_file`,
  );
  const defaults = defaultsOf(given);
  const loads = new Map<number, CurrentLoad>();
  for (const path of paths) {
    const index = matched.get(path.source_file);
    if (index === undefined && !path.pinned) continue;
    if (loads.has(path.load_id)) continue;
    const source = index !== undefined ? (given.sources[index] as SourceSpec) : defaults;
    loads.set(path.load_id, {
      load_id: path.load_id,
      source_file: path.source_file,
      format: path.format,
      source_columns: [...path.source_columns],
      stored_file: path.stored_file,
      rows_read: Number(path.rows_read),
      source,
    });
  }
  return [...loads.values()].sort((a, b) => a.load_id - b.load_id);
}

/** `convbill forget`: paths given with --input that stop counting at the next build, unless a source covers them. */
export async function forget(warehouse: Engine, pattern: string): Promise<string[]> {
  await createRawLayer(warehouse);
  const path = resolve(pattern);
  const rows = await warehouse.rows<{ source_file: string }>(
    `update raw_paths set pinned = false
     where pinned and (source_file = $path or starts_with(source_file, $path || '/') or source_file glob $path)
     returning source_file`,
    { path },
  );
  return rows.map((row) => row.source_file).sort();
}
