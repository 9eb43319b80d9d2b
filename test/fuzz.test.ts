/**
 * Fuzz (docs/billing-rules.md §5, §7): a valid CSV, NDJSON and Parquet file, mutated byte by
 * byte and value by value, each mutation built ALONE into a fresh database.
 *
 * For every input: the build succeeds, or it throws a ConvbillError (exit 1
 * or 2) whose message is one sentence (one line, no stack trace, ending with
 * a period) naming the input file. Anything else (a raw DuckDB error, a
 * TypeError, "convbill: internal error" from the CLI) is a crash. A build
 * that succeeds keeps every physical row: rpt_source_files.rows_read =
 * rows_accepted + rows_rejected + rows_filtered, rows_read equals this test's
 * own count of the mutated bytes' data rows, and every rejected row has one
 * of the rules' reasons and a row number of the file.
 *
 * The test's own count follows the rules' definitions, independently of the
 * product: CSV records after the header (RFC 4180: a quote opens a quoted
 * field at the start of a field, a doubled quote inside one is a quote, a
 * quoted field may span lines, an unterminated one runs to the end of the
 * file as one record), where a line with nothing on it is no row; NDJSON
 * lines that are not blank (blank: only spaces and tabs). Lines end at LF,
 * CRLF or a lone CR alike (docs/configuration.md, the input contract).
 *
 * Everything is seeded: the base files (mulberry32 from FUZZ_SEED) and each
 * mutation (a seed from FUZZ_SEED, its format, kind and number), so a label
 * replays exactly:
 *
 *     npx vitest run test/fuzz.test.ts -t "csv insert #3:"
 *     FUZZ_SEED=7 npx vitest run test/fuzz.test.ts     # other mutations, same kinds
 *
 * A failing input keeps its folder (mutated file and database) and names it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../src/build/build.js';
import type { BuildOptions } from '../src/config/build-options.js';
import { ConvbillError } from '../src/engine/errors.js';
import { mulberry32, rows as queryRows, writeParquet } from './helpers.js';

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20240229);
/** builds at once: DuckDB works off the JavaScript thread, so two cores take three builds */
const CONCURRENCY = Number(process.env.FUZZ_CONCURRENCY ?? 3);
const AS_OF = '2024-03-01T00:00:00Z';
const CLI_AS_OF = '2030-01-01T00:00:00Z';
const cliPath = resolve('dist/src/cli/main.js');

/** docs/billing-rules.md §5 */
const REASONS = new Set([
  'malformed_row',
  'missing_integration_id',
  'missing_customer_account_id',
  'missing_timestamp',
  'invalid_timestamp',
  'implausible_timestamp',
  'ended_before_started',
  'conflicting_customer_account',
  'after_as_of',
  'outside_billing_cycles',
]);

// ---------------------------------------------------------------------------
// The test's own count of physical data rows
// ---------------------------------------------------------------------------

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;

/** Every line end (CRLF, a lone CR) as LF: what the rules count as lines. */
function lfOnly(bytes: Uint8Array): Uint8Array {
  return Buffer.from(Buffer.from(bytes).toString('latin1').replace(/\r\n?/g, '\n'), 'latin1');
}

/**
 * CSV data rows: records after the header. A quote opens a quoted field only
 * at the start of a field (elsewhere it is a character of the field); inside
 * one, a quote followed by a quote is a quote and any other quote closes it;
 * a line break ends the record only outside quotes. A record that is empty or
 * only "\r" is no row; an unterminated quote makes the rest of the file one
 * record.
 */
function countCsvRows(given: Uint8Array, delimiter = ','.charCodeAt(0)): number {
  const bytes = lfOnly(given);
  const FIELD_START = 0;
  const UNQUOTED = 1;
  const QUOTED = 2;
  const AFTER_QUOTE = 3;
  let state = FIELD_START;
  let records = 0;
  let start = 0;
  const finish = (end: number) => {
    const blank = end === start || (end === start + 1 && bytes[start] === CR);
    if (!blank || records === 0) records += 1; // the header is the first record, whatever it holds
  };
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i];
    if (state === QUOTED) {
      if (byte === QUOTE) state = AFTER_QUOTE;
    } else if (byte === LF) {
      finish(i);
      start = i + 1;
      state = FIELD_START;
    } else if (state === AFTER_QUOTE) {
      state = byte === QUOTE ? QUOTED : byte === delimiter ? FIELD_START : UNQUOTED;
    } else if (state === FIELD_START && byte === QUOTE) {
      state = QUOTED;
    } else {
      state = byte === delimiter ? FIELD_START : UNQUOTED;
    }
  }
  if (start < bytes.length) finish(bytes.length);
  return Math.max(0, records - 1);
}

/** NDJSON rows: lines that hold anything but spaces, tabs and \r. */
function countNdjsonRows(given: Uint8Array): number {
  const bytes = lfOnly(given);
  let rows = 0;
  let blank = true;
  for (const byte of bytes) {
    if (byte === LF) {
      if (!blank) rows += 1;
      blank = true;
    } else if (byte !== 0x20 && byte !== 0x09 && byte !== CR) {
      blank = false;
    }
  }
  return blank ? rows : rows + 1;
}

// ---------------------------------------------------------------------------
// Base files
// ---------------------------------------------------------------------------

const COLUMNS = ['interaction_id', 'integration_id', 'customer_account_id', 'started_at', 'ended_at', 'org_id', 'platform'] as const;
type Column = (typeof COLUMNS)[number];
/** JSON text written as is (a bare number, NaN, a deep array...) */
interface Raw {
  raw: string;
}
type Value = string | number | boolean | null | undefined | Raw | object;
type Row = Partial<Record<Column | string, Value>>;
const isRaw = (value: unknown): value is Raw => typeof value === 'object' && value !== null && 'raw' in value;

type Rng = () => number;
const intBelow = (rng: Rng, n: number) => Math.floor(rng() * n);
const pick = <T>(rng: Rng, items: readonly T[]): T => items[intBelow(rng, items.length)] as T;

const pad = (n: number, width = 2) => String(n).padStart(width, '0');
function timestampText(ms: number, rng: Rng): string {
  const d = new Date(ms);
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  switch (intBelow(rng, 5)) {
    case 0: {
      const local = new Date(ms + 2 * 3_600_000);
      return `${local.toISOString().slice(0, 19)}+02:00`;
    }
    case 1:
      return `${date}T${time}.${pad(intBelow(rng, 1000), 3)}Z`;
    case 2:
      return `${date} ${time}`;
    case 3:
      return String(ms);
    default:
      return `${date}T${time}Z`;
  }
}

/** ~20 interaction rows of Jan-Feb 2024: quoted fields, multibyte characters, open interactions, merges. */
function baseRows(rng: Rng): Row[] {
  const accounts = ['+33 6 12 34 56 78', 'José Álvarez', '山田太郎', 'cust "vip", gold', '😀-7', 'c-1', 'c-2', ' padded '];
  const rows: Row[] = [];
  for (let k = 0; k < 20; k += 1) {
    const interaction = intBelow(rng, 12);
    const start = Date.UTC(2024, 0, 1) + intBelow(rng, 58 * 24 * 60) * 60_000;
    const end = start + intBelow(rng, 72 * 60) * 60_000;
    rows.push({
      interaction_id: rng() < 0.15 ? '' : `int-${interaction}`,
      integration_id: pick(rng, ['wa-1', 'fb-page-2', 'ig 3', 'sms,4', 'line "5"']),
      customer_account_id: rng() < 0.9 ? accounts[interaction % accounts.length] : pick(rng, accounts),
      started_at: timestampText(start, rng),
      ended_at: rng() < 0.15 ? null : timestampText(end, rng),
      org_id: pick(rng, ['acme', 'globex', '', ' Ünïcorn ']),
      platform: pick(rng, ['whatsapp', 'Facebook', ' sms ', '', 'instagram']),
    });
  }
  return rows;
}

