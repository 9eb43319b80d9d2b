#!/usr/bin/env node
/**
 * Generates the bundled demo data of seeds/demo/ (plain Node, no dependencies,
 * deterministic: same output on every run).
 *
 * Rerun from the repository root with
 *
 *     node scripts/generate-demo.mjs
 *
 * then `npm run demo`. It rewrites integrations.csv and everything in logs/;
 * convbill.json is written by hand and left alone.
 *
 * What it makes: six weeks (2026-09-20 .. 2026-10-31) of messaging logs for two
 * orgs — `acme` (calendar-month cycles in UTC) and `globex` (cycles on the 15th,
 * Europe/Paris) — in three shapes:
 *   logs/interactions-2026-09.csv, logs/interactions-2026-10.csv
 *       interaction rows (started_at / ended_at), both orgs, split by start month;
 *   logs/whatsapp-messages.ndjson
 *       message rows (occurred_at), some belonging to interactions of the CSVs,
 *       some forming message-only interactions;
 *   logs/globex-line-export.csv
 *       globex's LINE channel exported by another tool with its own column names
 *       (ticket, channel, from, created, closed, tenant, network) and wall-clock
 *       Paris times without an offset; convbill.json maps the columns.
 * Besides the random traffic, hand-written cases (each commented below with its
 * fixed ids) cover the billing rules and a handful of bad rows.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), '..', 'seeds', 'demo');
const logs = join(here, 'logs');

// ---------------------------------------------------------------- randomness
let seed = 20260920;
function random() {
  // mulberry32
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[Math.floor(random() * items.length)];
const hex = (n) => Array.from({ length: n }, () => '0123456789abcdef'[int(0, 15)]).join('');
const digits = (n) => Array.from({ length: n }, () => int(0, 9)).join('');
const b64 = (n) =>
  Array.from({ length: n }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[int(0, 63)]).join('');
/** Skewed pick: a few items come up often (returning customers), most rarely. */
const skewed = (items) => items[Math.floor(items.length * random() ** 2.2)];

// ---------------------------------------------------------------- time
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 8, 20); // 2026-09-20
const T1 = Date.UTC(2026, 10, 1); // 2026-11-01, the demo's as_of
const DST_END = Date.UTC(2026, 9, 25, 1); // Europe/Paris leaves summer time
const parisOffsetHours = (ms) => (ms < DST_END ? 2 : 1);

