/**
 * What JavaScript reads of a text file: its first line (a CSV header, or
 * whether a JSON file is an array), never its rows. The header's names are
 * parsed by DuckDB from that line alone, so a ragged row further down cannot
 * mislead the sniffer.
 */
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { SourceSpec } from './sources.js';
import type { Engine } from '../engine/engine.js';
import { sqlString } from '../engine/sql-text.js';

/** Header names, and the delimiter: as configured, else sniffed by DuckDB from the header line alone. */
export async function headerOf(warehouse: Engine, first: string, source: SourceSpec, file: string): Promise<{ names: string[]; delimiter: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'convbill-header-'));
  try {
    const path = join(dir, 'header.csv');
    writeFileSync(path, `${first}\n`);
    const quote = source.quote ?? '"';
    const delimiter = source.delimiter ?? (/\.tsv(\.gz)?$/i.test(file) ? '\t' : await sniffDelimiter(warehouse, path));
    const [row] = await warehouse.rows<Record<string, string | null>>(
      `select * from read_csv(${sqlString(path)}, header = false, all_varchar = true, delim = ${sqlString(delimiter)},
                              quote = ${sqlString(quote)}, escape = ${sqlString(quote)})`,
    );
    const names = Object.values(row ?? {}).map((name, index) => (name === null || name.trim() === '' ? `column${index}` : name));
    return { names, delimiter };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function sniffDelimiter(warehouse: Engine, path: string): Promise<string> {
  try {
    return (await warehouse.value<string>(`select delimiter from sniff_csv(${sqlString(path)}, header = false)`)) || ',';
  } catch {
    return ',';
  }
}

/** DuckDB's names are case-insensitive: a repeated one gets a suffix, as DuckDB's own reader does. */
export function uniqueNames(names: string[]): string[] {
  const seen = new Set<string>();
  return names.map((given, index) => {
    // an identifier can hold neither NUL nor nothing
    const name = given.replaceAll('\0', '\uFFFD') || `column${index}`;
    let candidate = name;
    for (let n = 1; seen.has(candidate.toLowerCase()); n += 1) candidate = `${name}_${n}`;
    seen.add(candidate.toLowerCase());
    return candidate;
  });
}

const DECODERS: Record<string, string> = { 'utf-8': 'utf-8', 'latin-1': 'latin1', 'utf-16': 'utf-16le' };

/** The file's first line, decoded (a header, or the start of a JSON file); at most 1 MiB is read. */
export async function firstLine(file: string, source: SourceSpec): Promise<string> {
  const raw = createReadStream(file, { end: /\.gz$/i.test(file) ? undefined : 1 << 20 });
  const stream = /\.gz$/i.test(file) ? raw.pipe(createGunzip()) : raw;
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for await (const chunk of stream) {
      chunks.push(chunk as Buffer);
      length += (chunk as Buffer).length;
      if ((chunk as Buffer).includes(10) || length >= 1 << 20) break;
    }
  } finally {
    raw.destroy();
  }
  const text = new TextDecoder(DECODERS[source.encoding ?? 'utf-8'] ?? 'utf-8').decode(Buffer.concat(chunks));
  return (text.split(/\r\n?|\n/)[0] ?? '').replace(/^\uFEFF/, '');
}