function csvCell(value: Value, delimiter: string): string {
  if (value === null || value === undefined) return '';
  const text = isRaw(value) ? value.raw : typeof value === 'object' ? JSON.stringify(value) : String(value);
  const needsQuotes = /["\r\n]/.test(text) || text.includes(delimiter) || text !== text.trim();
  return needsQuotes ? `"${text.replaceAll('"', '""')}"` : text;
}

function toCsv(rows: Row[], options: { delimiter?: string; columns?: readonly string[]; header?: string } = {}): string {
  const delimiter = options.delimiter ?? ',';
  const columns = options.columns ?? COLUMNS;
  const header = options.header ?? columns.join(delimiter);
  return [header, ...rows.map((row) => columns.map((column) => csvCell(row[column], delimiter)).join(delimiter))].join('\n') + '\n';
}

function jsonLine(row: Row): string {
  const entries = Object.entries(row).filter(([, value]) => value !== undefined);
  return `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${isRaw(value) ? value.raw : JSON.stringify(value)}`).join(',')}}`;
}

function toNdjson(rows: Row[]): string {
  return rows.map(jsonLine).join('\n') + '\n';
}

/** NDJSON rows: a blank org_id is left out, an open interaction has "ended_at": null, epoch milliseconds are numbers. */
function ndjsonRows(rows: Row[]): Row[] {
  return rows.map((row) => {
    const copy: Row = { ...row };
    if (copy.org_id === '') delete copy.org_id;
    if (typeof copy.started_at === 'string' && /^\d+$/.test(copy.started_at)) copy.started_at = Number(copy.started_at);
    return copy;
  });
}

const BASE_ROWS = baseRows(mulberry32(FUZZ_SEED));
const BASE_CSV = Buffer.from(toCsv(BASE_ROWS));
const BASE_NDJSON_ROWS = ndjsonRows(BASE_ROWS);
const BASE_NDJSON = Buffer.from(toNdjson(BASE_NDJSON_ROWS));

// ---------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------

const IMPOSSIBLE_DATES = [
  '2024-02-30',
  '2024-02-30T10:00:00Z',
  '2023-02-29T00:00:00Z',
  '2024-13-01',
  '2024-13-01T00:00:00Z',
  '2024-00-10T00:00:00Z',
  '2024-01-32T00:00:00Z',
  '2024-01-10T24:00:00Z',
  '2024-01-10 24:00:00',
  '2024-01-10T23:60:00Z',
  '2024-01-10T23:59:60Z',
  '0000-01-01T00:00:00Z',
  '0000-00-00',
  '99999-01-01T00:00:00Z',
  '+099999-01-01T00:00:00Z',
  '-000001-01-01T00:00:00Z',
  '2024-01-10T10:00:00+24:00',
  '2024-01-10T10:00:00+99:99',
  '2024-W02-3',
  '10/01/2024',
  '2024-01-10T10:00:00.1234567890123Z',
  '9999-12-31T23:59:59.999999Z',
  '294247-01-10T04:00:54.775807Z',
  '2024-01-10 10:00:00 Europe/Paris',
];
const SPECIAL_WORDS = ['epoch', 'infinity', '-infinity', 'Infinity', 'NaN', 'nan', 'null', 'now', 'today', 'allballs', 'undefined', 'true'];
const EXTREME_INTEGERS = [
  '-9223372036854775808',
  '9223372036854775807',
  '9223372036854775808',
  '99999999999999999999',
  '-99999999999999999999',
  '0',
  '-1',
  '1e308',
  '1e400',
  '1704067200',
  '1704067200000000',
  '1704067200000000000',
  '000000001704067200000',
  '-0',
];
const HOSTILE_KEYS = [
  '../../etc',
  '/abs',
  '%2e%2e',
  '%2F..%2F..%2Fetc',
  '..',
  '.',
  'a/b/../../c',
  'C:\\Windows\\System32',
  '\x01\x02\x03',
  'nul\x00byte',
  'tab\there',
  'line\nbreak',
  'cr\rreturn',
  '\x1b[31mred\x1b[0m',
  '\u202Eevil',
  '\uFEFFbom',
  'org_id=x/cycle_id=y',
  "o'brien",
  '"quoted"',
  '*?[a-z]',
  '\\',
  '   ',
  '',
];
const KEY_COLUMNS: Column[] = ['org_id', 'integration_id', 'customer_account_id', 'interaction_id', 'platform'];
const MB = 1 << 20;
const HUGE = 3_000_000; // longer than DuckDB's default max_line_size of 2,000,000 bytes

// ---------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------

type Format = 'csv' | 'ndjson' | 'parquet';

interface Mutated {
  /** the file's bytes (CSV, NDJSON) */
  bytes?: Buffer;
  /** a Parquet file: the DuckDB query written with copy ... (format parquet), and its row count */
  parquet?: { select: string; rows: number; truncateTo?: number };
  note: string;
  /** the file name (default input.<format>) */
  name?: string;
  /** the delimiter the product will use (sniffed from the header line); default ',' */
  delimiter?: string;
  /** where the mutation is, for the excerpt of a failure */
  at?: number;
}

interface FuzzInput {
  label: string;
  format: Format;
  kind: string;
  seed: number;
  cli: boolean;
  mutated: Mutated;
}

const byteName = (byte: number) => `0x${byte.toString(16).padStart(2, '0')}`;
const show = (text: string, max = 40) => {
  const shown = JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
  return text.length > max ? `${shown} (${text.length} chars)` : shown;
};

function splice(bytes: Buffer, at: number, remove: number, insert: Uint8Array | number[]): Buffer {
  return Buffer.concat([bytes.subarray(0, at), Buffer.from(insert), bytes.subarray(at + remove)]);
}

/** Offsets i such that bytes[0, i) ends inside a quoted CSV field (or a JSON string). */
function insideQuotes(bytes: Buffer, json: boolean): number[] {
  const offsets: number[] = [];
  let quoted = false;
  let escaped = false;
  let fieldStart = true;
  for (let i = 0; i < bytes.length; i += 1) {
    const byte = bytes[i] as number;
    if (json) {
      if (quoted && !escaped && byte === QUOTE) quoted = false;
      else if (!quoted && byte === QUOTE) quoted = true;
      escaped = quoted && !escaped && byte === 0x5c;
    } else if (quoted) {
      if (byte === QUOTE) quoted = false;
    } else {
      if (fieldStart && byte === QUOTE) quoted = true;
      fieldStart = byte === 0x2c || byte === LF;
    }
    if (quoted) offsets.push(i + 1);
  }
  return offsets;
}

/** Offsets that fall inside a multibyte UTF-8 character. */
const insideCharacters = (bytes: Buffer) => [...bytes.keys()].filter((i) => ((bytes[i] as number) & 0xc0) === 0x80);
const lineStarts = (bytes: Buffer) => [0, ...[...bytes.keys()].filter((i) => bytes[i] === LF && i + 1 < bytes.length).map((i) => i + 1)];
const lineEnds = (bytes: Buffer) => [...bytes.keys()].filter((i) => bytes[i] === LF);

const SPECIAL_BYTES: [string, number[]][] = [
  ['NUL', [0x00]],
  ['0xFF', [0xff]],
  ['CR', [CR]],
  ['LF', [LF]],
  ['quote', [QUOTE]],
  ['comma', [0x2c]],
  ['0x01', [0x01]],
  ['CRLF', [CR, LF]],
  ['tab', [0x09]],
  ['lone UTF-8 lead byte', [0xc3]],
  ['backslash', [0x5c]],
  ['semicolon', [0x3b]],
  ['random byte', [-1]],
];

type ByteMutation = (rng: Rng, bytes: Buffer, n: number, format: Format) => Mutated;

const truncate: ByteMutation = (rng, bytes) => {
  const at = 1 + intBelow(rng, bytes.length - 1);
  return { bytes: bytes.subarray(0, at), note: `cut at byte ${at} of ${bytes.length}`, at };
};
const truncateInQuotes: ByteMutation = (rng, bytes, _n, format) => {
  const at = pick(rng, insideQuotes(bytes, format === 'ndjson'));
  return { bytes: bytes.subarray(0, at), note: `cut at byte ${at} of ${bytes.length}, inside a quoted ${format === 'csv' ? 'field' : 'string'}`, at };
};
const truncateInCharacter: ByteMutation = (rng, bytes) => {
  const at = pick(rng, insideCharacters(bytes));
  return { bytes: bytes.subarray(0, at), note: `cut at byte ${at} of ${bytes.length}, inside a multibyte character`, at };
};
const specialBytes = (rng: Rng, n: number) => {
  const [name, pattern] = SPECIAL_BYTES[n % SPECIAL_BYTES.length] as [string, number[]];
  const bytes = pattern.map((byte) => (byte < 0 ? intBelow(rng, 256) : byte));
  return { name: name === 'random byte' ? `random byte ${byteName(bytes[0] as number)}` : name, bytes };
};
const insertBytes: ByteMutation = (rng, bytes, n) => {
  const special = specialBytes(rng, n);
  const at = intBelow(rng, bytes.length + 1);
  return { bytes: splice(bytes, at, 0, special.bytes), note: `insert ${special.name} at byte ${at}`, at };
};
const overwriteBytes: ByteMutation = (rng, bytes, n) => {
  const special = specialBytes(rng, n);
  const at = intBelow(rng, bytes.length - special.bytes.length);
  return { bytes: splice(bytes, at, special.bytes.length, special.bytes), note: `overwrite byte ${at} (${byteName(bytes[at] as number)}) with ${special.name}`, at };
};
const BOM = [0xef, 0xbb, 0xbf];
const bom: ByteMutation = (rng, bytes, n) => {
  switch (n % 4) {
    case 0:
      return { bytes: splice(bytes, 0, 0, BOM), note: 'UTF-8 BOM before the first line', at: 0 };
    case 1:
      return { bytes: splice(Buffer.from(bytes.toString('latin1').replaceAll('\n', '\r\n'), 'latin1'), 0, 0, BOM), note: 'UTF-8 BOM and CRLF line ends', at: 0 };
    case 2: {
      const at = pick(rng, lineStarts(bytes).slice(1));
      return { bytes: splice(bytes, at, 0, BOM), note: `UTF-8 BOM at the start of the line at byte ${at}`, at };
    }
    default:
      return { bytes: splice(bytes, 0, 0, [...BOM, ...BOM]), note: 'two UTF-8 BOMs before the first line', at: 0 };
  }
};
const crlfAll: ByteMutation = (_rng, bytes) => ({
  bytes: Buffer.from(bytes.toString('latin1').replaceAll('\n', '\r\n'), 'latin1'),
  note: 'every line ends with CRLF',
});
const crlfSome: ByteMutation = (rng, bytes) => {
  const ends = lineEnds(bytes);
  const chosen = new Set(ends.filter(() => rng() < 0.3));
  if (chosen.size === 0) chosen.add(pick(rng, ends));
  let out = bytes;
  for (const at of [...chosen].sort((a, b) => b - a)) out = splice(out, at, 0, [CR]);
  return { bytes: out, note: `CRLF at the end of ${chosen.size} of ${ends.length} lines (bytes ${[...chosen].sort((a, b) => a - b).join(', ')})`, at: Math.min(...chosen) };
};
const BLANK_LINES: [string, string][] = [
  ['an empty line', '\n'],
  ['a line of only \\r', '\r\n'],
  ['a line of spaces', '   \n'],
  ['a line of a tab and \\r', '\t\r\n'],
  ['three empty lines', '\n\n\n'],
];
const blankLine: ByteMutation = (rng, bytes, n) => {
  const [name, text] = BLANK_LINES[n % BLANK_LINES.length] as [string, string];
  const at = pick(rng, lineStarts(bytes).slice(1).concat(bytes.length));
  return { bytes: splice(bytes, at, 0, Buffer.from(text)), note: `${name} at byte ${at}`, at };
};
const strayQuote: ByteMutation = (rng, bytes, n) => {
  const fieldStarts = [...bytes.keys()].filter((i) => bytes[i - 1] === 0x2c && bytes[i] !== QUOTE);
  const midField = [...bytes.keys()].filter((i) => i > 0 && ![0x2c, LF, QUOTE].includes(bytes[i - 1] as number) && ![0x2c, LF, QUOTE].includes(bytes[i] as number));
  const where: [string, number[]][] = [
    ['at the start of a field', fieldStarts],
    ['in the middle of a field', midField],
    ['at the end of a line', lineEnds(bytes)],
    ['anywhere', [...bytes.keys()]],
  ];
  const [name, offsets] = where[n % where.length] as [string, number[]];
  const at = offsets.length > 0 ? pick(rng, offsets) : bytes.length;
  return { bytes: splice(bytes, at, 0, [QUOTE]), note: `a stray quote ${name}, at byte ${at}`, at };
};
const BYTE_MUTATIONS: [string, ByteMutation][] = [
  ['truncate', truncate],
  ['insert', insertBytes],
  ['overwrite', overwriteBytes],
  ['crlf-some', crlfSome],
  ['stray-quote', strayQuote],
  ['bom', bom],
  ['blank-line', blankLine],
];
const combo: ByteMutation = (rng, bytes, n, format) => {
  let out = bytes;
  const notes: string[] = [];
  const steps = 2 + intBelow(rng, 3);
  for (let step = 0; step < steps; step += 1) {
    const [name, mutation] = pick(rng, BYTE_MUTATIONS);
    const result = mutation(rng, out, intBelow(rng, 1000) + n, format);
    out = result.bytes as Buffer;
    notes.push(`${name}: ${result.note}`);
  }
  return { bytes: out, note: notes.join('; then ') };
};

/** A value-level mutation: rows changed, then written again. */
function withRows(format: 'csv' | 'ndjson', rows: Row[], note: string, options: { name?: string } = {}): Mutated {
  const text = format === 'csv' ? toCsv(rows) : toNdjson(rows);
  return { bytes: Buffer.from(text), note, name: options.name };
}

function setValues(rng: Rng, rows: Row[], columns: readonly Column[], values: (i: number) => Value, describe: (value: Value) => string) {
  const copy = rows.map((row) => ({ ...row }));
  const changes: string[] = [];
  const count = 1 + intBelow(rng, 3);
  for (let i = 0; i < count; i += 1) {
    const index = intBelow(rng, copy.length);
    const column = pick(rng, columns);
    const value = values(i);
    (copy[index] as Row)[column] = value;
    changes.push(`row ${index + 1} ${column} = ${describe(value)}`);
  }
  return { rows: copy, note: changes.join(', ') };
}

const TIMESTAMP_COLUMNS: Column[] = ['started_at', 'ended_at'];
const describeValue = (value: Value) =>
  isRaw(value) ? `${value.raw.slice(0, 40)}${value.raw.length > 40 ? `… (${value.raw.length} chars)` : ''} (JSON text)` : typeof value === 'string' ? show(value) : `${JSON.stringify(value)} (JSON)`;

function valueMutation(format: 'csv' | 'ndjson', base: Row[], list: readonly string[], asNumber: boolean): (rng: Rng, n: number) => Mutated {
  return (rng, n) => {
    const { rows, note } = setValues(
      rng,
      base,
      TIMESTAMP_COLUMNS,
      (i) => {
        const text = list[(n * 3 + i) % list.length] as string;
        return asNumber && format === 'ndjson' && rng() < 0.6 ? { raw: text } : text;
      },
      describeValue,
    );
    return withRows(format, rows, note);
  };
}

function keyMutation(format: 'csv' | 'ndjson', base: Row[]): (rng: Rng, n: number) => Mutated {
  return (rng, n) => {
    const { rows, note } = setValues(rng, base, KEY_COLUMNS, (i) => HOSTILE_KEYS[(n * 3 + i) % HOSTILE_KEYS.length] as string, describeValue);
    return withRows(format, rows, note);
  };
}

function longKey(format: 'csv' | 'ndjson', base: Row[], column: Column, length: number): Mutated {
  const rows = base.map((row) => ({ ...row }));
  (rows[3] as Row)[column] = 'k'.repeat(length);
  return withRows(format, rows, `row 4 ${column} is ${length} bytes long`);
}

const FILE_NAMES = ["it's a \"file\"", 'ü 山田 😀', '100% [sure]', 'a*b?c', '-rf --input', '.hidden', 'semi;colon,comma'];

// CSV-only mutations
function csvDelimiter(n: number): Mutated {
  const delimiter = [';', '|', '\t'][n % 3] as string;
  const name = delimiter === '\t' ? 'tab' : delimiter;
  const whole = toCsv(BASE_ROWS, { delimiter });
  const comma = toCsv(BASE_ROWS);
  const [wholeHeader, ...wholeLines] = whole.split('\n');
  const [commaHeader, ...commaLines] = comma.split('\n');
  switch (Math.floor(n / 3) % 4) {
    case 0:
      return { bytes: Buffer.from(whole), note: `every delimiter is ${name}`, delimiter };
    case 1:
      return { bytes: Buffer.from([wholeHeader, ...commaLines].join('\n')), note: `the header is ${name}-delimited, the rows comma-delimited`, delimiter };
    case 2:
      return { bytes: Buffer.from([commaHeader, ...wholeLines].join('\n')), note: `the header is comma-delimited, the rows ${name}-delimited` };
    default: {
      const lines = commaLines.map((line, i) => (i % 3 === 1 ? (wholeLines[i] as string) : line));
      return { bytes: Buffer.from([commaHeader, ...lines].join('\n')), note: `every third row is ${name}-delimited` };
    }
  }
}

function csvHuge(n: number): Mutated {
  const rows = BASE_ROWS.map((row) => ({ ...row }));
  const variants: [string, string][] = [
    ['unquoted, 3,000,000 bytes', 'x'.repeat(HUGE)],
    ['quoted (it holds commas), 3,000,000 bytes', 'x,'.repeat(HUGE / 2)],
    ['quoted, spanning 30,000 lines, 3,000,000 bytes', `${'y'.repeat(99)}\n`.repeat(HUGE / 100)],
    ['1,900,000 bytes: under the line limit', 'z'.repeat(1_900_000)],
  ];
  const [name, value] = variants[n % variants.length] as [string, string];
  (rows[5] as Row).customer_account_id = value;
  return withRows('csv', rows, `row 6 customer_account_id ${name}`);
}

function csvHeader(n: number): Mutated {
  const without = COLUMNS.filter((column) => column !== 'integration_id');
  const variants: (() => Mutated)[] = [
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { columns: without })), note: 'no integration_id column' }),
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { header: COLUMNS.map((c) => c.toUpperCase()).join(',') })), note: 'the header in upper case' }),
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { header: [...COLUMNS.slice(0, -1), 'org_id'].join(',') })), note: 'org_id named twice (platform renamed org_id)' }),
    () => ({ bytes: Buffer.from(`${COLUMNS.join(',')}\n`), note: 'the header alone' }),
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { header: [...COLUMNS.slice(0, -1), ''].join(',') })), note: 'the last column has no name' }),
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { header: `${COLUMNS.join(',')},` })), note: 'the header ends with a delimiter' }),
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { header: COLUMNS.map((c) => `"${c}"`).join(',') })), note: 'the header names quoted' }),
    () => ({ bytes: Buffer.from(toCsv(BASE_ROWS, { header: COLUMNS.map((c) => ` ${c} `).join(',') })), note: 'the header names padded with spaces' }),
  ];
  return (variants[n % variants.length] as () => Mutated)();
}

// NDJSON-only mutations
const WRONG_TYPES: Value[] = [
  { raw: '42' },
  { raw: '-1.5e300' },
  true,
  false,
  null,
  {},
  { nested: { deeper: [1, 'two', null] } },
  [],
  [1, 'x', { y: 2 }],
  { raw: `${'['.repeat(10_000)}${']'.repeat(10_000)}` },
  { raw: '1e999' },
  { raw: '-0' },
];
function ndjsonType(rng: Rng, n: number): Mutated {
  const { rows, note } = setValues(rng, BASE_NDJSON_ROWS, COLUMNS, (i) => WRONG_TYPES[(n + i) % WRONG_TYPES.length] as Value, describeValue);
  return withRows('ndjson', rows, note);
}

const NON_OBJECT_LINES = [
  '[1,2]',
  '"just a string"',
  '12',
  'null',
  'true',
  '{}',
  '{"interaction_id":',
  '}',
  '{"a":1}{"b":2}',
  '{"a":1} trailing',
  "{'single': 'quotes'}",
  '{"a":NaN}',
  '{"a":1,}',
  '\u00a0{"a":1}',
];
function ndjsonNonObject(rng: Rng, n: number): Mutated {
  const lines = BASE_NDJSON.toString('utf8').split('\n');
  const line = NON_OBJECT_LINES[n % NON_OBJECT_LINES.length] as string;
  // a line inside the file; every fifth input (#0, #5) the first line, where "[" could pass for a JSON array
  const index = n % 5 === 0 ? 0 : 1 + intBelow(rng, lines.length - 2);
  lines[index] = line;
  return { bytes: Buffer.from(lines.join('\n')), note: `line ${index + 1} is ${show(line)}` };
}

const ESCAPES: [string, string][] = [
  ['an escaped NUL', '\\u0000'],
  ['a lone surrogate', '\\ud800'],
  ['a line separator', '\\u2028'],
  ['an invalid escape', '\\x41'],
  ['a raw tab', '\t'],
  ['a raw 0x01', '\x01'],
];
function ndjsonEscape(rng: Rng, n: number): Mutated {
  const lines = BASE_NDJSON.toString('utf8').split('\n');
  const index = intBelow(rng, lines.length - 1);
  const [name, escape] = ESCAPES[n % ESCAPES.length] as [string, string];
  const column = pick(rng, ['integration_id', 'customer_account_id', 'interaction_id']);
  lines[index] = (lines[index] as string).replace(`"${column}":"`, `"${column}":"${escape}`);
  return { bytes: Buffer.from(lines.join('\n')), note: `line ${index + 1} ${column} starts with ${name} ${JSON.stringify(escape)}` };
}

function ndjsonKeys(n: number): Mutated {
  const lines = BASE_NDJSON.toString('utf8').split('\n');
  const variants: [string, (line: string) => string][] = [
    ['integration_id given twice', (line) => line.replace('{', '{"integration_id":"dup-1",')],
    ['keys in upper case', (line) => line.replace(/"([a-z_]+)":/g, (_, key: string) => `"${key.toUpperCase()}":`)],
    ['an empty key', (line) => line.replace('{', '{"":"empty",')],
    ['a key of 100,000 bytes', (line) => line.replace('{', `{"${'k'.repeat(100_000)}":1,`)],
  ];
  const [name, change] = variants[n % variants.length] as [string, (line: string) => string];
  lines[2] = change(lines[2] as string);
  return { bytes: Buffer.from(lines.join('\n')), note: `line 3: ${name}` };
}

function ndjsonHuge(n: number): Mutated {
  const rows = BASE_NDJSON_ROWS.map((row) => ({ ...row }));
  const variants: [string, Value][] = [
    ['a string of 3,000,000 bytes', 'x'.repeat(HUGE)],
    ['an array of 3,000,000 bytes', { raw: `[${'1,'.repeat(HUGE / 2)}1]` }],
  ];
  const [name, value] = variants[n % variants.length] as [string, Value];
  (rows[5] as Row).customer_account_id = value;
  return withRows('ndjson', rows, `row 6 customer_account_id is ${name}`);
}

// Parquet: values through DuckDB, typed as the query types them

/** A DuckDB expression for any JavaScript string: control characters through chr(), long runs through repeat(). */
function sqlText(value: string): string {
  if (value.length > 10_000 && /^(.)\1*$/su.test(value)) return `repeat('${value[0]}', ${value.length})`;
  if (value === '') return `''`;
  const parts = value.match(/[\x00-\x1f\x7f]|[^\x00-\x1f\x7f]+/gu) ?? [];
  const sql = parts.map((part) => (/^[\x00-\x1f\x7f]$/.test(part) ? `chr(${part.charCodeAt(0)})` : `'${part.replaceAll("'", "''")}'`));
  return sql.length === 1 ? (sql[0] as string) : `(${sql.join(' || ')})`;
}