const pad = (n, w = 2) => String(n).padStart(w, '0');
const parts = (ms) => {
  const d = new Date(ms);
  return {
    date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`,
    time: `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`,
    millis: pad(d.getUTCMilliseconds(), 3),
  };
};
const isoZ = (ms) => `${parts(ms).date}T${parts(ms).time}Z`;
const isoMillisZ = (ms) => `${parts(ms).date}T${parts(ms).time}.${parts(ms).millis}Z`;
const naiveUtc = (ms) => `${parts(ms).date} ${parts(ms).time}`;
const isoParis = (ms) => {
  const h = parisOffsetHours(ms);
  const p = parts(ms + h * HOUR);
  return `${p.date}T${p.time}+0${h}:00`;
};
const naiveParis = (ms) => {
  const p = parts(ms + parisOffsetHours(ms) * HOUR);
  return `${p.date} ${p.time}`;
};
const utc = (text) => Date.parse(text);

/** A start instant on a random day, in business hours of the org's timezone. */
function businessStart(tzOffsetHours, fromHour, toHour) {
  const day = T0 + int(0, 41) * DAY;
  const local = day + int(fromHour, toHour - 1) * HOUR + int(0, 59) * MIN + int(0, 59) * 1000;
  return local - tzOffsetHours(local) * HOUR;
}
/** Mostly minutes, sometimes hours, rarely days; null: still open. */
function duration() {
  const r = random();
  if (r < 0.68) return int(3, 50) * MIN + int(0, 59) * 1000;
  if (r < 0.88) return int(1, 7) * HOUR + int(0, 59) * MIN;
  if (r < 0.96) return int(1, 3) * DAY + int(0, 23) * HOUR;
  return null;
}

// ---------------------------------------------------------------- reference
const integrations = [
  { integration_id: 'wa-acme-sales', platform: 'whatsapp', org_id: 'acme', name: 'WhatsApp +44 20 7946 0100 (sales)' },
  { integration_id: 'wa-acme-support', platform: 'whatsapp', org_id: 'acme', name: 'WhatsApp +44 20 7946 0200 (support)' },
  { integration_id: 'fb-acme', platform: 'facebook', org_id: 'acme', name: 'Facebook page Acme Shop' },
  { integration_id: 'ig-acme', platform: 'instagram', org_id: 'acme', name: 'Instagram @acme.shop' },
  { integration_id: 'sms-acme', platform: 'sms', org_id: 'acme', name: 'SMS short code 60123' },
  { integration_id: 'wa-globex', platform: 'whatsapp', org_id: 'globex', name: 'WhatsApp +33 1 84 88 00 00' },
  { integration_id: 'fb-globex', platform: 'facebook', org_id: 'globex', name: 'Facebook page Globex France' },
  { integration_id: 'line-globex', platform: 'line', org_id: 'globex', name: 'LINE official account @globex' },
];

const acmePhones = Array.from({ length: 34 }, () => `+4477009${digits(5)}`);
const acmePsids = Array.from({ length: 16 }, () => `2${digits(15)}`);
const acmeIgsids = Array.from({ length: 12 }, () => `17841${digits(12)}`);
const globexPhones = Array.from({ length: 22 }, () => `+336${digits(8)}`);
const globexPsids = Array.from({ length: 8 }, () => `3${digits(15)}`);
const globexLineIds = Array.from({ length: 16 }, () => `U${hex(32)}`);

// ---------------------------------------------------------------- random traffic
const interactions = []; // CSV interaction rows (objects with ms fields)
let acmeSeq = 104200;
const acmeId = () => `ACM-${acmeSeq++}`;
const utcBusiness = () => 0;

function addRandom(count, make) {
  for (let i = 0; i < count; i++) interactions.push(make());
}
const acmeRow = (integration, pool, platform) => () => {
  const start = businessStart(utcBusiness, 7, 21);
  const d = duration();
  return { org_id: 'acme', integration_id: integration, platform, interaction_id: acmeId(), customer_account_id: skewed(pool), start, end: d === null ? null : start + d };
};
const globexRow = (integration, pool, platform) => () => {
  const start = businessStart(parisOffsetHours, 8, 21);
  const d = duration();
  return { org_id: 'globex', integration_id: integration, platform, interaction_id: `gx-${hex(10)}`, customer_account_id: skewed(pool), start, end: d === null ? null : start + d };
};
addRandom(56, acmeRow('wa-acme-support', acmePhones, 'whatsapp'));
addRandom(30, acmeRow('wa-acme-sales', acmePhones, 'whatsapp'));
addRandom(24, acmeRow('fb-acme', acmePsids, 'facebook'));
addRandom(16, acmeRow('ig-acme', acmeIgsids, 'instagram'));
addRandom(14, acmeRow('sms-acme', acmePhones, 'sms'));
addRandom(40, globexRow('wa-globex', globexPhones, 'whatsapp'));
addRandom(14, globexRow('fb-globex', globexPsids, 'facebook'));
// An export taken at as_of knows no end after as_of: such interactions are open.
for (const row of interactions) if (row.end !== null && row.end >= T1) row.end = null;

// ---------------------------------------------------------------- hand-written cases
// acme, boundary 2026-10-01T00:00Z
const special = [
  // S4: one interaction across acme's Sep/Oct boundary -> one conversation in each cycle.
  { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'whatsapp', interaction_id: 'ACM-XB-0930', customer_account_id: '+447700900123', start: utc('2026-09-30T22:41:07Z'), end: utc('2026-10-01T00:36:52Z') },
  // Open since Sep 28: counts in every acme cycle up to the one holding as_of.
  { org_id: 'acme', integration_id: 'fb-acme', platform: 'facebook', interaction_id: 'ACM-OPEN-0928', customer_account_id: '2900000000000042', start: utc('2026-09-28T09:12:00Z'), end: null },
  // S5/S6: one phone number on both WhatsApp numbers and on SMS in October -> 3 conversations.
  { org_id: 'acme', integration_id: 'wa-acme-sales', platform: 'whatsapp', interaction_id: 'ACM-2INT-1', customer_account_id: '+447700900456', start: utc('2026-10-06T10:02:11Z'), end: utc('2026-10-06T10:31:40Z') },
  { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'whatsapp', interaction_id: 'ACM-2INT-2', customer_account_id: '+447700900456', start: utc('2026-10-08T15:20:00Z'), end: utc('2026-10-08T16:05:09Z') },
  { org_id: 'acme', integration_id: 'sms-acme', platform: 'sms', interaction_id: 'ACM-2INT-3', customer_account_id: '+447700900456', start: utc('2026-10-12T08:45:30Z'), end: utc('2026-10-12T08:52:02Z') },
  // S3: the same customer back four times on one integration in October -> 1 conversation.
  // One row pads the account with spaces and spells the platform "WhatsApp": trimmed, lower-cased.
  { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'whatsapp', interaction_id: 'ACM-RET-1', customer_account_id: '+447700900789', start: utc('2026-10-02T09:15:00Z'), end: utc('2026-10-02T09:40:00Z') },
  { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'WhatsApp', interaction_id: 'ACM-RET-2', customer_account_id: ' +447700900789 ', start: utc('2026-10-09T13:03:00Z'), end: utc('2026-10-09T13:20:00Z'), naive: true },
  { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'whatsapp', interaction_id: 'ACM-RET-3', customer_account_id: '+447700900789', start: utc('2026-10-17T18:44:00Z'), end: utc('2026-10-19T10:02:00Z') },
  { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'whatsapp', interaction_id: 'ACM-RET-4', customer_account_id: '+447700900789', start: utc('2026-10-29T11:11:11Z'), end: utc('2026-10-29T11:30:00Z'), naive: true },
  // Platform conflict (not a reject): the row says facebook, the reference says instagram.
  { org_id: 'acme', integration_id: 'ig-acme', platform: 'facebook', interaction_id: 'ACM-PLAT-1', customer_account_id: acmeIgsids[0], start: utc('2026-10-21T16:00:00Z'), end: utc('2026-10-21T16:12:00Z') },
  // Ends exactly at as_of: still active in the cycle that starts at as_of.
  { org_id: 'acme', integration_id: 'sms-acme', platform: 'sms', interaction_id: 'ACM-EOM', customer_account_id: '+447700900999', start: utc('2026-10-31T23:40:00Z'), end: utc('2026-11-01T00:00:00Z') },

  // globex, boundary 2026-10-15 00:00 Paris = 2026-10-14T22:00Z
  // S4 for globex on WhatsApp (offsets written): 23:50 -> 00:10 Paris time.
  { org_id: 'globex', integration_id: 'wa-globex', platform: 'whatsapp', interaction_id: 'gx-xb-1014', customer_account_id: '+33611223344', start: utc('2026-10-14T21:50:00Z'), end: utc('2026-10-14T22:10:00Z') },
  // Oct 14 in UTC but already Oct 15 in Paris: only the cycle that starts on the 15th.
  { org_id: 'globex', integration_id: 'wa-globex', platform: 'whatsapp', interaction_id: 'gx-late-1014', customer_account_id: '+33655667788', start: utc('2026-10-14T23:30:00Z'), end: utc('2026-10-14T23:48:00Z'), zulu: true },
  // S8: Oct 10 and Oct 20 of the same calendar month are two globex cycles -> 2 conversations.
  { org_id: 'globex', integration_id: 'wa-globex', platform: 'whatsapp', interaction_id: 'gx-s8-a', customer_account_id: '+33699887766', start: utc('2026-10-10T08:30:00Z'), end: utc('2026-10-10T08:55:00Z') },
  { org_id: 'globex', integration_id: 'wa-globex', platform: 'whatsapp', interaction_id: 'gx-s8-b', customer_account_id: '+33699887766', start: utc('2026-10-20T14:05:00Z'), end: utc('2026-10-20T14:30:00Z') },
];
interactions.push(...special);

// ---------------------------------------------------------------- message rows
const messages = [];
const message = (row, at, extra = {}) => ({
  interaction_id: row.interaction_id,
  integration_id: row.integration_id,
  customer_account_id: row.customer_account_id.trim(),
  occurred_at: isoMillisZ(at),
  org_id: row.org_id,
  message_id: `wamid.${b64(28)}`,
  ...extra,
  _at: at,
});
// Messages of WhatsApp interactions that are also in the CSVs (same ids).
const whatsapp = interactions.filter((row) => row.platform === 'whatsapp' && !row.interaction_id.startsWith('ACM-RET'));
for (const row of whatsapp.filter(() => random() < 0.3)) {
  const until = Math.min(row.end ?? row.start + 2 * HOUR, T1 - 1000);
  const n = int(2, 4);
  for (let i = 0; i < n; i++) messages.push(message(row, row.start + Math.floor(((until - row.start) * i) / (n - 1 || 1))));
}
const crossing = special[0];
messages.push(message(crossing, utc('2026-09-30T23:58:41Z')), message(crossing, utc('2026-10-01T00:30:12Z')));
// Message-only interactions: the support line's webhook log, no interaction rows.
for (let i = 0; i < 16; i++) {
  const row = { org_id: 'acme', integration_id: 'wa-acme-support', interaction_id: `ACM-WH-${7000 + i}`, customer_account_id: skewed(acmePhones) };
  const start = businessStart(utcBusiness, 7, 21);
  const n = int(2, 5);
  for (let j = 0; j < n; j++) {
    const at = start + j * int(1, 12) * MIN + int(0, 59) * 1000;
    // One webhook interaction writes its points of activity as epoch milliseconds.
    messages.push(message(row, at, i === 3 ? { occurred_at: at } : {}));
  }
}

// ---------------------------------------------------------------- LINE export (globex, other tool)
const lineRows = [];
let ticket = 58210;
for (let i = 0; i < 52; i++) {
  const start = businessStart(parisOffsetHours, 8, 21);
  const d = duration();
  const end = d === null || start + d >= T1 ? null : start + d;
  lineRows.push({ ticket: `T-${ticket++}`, from: skewed(globexLineIds), start, end });
}
// S4 for globex on LINE, wall-clock Paris time: 2026-10-14 23:20 -> 2026-10-15 00:45.
lineRows.push({ ticket: 'T-XB-1014', from: 'U4f1e0c2d9b8a7f6e5d4c3b2a19081716', start: utc('2026-10-14T21:20:00Z'), end: utc('2026-10-14T22:45:00Z') });
// An open LINE chat that started in the earlier globex cycle.
lineRows.push({ ticket: 'T-OPEN-1003', from: 'U0a1b2c3d4e5f60718293a4b5c6d7e8f9', start: utc('2026-10-03T07:05:00Z'), end: null });

// ---------------------------------------------------------------- bad rows (rejected, never lost)
const bad = {
  csv: [
    // missing_integration_id
    { org_id: 'acme', integration_id: '', platform: 'whatsapp', interaction_id: 'ACM-BAD-NOINT', customer_account_id: '+447700900555', started_at: '2026-10-05T10:00:00Z', ended_at: '2026-10-05T10:20:00Z' },
    // invalid_timestamp (there is no October 32nd)
    { org_id: 'acme', integration_id: 'fb-acme', platform: 'facebook', interaction_id: 'ACM-BAD-TS', customer_account_id: acmePsids[3], started_at: '2026-10-32T09:00:00Z', ended_at: '' },
    // ended_before_started
    { org_id: 'globex', integration_id: 'fb-globex', platform: 'facebook', interaction_id: 'gx-bad-order', customer_account_id: globexPsids[2], started_at: '2026-10-22T15:30:00+02:00', ended_at: '2026-10-22T14:30:00+02:00' },
    // conflicting_customer_account (with a message row of the same id in the NDJSON)
    { org_id: 'acme', integration_id: 'wa-acme-sales', platform: 'whatsapp', interaction_id: 'ACM-BAD-CONFLICT', customer_account_id: '+447700900321', started_at: '2026-10-17T12:00:00Z', ended_at: '2026-10-17T12:25:00Z' },
    // after_as_of: the export ran a few minutes after midnight
    { org_id: 'acme', integration_id: 'wa-acme-support', platform: 'whatsapp', interaction_id: 'ACM-BAD-LATE', customer_account_id: acmePhones[5], started_at: '2026-11-01T00:04:10Z', ended_at: '' },
  ],
  ndjson: [
    // conflicting_customer_account (other half)
    { interaction_id: 'ACM-BAD-CONFLICT', integration_id: 'wa-acme-sales', customer_account_id: '+447700900322', occurred_at: '2026-10-17T12:03:00.000Z', org_id: 'acme', message_id: 'wamid.conflict-1' },
    // missing_customer_account_id (blank after trimming)
    { interaction_id: 'ACM-WH-BLANK', integration_id: 'wa-acme-support', customer_account_id: '   ', occurred_at: '2026-10-11T09:00:00.000Z', org_id: 'acme', message_id: 'wamid.blank-1' },
    // missing_timestamp
    { interaction_id: 'ACM-WH-NOTIME', integration_id: 'wa-acme-support', customer_account_id: acmePhones[7], occurred_at: null, org_id: 'acme', message_id: 'wamid.notime-1' },
  ],
  line: [
    // invalid_timestamp: day-first date the reader does not understand
    { ticket: 'T-BAD-TS', channel: 'line-globex', from: globexLineIds[4], created: '15/10/2026 09:12', closed: '15/10/2026 09:30', tenant: 'globex', network: 'LINE', agent: 'Camille R.', tags: 'billing' },
  ],
};

// ---------------------------------------------------------------- write
const csvCell = (value) => {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};
const csv = (columns, rows) => `${[columns, ...rows.map((row) => columns.map((c) => csvCell(row[c])))].map((r) => r.join(',')).join('\n')}\n`;

const interactionColumns = ['interaction_id', 'integration_id', 'customer_account_id', 'started_at', 'ended_at', 'org_id', 'platform'];
const formatTs = (row, ms) => {
  if (ms === null) return '';
  if (row.org_id === 'globex' && !row.zulu) return isoParis(ms);
  return row.naive ? naiveUtc(ms) : isoZ(ms);
};
const asCsvRow = (row) => ({ ...row, started_at: formatTs(row, row.start), ended_at: formatTs(row, row.end), _at: row.start });
const csvRows = [...interactions.map(asCsvRow), ...bad.csv.map((row) => ({ ...row, _at: Date.parse(row.started_at.replace(/-32T/, '-31T')) }))];
csvRows.sort((a, b) => a._at - b._at || a.interaction_id.localeCompare(b.interaction_id));
const september = csvRows.filter((row) => row._at < Date.UTC(2026, 9, 1));
const october = csvRows.filter((row) => row._at >= Date.UTC(2026, 9, 1));

messages.sort((a, b) => a._at - b._at || a.message_id.localeCompare(b.message_id));
const badMessages = bad.ndjson.map((row) => ({ ...row, _at: Date.parse(row.occurred_at ?? '2026-10-11T12:00:00Z') }));
const allMessages = [...messages, ...badMessages].sort((a, b) => a._at - b._at);
const ndjson = allMessages
  .map(({ _at, ...row }) => {
    // Real webhook logs rarely repeat the platform; one in three does.
    const out = { ...row };
    if (random() < 0.33) out.platform = 'whatsapp';
    return JSON.stringify(out);
  })
  .join('\n');

const lineColumns = ['ticket', 'channel', 'from', 'created', 'closed', 'tenant', 'network', 'agent', 'tags'];
const agents = ['Camille R.', 'Hugo B.', 'Léa M.', 'Yuki T.', 'Sofiane K.'];
const tagSets = ['', 'order', 'delivery', 'billing', 'returns', 'delivery;urgent', 'order, invoice'];
const line = [
  ...lineRows.map((row) => ({
    ticket: row.ticket,
    channel: 'line-globex',
    from: row.from,
    created: naiveParis(row.start),
    closed: row.end === null ? '' : naiveParis(row.end),
    tenant: 'globex',
    network: 'LINE',
    agent: pick(agents),
    tags: pick(tagSets),
    _at: row.start,
  })),
  ...bad.line.map((row) => ({ ...row, _at: utc('2026-10-15T07:12:00Z') })),
].sort((a, b) => a._at - b._at);

rmSync(logs, { recursive: true, force: true });
mkdirSync(logs, { recursive: true });
writeFileSync(join(here, 'integrations.csv'), csv(['integration_id', 'platform', 'org_id', 'name'], integrations));
writeFileSync(join(logs, 'interactions-2026-09.csv'), csv(interactionColumns, september));
writeFileSync(join(logs, 'interactions-2026-10.csv'), csv(interactionColumns, october));
writeFileSync(join(logs, 'whatsapp-messages.ndjson'), `${ndjson}\n`);
writeFileSync(join(logs, 'globex-line-export.csv'), csv(lineColumns, line));

const total = september.length + october.length + allMessages.length + line.length;
console.log(
  `seeds/demo: ${september.length} + ${october.length} interaction rows, ${allMessages.length} message rows, ` +
    `${line.length} LINE export rows (${total} rows, ${bad.csv.length + bad.ndjson.length + bad.line.length} meant to be rejected).`,
);
