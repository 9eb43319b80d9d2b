/**
 * Issue 19: timestamps are read exactly as the rules say, never as the engine
 * guesses. A table of values from the edges of the grammar goes through
 * parse_instant directly and through the real pipeline (CSV, NDJSON,
 * Parquet), and an independent reference below says what each one is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installMacros } from '../src/project/run-models.js';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import { sqlString } from '../src/engine/sql-text.js';
import { buildFacts, tempDir, writeCsv, writeNdjson, writeParquet, type InputRow } from './helpers.js';

type EpochUnit = 's' | 'ms' | 'us';

// ---------------------------------------------------------------- reference

const MICROS_PER: Record<EpochUnit, bigint> = { s: 1_000_000n, ms: 1_000n, us: 1n };
/** 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z: the range of an epoch */
const FIRST_US = -62_135_596_800_000_000n;
const LAST_US = 253_402_300_799_999_999n;
const DAY_MS = 86_400_000;

const isLeap = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
const daysInMonth = (year: number, month: number) => (month === 2 ? (isLeap(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31);

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil); Date.UTC maps years 0-99 to 19xx. */
function daysFromCivil(year: number, month: number, day: number): bigint {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return BigInt(era * 146_097 + dayOfEra - 719_468);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The zone's UTC offset in minutes at an instant, as Intl (the ICU Node carries) says. */
function offsetMinutesAt(ms: number, timezone: string): number {
  if (timezone === 'UTC') return 0;
  let format = offsetFormats.get(timezone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
    offsetFormats.set(timezone, format);
  }
  const name = format.formatToParts(new Date(ms)).find((part) => part.type === 'timeZoneName')?.value ?? '';
  const match = /^GMT(?:([+-])(\d{2}):(\d{2}))?$/.exec(name);
  if (!match) throw new Error(`no whole-minute offset for ${timezone} at ${new Date(ms).toISOString()}: ${name}`);
  return match[1] ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

/**
 * A wall-clock time of `timezone` as an instant. Where the clocks skip it,
 * it is read with the offset before the change (an hour that does not exist
 * lands an hour later); where they repeat it, it is the later occurrence.
 * That is what ICU does, and the rules do not say otherwise.
 */
function wallClockInstant(wallUs: bigint, timezone: string): bigint {
  const wallMs = Number(wallUs / 1000n);
  const before = offsetMinutesAt(wallMs - DAY_MS, timezone);
  const after = offsetMinutesAt(wallMs + DAY_MS, timezone);
  const fitting = [before, after].filter((offset) => offsetMinutesAt(wallMs - offset * 60_000, timezone) === offset);
  const offset = fitting.length === 0 ? before : Math.min(...fitting);
  return wallUs - BigInt(offset) * 60_000_000n;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** The instant a text names, in epoch microseconds, or null when it is no timestamp. */
function referenceInstant(text: string, timezone: string, unit: EpochUnit): bigint | null {
  if (/^-?\d+$/.test(text)) {
    const micros = BigInt(text) * MICROS_PER[unit];
    return micros >= FIRST_US && micros <= LAST_US ? micros : null;
  }
  const match = ISO.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(match[i])) as [number, number, number, number, number, number];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const fraction = BigInt((match[7] ?? '').padEnd(6, '0'));
  const wall =
    daysFromCivil(year, month, day) * 86_400_000_000n + BigInt(hour * 3600 + minute * 60 + second) * 1_000_000n + fraction;
  if (match[8]) return wall;
  if (match[9]) {
    const [hours, minutes] = [Number(match[10]), Number(match[11] ?? 0)];
    if (minutes > 59 || hours * 60 + minutes > 18 * 60) return null;
    return wall - BigInt((match[9] === '-' ? -1 : 1) * (hours * 60 + minutes)) * 60_000_000n;
  }
  return wallClockInstant(wall, timezone);
}

/** Epoch microseconds of an ISO instant Date can read, plus a few microseconds more. */
const us = (iso: string, micros = 0n) => BigInt(Date.parse(iso)) * 1000n + micros;

// ---------------------------------------------------------------- the value table

/** Values at the edges of the grammar, accepted and not; already trimmed, as staging hands them over. */
function valueTable(): string[] {
  const values = new Set<string>();
  const add = (...items: string[]) => items.forEach((item) => values.add(item));
  // separators and fractional digits 0..7
  for (const separator of ['T', 't', ' ']) {
    for (let digits = 0; digits <= 7; digits += 1) {
      const fraction = digits === 0 ? '' : `.${'1234567'.slice(0, digits)}`;
      add(`2024-03-10${separator}10:20:30${fraction}`, `2024-03-10${separator}10:20:30${fraction}Z`);
    }
  }
  // offsets: every accepted form at the edges of the range, and near misses
  for (const offset of [
    'Z', 'z', '+00:00', '-00:00', '+0000', '+00', '-00', '+01:00', '+0100', '+01', '-05:00', '-0500', '-05', '+05:30', '+0530',
    '-09:30', '+05:45', '+14:00', '-12:00', '+17:59', '+18:00', '-18:00', '+1800', '-1800', '+18', '-18',
    '+18:01', '-18:01', '+18:30', '+19:00', '+19', '+24:00', '+99', '+05:60', '+0560', '+5', '+5:30', '+05:3', '+053',
    '+05:300', '+05:30:00', '+05-30', '+05:', '05:00', 'Z+01:00', 'ZZ', '+01:00Z', ' +01:00', ' Z', '+ 01:00', '\u221205:00',
    'UTC', 'GMT', 'GMT+1', 'CET', ' CET', ' UTC', ' Europe/Paris', 'Europe/Paris', '[Europe/Paris]', '+01:00[Europe/Paris]',
  ]) {
    add(`2024-03-10T10:20:30${offset}`);
  }
  add('2024-03-10T10:20:30.123456+05:30', '2024-03-10 10:20:30.5-0930', '2024-03-10t10:20:30.000001z', '2024-03-10 10:20:30+02');
  // field ranges: months, days, leap days
  for (const [year, month, day] of [
    ['2024', '02', '29'], ['2023', '02', '29'], ['2000', '02', '29'], ['1900', '02', '29'], ['2100', '02', '29'],
    ['2400', '02', '29'], ['2024', '02', '28'], ['2024', '02', '30'], ['2024', '04', '30'], ['2024', '04', '31'],
    ['2024', '01', '31'], ['2024', '01', '32'], ['2024', '12', '31'], ['2024', '13', '01'], ['2024', '00', '10'],
    ['2024', '10', '00'], ['2024', '99', '99'],
  ]) {
    add(`${year}-${month}-${day}T00:00:00Z`, `${year}-${month}-${day} 12:00:00`);
  }
  // hours, minutes, seconds; leap seconds are not read
  for (const time of [
    '00:00:00', '23:59:59', '24:00:00', '23:60:00', '23:59:60', '25:00:00', '99:99:99', '12:5:00', '1:00:00', '12:00:0',
    '12:00', '12', '12:00:00.', '12:00:00,5', '12:00:00.Z', '120000', '12:00:00.1234567890', '12:00:00:00', '12-00-00',
  ]) {
    add(`2024-03-10T${time}Z`, `2024-03-10 ${time}`);
  }
  // widths and shapes of the date
  add(
    '2024-3-1T10:00:00Z', '2024-03-1T10:00:00Z', '2024-3-01T10:00:00Z', '24-03-10T10:00:00Z', '02024-03-10T10:00:00Z',
    '10000-01-01T00:00:00Z', '999-01-01T00:00:00Z', '+2024-03-10T10:00:00Z', '-2024-03-10T10:00:00Z', '20240310T102030Z',
    '2024-03-10T102030Z', '2024-03-10  10:20:30', '2024-03-10T 10:20:30', '2024-03-10_10:20:30', '2024/03/10 10:20:30',
    '2024-03-10TT10:20:30', '2024-03-10', '2024-03', '2024', '10:20:30', 'T10:20:30', '2024-W10-7T10:00:00Z', '2024-070T10:00:00Z',
    '\uff12\uff10\uff12\uff14-03-10T10:00:00Z', '\u0662\u0660\u0662\u0664-03-10T10:00:00Z',
  );
  // the ends of the range and of the plausible window (valid_from, as-of 2030)
  add(
    '0000-01-01T00:00:00Z', '0000-12-31 23:59:59', '0001-01-01T00:00:00Z', '0001-01-01 00:00:00.000000', '0001-01-01T00:00:00+01:00',
    '9999-12-31T23:59:59.999999Z', '9999-12-31T23:59:59.9999999Z', '9999-12-31 23:59:59.999999', '9999-12-31T23:59:59-18:00',
    '1970-01-01T00:00:00Z', '1969-12-31T23:59:59.999999Z', '1999-12-31T23:59:59.999999Z', '2000-01-01T00:00:00Z',
    '2000-01-01T00:59:59+01:00', '2000-01-01 00:00:00', '2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000001Z',
    '2029-12-31T23:59:59.999999Z', '2030-01-01T01:00:00+01:00', '2029-12-31 19:00:00-05:00', '2029-12-31 19:00:00.000001-05:00',
  );
  // zone names, abbreviations and the words a lenient cast knows
  add(
    '2024-03-10 10:00:00 Europe/Paris', '2024-03-10T10:00:00 America/New_York', '2024-03-10 10:00:00 Asia/Kolkata',
    '2024-03-10T10:00:00Z[UTC]', '2024-03-10 10:00:00 CET', '2024-03-10 10:00:00 EST', '2024-03-10 10:00:00 PST8PDT',
    '2024-03-10 10:00:00 UTC', '2024-03-10 10:00:00 GMT', 'Europe/Paris', 'CET', 'UTC', 'Z', 'T', '-', '.', ':',
    'epoch', 'EPOCH', 'Epoch', 'infinity', '-infinity', '+infinity', 'Infinity', 'INFINITY', 'inf', 'NaN', 'nan',
    'now', 'NOW', 'today', 'tomorrow', 'yesterday', 'allballs', 'null', 'NULL', 'true', 'undefined',
    'Sun, 10 Mar 2024 10:00:00 GMT', 'Sun Mar 10 2024 10:00:00 GMT+0000', '03/10/2024 10:00:00', '10/03/2024', '10.03.2024 10:00',
    '12/31/2024 25:00', 'March 10, 2024', '2024-03-10T10:00:00.000+01:00 CET', 'J2460379.5',
  );
  // integers: epochs in each unit around the window and the range, overflow, and what is not digits only
  add(
    '0', '1', '-1', '-0', '00', '946684800', '946684799', '946684800000', '946684799999', '946684800000000', '946684799999999',
    '1700000000', '1700000000000', '1700000000000000', '1893456000', '1893456001', '1893456000000', '1893456000001',
    '1893456000000000', '1893456000000001', '253402300799', '253402300800', '253402300799999', '253402300800000',
    '253402300799999999', '253402300800000000', '-62135596800', '-62135596801', '-62135596800000', '-62135596800001',
    '-62135596800000000', '-62135596800000001', '9223372036854775807', '9223372036854775808', '-9223372036854775808',
    '-9223372036854775809', '99999999999999999999', '-99999999999999999999', '0001700000000000',
    '00000000000000000000000000001700000000000', '1'.repeat(40),
    '+5', '+1700000000000', '0x10', '0X10', '1e12', '1E12', '1700000000000.0', '1700000000000.', '.5', '1_700_000_000_000',
    '1,700,000,000,000', '1 700', '--5', '5-', '\u0665', '\uff11\uff17\uff10\uff10',
  );
  return [...values];
}

const VALUES = valueTable();
const ZONES = ['UTC', 'Europe/Paris', 'Asia/Kolkata', 'America/New_York'];
const UNITS: EpochUnit[] = ['s', 'ms', 'us'];

/** Naive text outside 1970-2100 would need local mean times and old rules; zones are compared on modern dates only. */
function zoneIndependentOrModern(value: string, timezone: string): boolean {
  const match = ISO.exec(value);
  if (timezone === 'UTC' || !match || match[8] || match[9]) return true;
  return Number(match[1]) >= 1970 && Number(match[1]) <= 2100;
}

/** Hand-checked answers: they hold the reference to the rules, so a shared mistake cannot pass. */
const SPOT_CHECKS: [value: string, timezone: string, unit: EpochUnit, expected: bigint | null][] = [
  ['2024-01-10T09:00:00+02:00', 'UTC', 'ms', us('2024-01-10T07:00:00Z')],
  ['2024-01-10 09:00:00', 'Asia/Kolkata', 'ms', us('2024-01-10T03:30:00Z')],
  ['2024-01-10 09:00:00+02:00', 'Asia/Kolkata', 'ms', us('2024-01-10T07:00:00Z')],
  ['2024-01-10t09:00:00.5z', 'America/New_York', 'ms', us('2024-01-10T09:00:00.500Z')],
  ['2024-01-10 09:00:00.123456-0530', 'UTC', 'ms', us('2024-01-10T14:30:00.123Z', 456n)],
  ['2024-01-10T09:00:00-05', 'Europe/Paris', 'ms', us('2024-01-10T14:00:00Z')],
  ['1704877200', 'UTC', 's', us('2024-01-10T09:00:00Z')],
  ['1704877200000', 'Europe/Paris', 'ms', us('2024-01-10T09:00:00Z')],
  ['1704877200000001', 'UTC', 'us', us('2024-01-10T09:00:00Z', 1n)],
  ['-1', 'UTC', 'ms', -1000n],
  ['2024-03-31 02:30:00', 'Europe/Paris', 'ms', us('2024-03-31T01:30:00Z')], // skipped hour: read at +01:00
  ['2024-10-27 02:30:00', 'Europe/Paris', 'ms', us('2024-10-27T01:30:00Z')], // repeated hour: the later one
  ['2024-03-10 02:30:00', 'America/New_York', 'ms', us('2024-03-10T07:30:00Z')],
  ['2024-11-03 01:30:00', 'America/New_York', 'ms', us('2024-11-03T06:30:00Z')],
  ['2024-02-29T00:00:00Z', 'UTC', 'ms', us('2024-02-29T00:00:00Z')],
  ['9999-12-31T23:59:59.999999Z', 'UTC', 'ms', LAST_US],
  ['0001-01-01T00:00:00Z', 'UTC', 'ms', FIRST_US],
  ['253402300799999', 'UTC', 'ms', LAST_US - 999n],
  ['2024-03-10T10:20:30+18:00', 'UTC', 'ms', us('2024-03-09T16:20:30Z')],
  ...(
    [
      '2023-02-29T00:00:00Z', '2024-02-30T00:00:00Z', '2024-03-10T24:00:00Z', '2024-03-10T23:59:60Z', '2024-03-10T10:20',
      '2024-03-10', '2024-3-1T10:00:00Z', '2024-03-10T10:00:00.Z', '2024-03-10T10:20:30.1234567Z', '2024-03-10T10:20:30+18:01',
      '2024-03-10 10:00:00 Europe/Paris', '2024-03-10 10:00:00 CET', 'epoch', 'infinity', 'now', '0000-01-01T00:00:00Z',
      '10000-01-01T00:00:00Z', '-9223372036854775808', '99999999999999999999', '253402300800000', '1e12', '0x10',
      '1700000000000.0', '+5', '2024-03-10T10:20:30,5Z',
    ] as const
  ).map((value): [string, string, EpochUnit, null] => [value, 'UTC', 'ms', null]),
];

// ---------------------------------------------------------------- the macro itself

const valuesSql = (values: string[]) =>
  `(values ${values.map((value, i) => `(${i}, ${sqlString(value)})`).join(', ')}) as input(i, v)`;

describe('parse_instant: the grammar, value by value', () => {
  let warehouse: Warehouse;
  beforeAll(async () => {
    warehouse = await Warehouse.open(':memory:');
    await installMacros(warehouse);
  });
  afterAll(() => warehouse.close());

  async function parsed(values: string[], timezone: string, unit: EpochUnit): Promise<(string | null)[]> {
    const rows = await warehouse.rows<{ us: string | null }>(
      `select epoch_us(parse_instant(v, ${sqlString(timezone)}, ${sqlString(unit)}))::varchar as us from ${valuesSql(values)} order by i`,
    );
    return rows.map((row) => row.us);
  }

  it('the value table covers the edges of the grammar', () => {
    expect(VALUES.length).toBeGreaterThanOrEqual(150);
    const accepted = VALUES.filter((value) => referenceInstant(value, 'UTC', 'ms') !== null);
    expect(accepted.length).toBeGreaterThan(40);
    expect(VALUES.length - accepted.length).toBeGreaterThan(100);
  });

  it('the reference agrees with the hand-checked answers', () => {
    for (const [value, timezone, unit, expected] of SPOT_CHECKS) {
      expect([value, timezone, unit, referenceInstant(value, timezone, unit)]).toEqual([value, timezone, unit, expected]);
    }
  });

  it('the macro agrees with the hand-checked answers', async () => {
    for (const [value, timezone, unit, expected] of SPOT_CHECKS) {
      const [got] = await parsed([value], timezone, unit);
      expect([value, timezone, unit, got]).toEqual([value, timezone, unit, expected === null ? null : String(expected)]);
    }
  });

  for (const timezone of ZONES) {
    for (const unit of UNITS) {
      it(`every value of the table reads as the reference reads it (${timezone}, epoch ${unit})`, async () => {
        const values = VALUES.filter((value) => zoneIndependentOrModern(value, timezone));
        const got = await parsed(values, timezone, unit);
        const differences = values.flatMap((value, i) => {
          const expected = referenceInstant(value, timezone, unit);
          const want = expected === null ? null : String(expected);
          return got[i] === want ? [] : [{ value, macro: got[i], reference: want }];
        });
        expect(differences).toEqual([]);
      });
    }
  }

  it('one odd value never changes how the others are read: naive text alone and among zone names and words', async () => {
    const naive = ['2024-03-10 10:00:00', '2024-03-10T10:00:00.5', '2024-07-01 12:00:00', '2024-10-27 02:30:00', '2024-03-31t02:30:00'];
    const odd = [
      '2024-03-10 10:00:00 Europe/Paris', '2024-03-10 10:00:00 America/New_York', '2024-03-10 10:00:00 CET', 'epoch', 'infinity',
      '2024-03-10T10:00:00+01:00[Europe/Paris]', '2024-03-10 10:00:00 Asia/Kolkata', 'now',
    ];
    const mixed = naive.flatMap((value, i) => [odd[i % odd.length] as string, value, odd[(i + 3) % odd.length] as string]);
    for (const timezone of ZONES) {
      const alone = await parsed(naive, timezone, 'ms');
      const among = (await parsed(mixed, timezone, 'ms')).filter((_, i) => i % 3 === 1);
      expect(among).toEqual(alone);
      expect(alone).toEqual(naive.map((value) => String(referenceInstant(value, timezone, 'ms'))));
    }
    // the engine's own cast is what leaked: show it still would, so this test keeps its point
    const leaky = await warehouse.rows<{ us: string }>(
      `select epoch_us(try_cast(v as timestamptz))::varchar as us
       from ${valuesSql(['2024-03-10 10:00:00 Europe/Paris', '2024-03-10 10:00:00'])} order by i`,
    );
    expect(leaky.map((row) => row.us)).not.toEqual([String(us('2024-03-10T09:00:00Z')), String(us('2024-03-10T10:00:00Z'))]);
  });

  it('parse_instant_or_date: a run option or config value may also be a date, local midnight in the zone', async () => {
    const cases: [string, string, bigint | null][] = [
      ['2024-03-20', 'UTC', us('2024-03-20T00:00:00Z')],
      ['2024-03-20', 'Europe/Paris', us('2024-03-19T23:00:00Z')],
      ['2024-02-30', 'UTC', null],
      ['0000-01-01', 'UTC', null],
      ['2024-3-20', 'UTC', null],
      ['2024-03-20T10:00:00Z', 'Europe/Paris', us('2024-03-20T10:00:00Z')],
      ['2024-03-20 10:00:00', 'Europe/Paris', us('2024-03-20T09:00:00Z')],
      ['1704877200000', 'UTC', us('2024-01-10T09:00:00Z')],
      ['tomorrow', 'UTC', null],
    ];
    for (const [value, timezone, expected] of cases) {
      const got = await warehouse.value<string | null>(
        `select epoch_us(parse_instant_or_date(${sqlString(value)}, ${sqlString(timezone)}))::varchar`,
      );
      expect([value, timezone, got]).toEqual([value, timezone, expected === null ? null : String(expected)]);
    }
  });

  it('parse_instant_or_date finds midnight as local_midnight does, where it repeats or is skipped too, and can stand in a join condition', async () => {
    const days = ['2023-11-05', '2023-03-12', '2018-11-04', '2019-02-16', '2024-03-31', '2024-10-27', '2024-03-10', '2024-11-03', '2024-01-01'];
    const zones = [...ZONES, 'America/Havana', 'America/Sao_Paulo', 'Asia/Beirut'];
    const pairs = days.flatMap((day) => zones.map((zone) => `(${sqlString(day)}, ${sqlString(zone)})`));
    const differing = await warehouse.rows(
      `select day, tz from (values ${pairs.join(', ')}) as t(day, tz)
       where parse_instant_or_date(day, tz) is distinct from local_midnight(day::date, tz)`,
    );
    expect(differing).toEqual([]);
    // invoices match periods to cycles in a left join on it
    const joined = await warehouse.value<bigint>(
      `select count(b.cycle_start) from (values ('2024-01-01'), ('2024-01-02T00:00:00Z')) as a(text)
       left join (values (timestamptz '2024-01-01 00:00:00+00'), (timestamptz '2024-01-02 00:00:00+00')) as b(cycle_start)
           on b.cycle_start = parse_instant_or_date(a.text, 'UTC')`,
    );
    expect(joined).toBe(2n);
  });
});

// ---------------------------------------------------------------- the pipeline

const AS_OF = '2030-01-01T00:00:00Z';
const AS_OF_US = us(AS_OF);
/** the default valid_from */
const VALID_FROM_US = us('2000-01-01T00:00:00Z');

type Outcome = { reason: string } | { startedAt: string };

/** Rules §5 for a row whose only question is its started_at (UTC source, epoch milliseconds). */
function expectedOutcome(value: string): Outcome {
  const instant = referenceInstant(value, 'UTC', 'ms');
  if (instant === null) return { reason: 'invalid_timestamp' };
  if (instant < VALID_FROM_US) return { reason: 'implausible_timestamp' };
  if (instant > AS_OF_US) return { reason: 'after_as_of' };
  return { startedAt: String(instant) };
}

const rowOf = (id: string, account: string, startedAt: string | number): InputRow => ({
  interaction_id: id,
  integration_id: 'i1',
  customer_account_id: account,
  started_at: startedAt,
  ended_at: '',
});

async function parquetOf(dir: string, name: string, rows: InputRow[]): Promise<string> {
  const columns = ['interaction_id', 'integration_id', 'customer_account_id', 'started_at', 'ended_at'];
  const tuples = rows.map((row) => `(${columns.map((column) => sqlString(String(row[column] ?? ''))).join(', ')})`);
  return writeParquet(dir, name, `select * from (values ${tuples.join(', ')}) as t(${columns.join(', ')})`);
}

type Built = Awaited<ReturnType<typeof buildFacts>>;

/** Each row's outcome by interaction id: its reject reason, or the started_at its interaction was given. */
async function outcomes(facts: Built): Promise<Map<string, Outcome[]>> {
  const found = new Map<string, Outcome[]>();
  const note = (key: string, outcome: Outcome) => found.set(key, [...(found.get(key) ?? []), outcome]);
  for (const row of await facts.rows(`select interaction_key, reason from rejected_interactions`)) {
    note(String(row.interaction_key), { reason: String(row.reason) });
  }
  const accepted = await facts.rows(
    `select interaction_key, epoch_us(started_at)::varchar as started_at from int_interactions where reject_reason is null`,
  );
  for (const row of accepted) note(String(row.interaction_key), { startedAt: String(row.started_at) });
  return found;
}

const source = (path: string) => ({ path, timezone: 'UTC', columns: {}, epochUnit: 'ms' as const });

describe('the pipeline reads the value table as parse_instant does, in every format', () => {
  const rows = VALUES.map((value, i) => rowOf(`t-${i}`, `a-${i}`, value));
  // JSON numbers arrive as text like digit strings: the same integers, unquoted
  const jsonNumbers = VALUES.filter((value) => /^-?\d+$/.test(value) && String(Number(value)) === value && Number.isSafeInteger(Number(value)));
  const numberRows = jsonNumbers.map((value, i) => rowOf(`n-${i}`, `b-${i}`, Number(value)));

  const formats: [string, (dir: string) => Promise<string>, [InputRow, string][]][] = [
    ['CSV', async (dir) => writeCsv(dir, 'values.csv', rows), rows.map((row, i) => [row, VALUES[i] as string])],
    [
      'NDJSON',
      async (dir) => writeNdjson(dir, 'values.ndjson', [...rows, ...numberRows]),
      [...rows.map((row, i): [InputRow, string] => [row, VALUES[i] as string]), ...numberRows.map((row, i): [InputRow, string] => [row, jsonNumbers[i] as string])],
    ],
    ['Parquet', async (dir) => parquetOf(dir, 'values.parquet', rows), rows.map((row, i) => [row, VALUES[i] as string])],
  ];

  for (const [format, write, expectedRows] of formats) {
    it(`${format}: each row is rejected for the reason its value earns, or starts at the reference instant`, async () => {
      const dir = tempDir();
      const facts = await buildFacts({ dir, inputs: [source(await write(dir))], asOf: AS_OF });
      const found = await outcomes(facts);
      const differences = expectedRows.flatMap(([row, value]) => {
        const got = found.get(String(row.interaction_id)) ?? [];
        const want = expectedOutcome(value);
        return got.length === 1 && JSON.stringify(got[0]) === JSON.stringify(want) ? [] : [{ value, got, want }];
      });
      expect(differences).toEqual([]);
      expect(facts.result.summary.files).toMatchObject([{ rowsRead: expectedRows.length }]);
    });
  }

  it('naive rows give the same facts alone, next to a file of oddities, and among oddities in one file', async () => {
    const naive = [
      '2024-03-10 10:00:00', '2024-03-10T10:00:00.5', '2024-07-01 12:00:00', '2024-10-27 02:30:00', '2024-03-31t02:30:00',
      '2025-01-01 00:00:00.000001', '2024-12-31 23:59:59',
    ].map((value, i) => rowOf(`naive-${i}`, `n-${i}`, value));
    const odd = [
      '2024-03-10 10:00:00 Europe/Paris', '2024-03-10 10:00:00 America/New_York', '2024-03-10 10:00:00 CET', 'epoch', 'infinity',
      '-infinity', 'now', 'today', '2024-03-10T10:00:00+01:00[Europe/Paris]', '2024-03-10 10:00:00 Asia/Kolkata', 'allballs',
    ].map((value, i) => rowOf(`odd-${i}`, `o-${i}`, value));
    const naiveFacts = async (facts: Built) => ({
      interactions: await facts.rows(
        `select interaction_key, epoch_us(started_at)::varchar as started_at, reject_reason
         from int_interactions where interaction_key like 'naive-%' order by 1`,
      ),
      conversations: await facts.rows(
        `select customer_account_id, cycle_id, first_activity_at, last_activity_at
         from fct_billable_conversations where customer_account_id like 'n-%' order by all`,
      ),
    });

    const aloneDir = tempDir();
    const alone = await naiveFacts(
      await buildFacts({ dir: aloneDir, inputs: [source(writeCsv(aloneDir, 'naive.csv', naive))], asOf: AS_OF }),
    );
    expect(alone.interactions).toHaveLength(naive.length);
    expect(alone.interactions.map((row) => row.started_at)).toEqual(
      naive.map((row) => String(referenceInstant(String(row.started_at), 'UTC', 'ms'))),
    );

    const nextDir = tempDir();
    const oddFile = writeNdjson(nextDir, 'odd.ndjson', odd);
    const next = await buildFacts({
      dir: nextDir,
      inputs: [source(oddFile), { ...source(writeCsv(nextDir, 'naive.csv', naive)) }],
      asOf: AS_OF,
    });
    expect(await naiveFacts(next)).toEqual(alone);

    const amongDir = tempDir();
    const interleaved = naive.flatMap((row, i) => [odd[i % odd.length] as InputRow, row, odd[(i + 5) % odd.length] as InputRow]);
    const among = await buildFacts({ dir: amongDir, inputs: [source(writeCsv(amongDir, 'mixed.csv', interleaved))], asOf: AS_OF });
    expect(await naiveFacts(among)).toEqual(alone);
    expect(await among.rows(`select distinct reason from rejected_interactions`)).toEqual([{ reason: 'invalid_timestamp' }]);
  });
});

describe('typed instants that are no instant of the grammar', () => {
  it('a Parquet started_at or ended_at of infinity or -infinity is invalid_timestamp, never an open interaction', async () => {
    const dir = tempDir();
    const file = await writeParquet(
      dir,
      'infinite.parquet',
      `select * from (values
         ('neg-start', 'wa-1', 'c1', '-infinity'::timestamptz, null::timestamptz),
         ('pos-start', 'wa-1', 'c2', 'infinity'::timestamptz, null::timestamptz),
         ('pos-end', 'wa-1', 'c3', '2024-03-10T10:00:00Z'::timestamptz, 'infinity'::timestamptz),
         ('neg-end', 'wa-1', 'c4', '2024-03-10T10:00:00Z'::timestamptz, '-infinity'::timestamptz),
         ('open', 'wa-1', 'c5', '2024-03-10T10:00:00Z'::timestamptz, null::timestamptz),
         ('closed', 'wa-1', 'c6', '2024-03-10T10:00:00Z'::timestamptz, '2024-03-10T11:00:00Z'::timestamptz)
       ) as t(interaction_id, integration_id, customer_account_id, started_at, ended_at)`,
    );
    const facts = await buildFacts({ dir, inputs: [file], asOf: '2024-03-20T00:00:00Z' });
    expect(await facts.rows(`select source_row, reason from rejected_interactions order by source_row`)).toEqual([
      { source_row: 1, reason: 'invalid_timestamp' },
      { source_row: 2, reason: 'invalid_timestamp' },
      { source_row: 3, reason: 'invalid_timestamp' },
      { source_row: 4, reason: 'invalid_timestamp' },
    ]);
    // the open one lasts until as-of, within March, like the closed one
    expect(await facts.rows(`select customer_account_id, cycle_id from fct_billable_conversations order by all`)).toEqual([
      { customer_account_id: 'c5', cycle_id: '2024-03-01' },
      { customer_account_id: 'c6', cycle_id: '2024-03-01' },
    ]);
  });
});

describe('no single value can stall the build', () => {
  it('hostile instants in text and NDJSON are rejects of their rows, and the work is bounded by the plausible span: cycles start at valid_from at the earliest', async () => {
    const talk = (id: string, started: string, ended = ''): InputRow => ({
      org_id: 'acme', interaction_id: id, integration_id: 'wa-1', customer_account_id: `c-${id}`, started_at: started, ended_at: ended,
    });
    const plain = [talk('a', '2024-03-10T10:00:00Z', '2024-03-10T11:00:00Z'), talk('b', '2024-02-10T10:00:00Z')];
    const hostile = [
      talk('x1', '0001-01-01T00:00:00Z'), talk('x2', '-infinity'), talk('x3', '-9223372036854775808'), talk('x4', '1e300'),
      talk('x5', '2024-03-10T10:00:00Z', 'infinity'), talk('x6', '2024-03-10T10:00:00Z', '9223372036854775807'),
      talk('x7', '2001-01-01T00:00:00Z', '9999-12-31T23:59:59Z'),
    ];
    const alone = await buildFacts({ inputs: [writeCsv(tempDir(), 'plain.csv', plain)], asOf: '2024-03-20T00:00:00Z' });
    const dir = tempDir();
    const mixed = await buildFacts({ dir, inputs: [writeCsv(dir, 'mixed.csv', [...plain, ...hostile]), writeNdjson(dir, 'mixed.ndjson', hostile)], asOf: '2024-03-20T00:00:00Z' });
    expect(await mixed.rows(`select reason, count(*)::integer as n from rejected_interactions group by all order by all`)).toEqual([
      { reason: 'implausible_timestamp', n: 2 },
      { reason: 'invalid_timestamp', n: 10 },
    ]);
    // x7 started in 2001 and is open until as-of in effect: its cycles are real, from 2001 to as-of's
    const rowsOf = (build: typeof alone, model: string) => build.result.timings.find((timing) => timing.name === model)?.rows;
    expect(await mixed.rows(`select count(*)::integer as n from dim_billing_cycles`)).toEqual([{ n: 279 }]);
    // without x7, the generated cycles are those of the plausible rows alone, whatever the rejected rows say
    const withoutLong = await buildFacts({ inputs: [writeCsv(tempDir(), 'short.csv', [...plain, ...hostile.slice(0, 6)])], asOf: '2024-03-20T00:00:00Z' });
    expect(rowsOf(withoutLong, 'int_billing_cycles')).toBe(rowsOf(alone, 'int_billing_cycles'));
    expect(rowsOf(withoutLong, 'int_cycle_segments')).toBe(rowsOf(alone, 'int_cycle_segments'));
    expect(await withoutLong.rows(`select cycle_id, conversations from fct_conversation_counts order by all`))
      .toEqual(await alone.rows(`select cycle_id, conversations from fct_conversation_counts order by all`));
  });
});