type SqlRow = Record<string, string>;
const parquetBase = (): SqlRow[] =>
  BASE_ROWS.map((row) =>
    Object.fromEntries(COLUMNS.map((column) => [column, row[column] === null ? 'null::varchar' : sqlText(String(row[column]))])),
  );
const selectOf = (rows: SqlRow[]) =>
  rows.map((row) => `select ${Object.entries(row).map(([column, expression]) => `${expression} as ${column}`).join(', ')}`).join('\nunion all ');

function parquetValues(rng: Rng, n: number, list: readonly string[], columns: readonly Column[], kind: string): Mutated {
  const rows = parquetBase();
  const changes: string[] = [];
  for (let i = 0; i < 1 + intBelow(rng, 3); i += 1) {
    const index = intBelow(rng, rows.length);
    const column = pick(rng, columns);
    const value = list[(n * 3 + i) % list.length] as string;
    (rows[index] as SqlRow)[column] = sqlText(value);
    changes.push(`row ${index + 1} ${column} = ${show(value)}`);
  }
  return { parquet: { select: selectOf(rows), rows: rows.length }, note: `${kind}: ${changes.join(', ')}` };
}

const epochMs = (row: Row, column: 'started_at' | 'ended_at'): number | null => {
  const text = row[column];
  if (typeof text !== 'string') return null;
  if (/^\d+$/.test(text)) return Number(text);
  return Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);
};

/** Whole columns typed: the base values in that type, one or two rows holding an extreme of it. */
function parquetTyped(rng: Rng, n: number): Mutated {
  const variants: { note: string; column: Column; normal: (row: Row, index: number) => string; extremes: string[] }[] = [
    { note: 'started_at BIGINT', column: 'started_at', normal: (row) => `${epochMs(row, 'started_at')}::bigint`, extremes: ['(-9223372036854775808)::bigint', '9223372036854775807::bigint'] },
    { note: 'ended_at BIGINT', column: 'ended_at', normal: (row) => `${epochMs(row, 'ended_at') ?? 'null'}::bigint`, extremes: ['(-9223372036854775807)::bigint', '0::bigint'] },
    { note: 'started_at HUGEINT', column: 'started_at', normal: (row) => `${epochMs(row, 'started_at')}::hugeint`, extremes: ['99999999999999999999::hugeint', '(-170141183460469231731687303715884105727)::hugeint'] },
    { note: 'started_at DOUBLE', column: 'started_at', normal: (row) => `${epochMs(row, 'started_at')}::double`, extremes: [`'NaN'::double`, `'Infinity'::double`, `'-Infinity'::double`] },
    { note: 'started_at TIMESTAMP', column: 'started_at', normal: (row) => `make_timestamp(${epochMs(row, 'started_at')}::bigint * 1000)`, extremes: [`'infinity'::timestamp`, `'-infinity'::timestamp`, `'294247-01-10 04:00:54.775806'::timestamp`] },
    { note: 'ended_at TIMESTAMPTZ', column: 'ended_at', normal: (row) => (epochMs(row, 'ended_at') === null ? 'null::timestamptz' : `to_timestamp(${epochMs(row, 'ended_at')} / 1000)`), extremes: [`'infinity'::timestamptz`, `'0001-01-01 00:00:00+00'::timestamptz`] },
    { note: 'started_at DATE', column: 'started_at', normal: (row) => `make_timestamp(${epochMs(row, 'started_at')}::bigint * 1000)::date`, extremes: [`'5877642-06-25'::date`, `'infinity'::date`, `'0001-01-01'::date`] },
    { note: 'started_at TIMESTAMP_NS', column: 'started_at', normal: (row) => `make_timestamp(${epochMs(row, 'started_at')}::bigint * 1000)::timestamp_ns`, extremes: [`'2262-04-11 23:47:16'::timestamp_ns`] },
    { note: 'started_at TIME', column: 'started_at', normal: () => `'10:00:00'::time`, extremes: [`'24:00:00'::time`] },
    { note: 'started_at BOOLEAN', column: 'started_at', normal: () => 'true', extremes: ['false'] },
    { note: 'customer_account_id INTEGER', column: 'customer_account_id', normal: (row) => `${(row.customer_account_id as string).length}::integer`, extremes: ['(-2147483648)::integer'] },
    { note: 'customer_account_id STRUCT', column: 'customer_account_id', normal: (row) => `{'id': ${sqlText(row.customer_account_id as string)}}`, extremes: [`{'id': null}`] },
    { note: 'customer_account_id LIST', column: 'customer_account_id', normal: (row) => `[${sqlText(row.customer_account_id as string)}]`, extremes: ['[]::varchar[]', '[null]::varchar[]'] },
    { note: 'customer_account_id MAP', column: 'customer_account_id', normal: (row) => `map {'id': ${sqlText(row.customer_account_id as string)}}`, extremes: [`map {'id': ''}`] },
    { note: 'integration_id BLOB', column: 'integration_id', normal: (row) => `(${sqlText(row.integration_id as string)})::blob`, extremes: [`'\\xFF\\xFE\\x00'::blob`, `'\\xC3'::blob`] },
    { note: 'integration_id UUID', column: 'integration_id', normal: (_row, i) => `'00000000-0000-4000-8000-${String(i).padStart(12, '0')}'::uuid`, extremes: [`'00000000-0000-0000-0000-000000000000'::uuid`] },
    { note: 'org_id ENUM', column: 'org_id', normal: () => `'acme'::enum ('acme', 'globex')`, extremes: [`'globex'::enum ('acme', 'globex')`] },
    { note: 'ended_at INTERVAL', column: 'ended_at', normal: () => `interval 1 hour`, extremes: [`interval 3000000 days`, `interval 0 seconds`] },
  ];
  const variant = variants[n % variants.length] as (typeof variants)[number];
  const rows = parquetBase();
  BASE_ROWS.forEach((row, i) => ((rows[i] as SqlRow)[variant.column] = variant.normal(row, i)));
  const changed: string[] = [];
  for (const extreme of variant.extremes) {
    const index = intBelow(rng, rows.length);
    (rows[index] as SqlRow)[variant.column] = extreme;
    changed.push(`row ${index + 1} = ${extreme}`);
  }
  return { parquet: { select: selectOf(rows), rows: rows.length }, note: `${variant.note}; ${changed.join(', ')}` };
}

function parquetSpecial(n: number): Mutated {
  const base = parquetBase();
  const variants: (() => Mutated)[] = [
    () => ({ parquet: { select: selectOf(base.map((row) => Object.fromEntries(Object.keys(row).map((c) => [c, 'null::varchar'])))), rows: base.length }, note: 'every value null' }),
    () => ({ parquet: { select: `${selectOf(base.slice(0, 1))} limit 0`, rows: 0 }, note: 'no rows' }),
    () => {
      const rows = base.map((row) => ({ ...row }));
      (rows[5] as SqlRow).customer_account_id = `repeat('x', ${HUGE})`;
      return { parquet: { select: selectOf(rows), rows: rows.length }, note: 'row 6 customer_account_id is 3,000,000 bytes' };
    },
    () => {
      const rows = base.map((row) => ({ ...row }));
      // a huge org_id is a partition folder name of the export: issue 15 makes those safe
      (rows[3] as SqlRow).customer_account_id = `repeat('k', ${MB})`;
      return { parquet: { select: selectOf(rows), rows: rows.length }, note: `row 4 customer_account_id is ${MB} bytes long` };
    },
    () => ({ parquet: { select: selectOf(base), rows: base.length, truncateTo: 0.5 }, note: 'a valid file cut at half its bytes' }),
    () => ({ parquet: { select: selectOf(base), rows: base.length, truncateTo: 0.97 }, note: 'a valid file without its last bytes (the footer)' }),
  ];
  return (variants[n % variants.length] as () => Mutated)();
}

// ---------------------------------------------------------------------------
// The inputs
// ---------------------------------------------------------------------------

function seedOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

/** kinds run through the compiled CLI instead of the library: "<format> <kind> #<n>" */
const CLI_PICKS = new Set([
  'csv truncate-mid-quote #0',
  'csv insert #2',
  'csv bom #1',
  'csv crlf-some #0',
  'csv delimiter #2',
  'csv huge #0',
  'csv date #0',
  'csv key #1',
  'csv header #0',
  'csv blank-line #1',
  'ndjson wrong-type #3',
  'ndjson non-object #0',
  'ndjson truncate #0',
  'ndjson integer #1',
  'parquet key #0',
  'parquet special #4',
]);

function makeInputs(): FuzzInput[] {
  const inputs: FuzzInput[] = [];
  const add = (format: Format, kind: string, count: number, make: (rng: Rng, n: number) => Mutated) => {
    for (let n = 0; n < count; n += 1) {
      const seed = seedOf(`${FUZZ_SEED}:${format}:${kind}:${n}`);
      const mutated = make(mulberry32(seed), n);
      const id = `${format} ${kind} #${n}`;
      inputs.push({ label: `${id}: ${mutated.note.slice(0, 110)}`, format, kind, seed, cli: CLI_PICKS.has(id), mutated });
    }
  };
  const bytes = (mutation: ByteMutation, format: 'csv' | 'ndjson') => (rng: Rng, n: number) =>
    mutation(rng, format === 'csv' ? BASE_CSV : BASE_NDJSON, n, format);

  // CSV
  add('csv', 'truncate', 8, bytes(truncate, 'csv'));
  add('csv', 'truncate-mid-quote', 8, bytes(truncateInQuotes, 'csv'));
  add('csv', 'truncate-mid-multibyte', 8, bytes(truncateInCharacter, 'csv'));
  add('csv', 'insert', 14, bytes(insertBytes, 'csv'));
  add('csv', 'overwrite', 12, bytes(overwriteBytes, 'csv'));
  add('csv', 'bom', 4, bytes(bom, 'csv'));
  add('csv', 'crlf-all', 1, bytes(crlfAll, 'csv'));
  add('csv', 'crlf-some', 8, bytes(crlfSome, 'csv'));
  add('csv', 'blank-line', 5, bytes(blankLine, 'csv'));
  add('csv', 'stray-quote', 9, bytes(strayQuote, 'csv'));
  add('csv', 'delimiter', 12, (_rng, n) => csvDelimiter(n));
  add('csv', 'huge', 4, (_rng, n) => csvHuge(n));
  add('csv', 'date', 10, valueMutation('csv', BASE_ROWS, IMPOSSIBLE_DATES, false));
  add('csv', 'word', 5, valueMutation('csv', BASE_ROWS, SPECIAL_WORDS, false));
  add('csv', 'integer', 6, valueMutation('csv', BASE_ROWS, EXTREME_INTEGERS, false));
  add('csv', 'key', 12, keyMutation('csv', BASE_ROWS));
  // not org_id: a huge one is an export folder's name, which issue 15 makes safe
  add('csv', 'key-long', 2, (_rng, n) => (n === 0 ? longKey('csv', BASE_ROWS, 'customer_account_id', MB) : longKey('csv', BASE_ROWS, 'integration_id', MB)));
  add('csv', 'header', 8, (_rng, n) => csvHeader(n));
  add('csv', 'file-name', 4, (_rng, n) => ({ bytes: BASE_CSV, note: `the valid file named ${show(FILE_NAMES[n] as string)}`, name: `${FILE_NAMES[n]}.csv` }));
  add('csv', 'combo', 9, bytes(combo, 'csv'));

  // NDJSON
  add('ndjson', 'truncate', 8, bytes(truncate, 'ndjson'));
  add('ndjson', 'truncate-mid-string', 6, bytes(truncateInQuotes, 'ndjson'));
  add('ndjson', 'truncate-mid-multibyte', 6, bytes(truncateInCharacter, 'ndjson'));
  add('ndjson', 'insert', 10, bytes(insertBytes, 'ndjson'));
  add('ndjson', 'overwrite', 8, bytes(overwriteBytes, 'ndjson'));
  add('ndjson', 'bom', 2, bytes(bom, 'ndjson'));
  add('ndjson', 'crlf-all', 1, bytes(crlfAll, 'ndjson'));
  add('ndjson', 'crlf-some', 4, bytes(crlfSome, 'ndjson'));
  add('ndjson', 'blank-line', 5, bytes(blankLine, 'ndjson'));
  add('ndjson', 'wrong-type', 12, ndjsonType);
  add('ndjson', 'non-object', 10, ndjsonNonObject);
  add('ndjson', 'escape', 6, ndjsonEscape);
  add('ndjson', 'keys', 4, (_rng, n) => ndjsonKeys(n));
  add('ndjson', 'huge', 2, (_rng, n) => ndjsonHuge(n));
  add('ndjson', 'date', 8, valueMutation('ndjson', BASE_NDJSON_ROWS, IMPOSSIBLE_DATES, false));
  add('ndjson', 'word', 4, valueMutation('ndjson', BASE_NDJSON_ROWS, SPECIAL_WORDS, true));
  add('ndjson', 'integer', 8, valueMutation('ndjson', BASE_NDJSON_ROWS, EXTREME_INTEGERS, true));
  add('ndjson', 'key', 10, keyMutation('ndjson', BASE_NDJSON_ROWS));
  add('ndjson', 'key-long', 2, (_rng, n) => (n === 0 ? longKey('ndjson', BASE_NDJSON_ROWS, 'integration_id', MB) : longKey('ndjson', BASE_NDJSON_ROWS, 'customer_account_id', MB)));
  add('ndjson', 'file-name', 3, (_rng, n) => ({ bytes: BASE_NDJSON, note: `the valid file named ${show(FILE_NAMES[n + 4] as string)}`, name: `${FILE_NAMES[n + 4]}.ndjson` }));
  add('ndjson', 'combo', 6, bytes(combo, 'ndjson'));

  // Parquet, at the value level
  add('parquet', 'key', 6, (rng, n) => parquetValues(rng, n, HOSTILE_KEYS, KEY_COLUMNS, 'hostile keys'));
  add('parquet', 'date', 4, (rng, n) => parquetValues(rng, n, IMPOSSIBLE_DATES, TIMESTAMP_COLUMNS, 'impossible dates'));
  add('parquet', 'word', 2, (rng, n) => parquetValues(rng, n, SPECIAL_WORDS, TIMESTAMP_COLUMNS, 'special words'));
  add('parquet', 'integer', 2, (rng, n) => parquetValues(rng, n, EXTREME_INTEGERS, TIMESTAMP_COLUMNS, 'extreme integers as text'));
  add('parquet', 'typed', 18, parquetTyped);
  add('parquet', 'special', 6, (_rng, n) => parquetSpecial(n));
  return inputs;
}

// ---------------------------------------------------------------------------
// Running one input
// ---------------------------------------------------------------------------

type Exit = 0 | 1 | 2 | 'crash';
interface Outcome {
  label: string;
  format: Format;
  kind: string;
  via: 'library' | 'cli';
  exit: Exit;
  seconds: number;
  problems: string[];
  message?: string;
}

/** Bytes as text a reader can paste: printable ASCII as is, the rest as \xNN. */
function excerpt(bytes: Buffer, at: number | undefined): string {
  const from = Math.max(0, (at ?? 0) - 40);
  const slice = bytes.subarray(from, from + 100);
  const text = [...slice].map((byte) => (byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`)).join('');
  return `bytes ${from}..${from + slice.length} of ${bytes.length}: ${text}`;
}

/** What a message must be (docs/billing-rules.md §7): one sentence naming the file. */
function sentenceProblems(message: string, file: string): string[] {
  const problems: string[] = [];
  if (/[\r\n]/.test(message)) problems.push('the message spans lines');
  if (/\bat .+:\d+:\d+\)?$/m.test(message)) problems.push('the message holds a stack trace');
  if (!message.trimEnd().endsWith('.')) problems.push('the message does not end with a period');
  if (!message.includes(file) && !message.includes(basename(file))) problems.push('the message does not name the input file');
  if (/^Audit \w+ failed/.test(message)) problems.push('an audit failed: the product found its own facts inconsistent');
  return problems;
}

/** After a build that succeeded: the identity, against the test's own count (one read of the database). */
async function identityProblems(db: string, file: string, expected: number | undefined): Promise<string[]> {
  const counted = await queryRows(
    db,
    `with files as (select * from rpt_source_files where counted),
          rejects as (
              select count(*)::bigint as n, count(distinct source_row)::bigint as distinct_rows,
                     min(source_row)::bigint as first_row, max(source_row)::bigint as last_row,
                     string_agg(distinct reason, ',' order by reason) as reasons
              from rejected_interactions)
     select files.source_file, files.rows_read, files.rows_accepted, files.rows_rejected, files.rows_filtered, rejects.*
     from files cross join rejects`,
  );
  const [row] = counted;
  if (counted.length !== 1 || row?.source_file !== file) {
    return [`rpt_source_files counts ${JSON.stringify(counted.map((each) => each.source_file))}, not the one input file ${file}`];
  }
  const [read, accepted, rejected, filtered] = [row.rows_read, row.rows_accepted, row.rows_rejected, row.rows_filtered].map(Number) as [number, number, number, number];
  const problems: string[] = [];
  if (read !== accepted + rejected + filtered) {
    problems.push(`identity broken: rows_read ${read} != accepted ${accepted} + rejected ${rejected} + filtered ${filtered}`);
  }
  if (expected !== undefined && read !== expected) {
    problems.push(`rows_read ${read} != ${expected} physical data rows counted by the test (accepted ${accepted}, rejected ${rejected})`);
  }
  const n = Number(row.n);
  if (n !== rejected) problems.push(`rejected_interactions holds ${n} rows, rpt_source_files says ${rejected}`);
  if (n > 0) {
    const unknown = String(row.reasons ?? '').split(',').filter((reason) => !REASONS.has(reason));
    if (unknown.length > 0) problems.push(`reasons not in the rules: ${unknown.join(', ')}`);
    if (Number(row.distinct_rows) !== n) problems.push(`a source_row is rejected more than once (${n} rejects, ${Number(row.distinct_rows)} rows)`);
    if (Number(row.first_row) < 1 || Number(row.last_row) > read) {
      problems.push(`rejected source_row ${Number(row.first_row)}..${Number(row.last_row)} outside the file's rows 1..${read}`);
    }
  }
  return problems;
}

function runCli(cwd: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolvePromise({ status, stdout, stderr }));
  });
}

/** Writes the input into a fresh folder and returns the file and its row count by the test's own definition. */
async function writeInput(dir: string, input: FuzzInput): Promise<{ file: string; expected: number | undefined; bytes: Buffer }> {
  const { mutated, format } = input;
  const file = join(dir, mutated.name ?? `input.${format}`);
  if (mutated.parquet) {
    await writeParquet(dir, basename(file), mutated.parquet.select);
    if (mutated.parquet.truncateTo !== undefined) truncateSync(file, Math.floor(statSync(file).size * mutated.parquet.truncateTo));
    // a cut file has no rows the test could count: only the product's identity applies
    return { file, expected: mutated.parquet.truncateTo === undefined ? mutated.parquet.rows : undefined, bytes: readFileSync(file) };
  }
  const bytes = mutated.bytes as Buffer;
  writeFileSync(file, bytes);
  const delimiter = (mutated.delimiter ?? ',').charCodeAt(0);
  return { file, expected: format === 'csv' ? countCsvRows(bytes, delimiter) : countNdjsonRows(bytes), bytes };
}

async function runInput(input: FuzzInput): Promise<{ outcome: Outcome; report: string }> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'convbill-fuzz-'));
  const db = join(dir, 'convbill.duckdb');
  const { file, expected, bytes } = await writeInput(dir, input);
  const problems: string[] = [];
  let exit: Exit;
  let message: string | undefined;
  if (input.cli) {
    const run = await runCli(dir, ['build', '--input', file, '--db', db, '--as-of', CLI_AS_OF]);
    const stderr = run.stderr.trimEnd();
    message = stderr || undefined;
    if (run.status === 0 || run.status === 1 || run.status === 2) exit = run.status;
    else {
      exit = 'crash';
      problems.push(`the CLI exited with status ${run.status}`);
    }
    if (/internal error/.test(stderr)) {
      exit = 'crash';
      problems.push(`the CLI met an error that is no ConvbillError: ${stderr.slice(0, 500)}`);
    }
    if (/\n\s+at /.test(run.stderr)) problems.push('stderr holds a stack trace');
    if (stderr.split('\n').length > 1) problems.push(`stderr spans ${stderr.split('\n').length} lines`);
    if (run.status !== 0) {
      if (!stderr.startsWith('convbill: ')) problems.push('stderr does not start with "convbill: "');
      problems.push(...sentenceProblems(stderr.replace(/^convbill: /, ''), file));
    } else {
      problems.push(...(await identityProblems(db, file, expected)));
    }
  } else {
    const options: BuildOptions = {
      db,
      parquetDir: join(dir, 'convbill_parquet'),
      sources: [],
      inputs: [file],
      cycles: { defaultRule: { anchorDay: 1, timezone: 'UTC' }, orgRules: {} },
      asOf: AS_OF,
      threads: 1,
    };
    try {
      await build(options);
      exit = 0;
    } catch (error) {
      if (error instanceof ConvbillError) {
        message = error.message;
        exit = error.exitCode === 1 || error.exitCode === 2 ? error.exitCode : 'crash';
        if (exit === 'crash') problems.push(`a ConvbillError with exit code ${error.exitCode}`);
        problems.push(...sentenceProblems(error.message, file));
      } else {
        exit = 'crash';
        message = error instanceof Error ? `${error.constructor.name}: ${error.message}` : String(error);
        problems.push(`crash: ${message.slice(0, 500)}`);
      }
    }
    if (exit === 0) problems.push(...(await identityProblems(db, file, expected)));
  }
  const outcome: Outcome = {
    label: input.label,
    format: input.format,
    kind: input.kind,
    via: input.cli ? 'cli' : 'library',
    exit,
    seconds: (performance.now() - started) / 1000,
    problems,
    message: message && message.length > 400 ? `${message.slice(0, 400)}… (${message.length} chars)` : message,
  };
  let report = '';
  if (problems.length > 0) {
    report = [
      `${input.label}`,
      `  mutation: ${input.mutated.note}`,
      `  seed ${input.seed} (FUZZ_SEED=${FUZZ_SEED}); replay: npx vitest run test/fuzz.test.ts -t ${JSON.stringify(`${input.label.split(':')[0]}:`)}`,
      `  file kept: ${file}`,
      `  ${excerpt(bytes, input.mutated.at)}`,
      `  exit: ${exit}${message ? `; message: ${outcome.message}` : ''}`,
      ...problems.map((problem) => `  - ${problem}`),
    ].join('\n');
  } else {
    rmSync(dir, { recursive: true, force: true });
  }
  return { outcome, report };
}

// A few builds at once, whatever vitest's own concurrency
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(work: () => Promise<T>): Promise<T> {
  while (running >= CONCURRENCY) await new Promise<void>((wake) => waiting.push(wake));
  running += 1;
  try {
    return await work();
  } finally {
    running -= 1;
    waiting.shift()?.();
  }
}

// ---------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------

const INPUTS = makeInputs();
const outcomes: Outcome[] = [];
let suiteStarted = 0;

function summary(): string {
  const count = (key: (outcome: Outcome) => string) => {
    const counts: Record<string, number> = {};
    for (const outcome of outcomes) counts[key(outcome)] = (counts[key(outcome)] ?? 0) + 1;
    return counts;
  };
  const crashes = outcomes.filter((outcome) => outcome.exit === 'crash');
  const identity = outcomes.filter((outcome) => outcome.problems.some((problem) => /identity|rows_read|rejected|reasons|source_row|rpt_source_files/.test(problem)));
  const messages = outcomes.filter((outcome) => outcome.exit !== 'crash' && outcome.exit !== 0 && outcome.problems.length > 0);
  // failures with paths and numbers blanked, to see which recur, and where
  const failures = new Map<string, string[]>();
  for (const outcome of outcomes) {
    if (outcome.exit !== 1 && outcome.exit !== 2) continue;
    const key = `exit ${outcome.exit}: ${(outcome.message ?? '').replace(/^convbill: /, '').replace(/\/\S*/g, '<path>').replace(/\d+/g, 'N').slice(0, 150)}`;
    failures.set(key, [...(failures.get(key) ?? []), `${outcome.label.split(':')[0]}${outcome.via === 'cli' ? ' (cli)' : ''}`]);
  }
  const slowest = [...outcomes].sort((a, b) => b.seconds - a.seconds).slice(0, 5);
  return [
    `fuzz summary (FUZZ_SEED=${FUZZ_SEED}): ${outcomes.length} inputs in ${((performance.now() - suiteStarted) / 1000).toFixed(1)} s`,
    `  by format: ${JSON.stringify(count((o) => o.format))}; via: ${JSON.stringify(count((o) => o.via))}`,
    `  by kind: ${JSON.stringify(count((o) => `${o.format} ${o.kind}`))}`,
    `  exits: ${JSON.stringify(count((o) => String(o.exit)))}`,
    `  crashes: ${crashes.length}${crashes.map((o) => `\n    ${o.label}: ${o.problems.join('; ')}`).join('')}`,
    `  identity violations: ${identity.length}${identity.map((o) => `\n    ${o.label}: ${o.problems.join('; ')}`).join('')}`,
    `  message violations: ${messages.length}${messages.map((o) => `\n    ${o.label}: ${o.problems.join('; ')}`).join('')}`,
    `  failed builds by message:${[...failures]
      .sort((a, b) => b[1].length - a[1].length)
      .map(([text, labels]) => `\n    ${labels.length} × ${text}\n        ${labels.slice(0, 40).join(', ')}${labels.length > 40 ? ', …' : ''}`)
      .join('')}`,
    `  slowest: ${slowest.map((o) => `${o.label.split(':')[0]} ${o.seconds.toFixed(1)} s`).join(', ')}`,
  ].join('\n');
}

describe.concurrent('fuzz: a mutated CSV, NDJSON or Parquet file never crashes a build, and a build that succeeds keeps every physical row', () => {
  beforeAll(() => {
    suiteStarted = performance.now();
  });
  afterAll(() => {
    console.log(summary());
  });

  it('the base files hold their 20 data rows by the test\'s own count, and there are at least 300 inputs', () => {
    expect(countCsvRows(BASE_CSV)).toBe(BASE_ROWS.length);
    expect(countNdjsonRows(BASE_NDJSON)).toBe(BASE_ROWS.length);
    expect(INPUTS.length).toBeGreaterThanOrEqual(300);
  });

  for (const input of INPUTS) {
    it(input.label, async () => {
      const { outcome, report } = await limited(() => runInput(input));
      outcomes.push(outcome);
      expect(outcome.problems, report).toEqual([]);
    }, 180_000);
  }
});
