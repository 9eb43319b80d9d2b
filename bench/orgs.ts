/**
 * The benchmark's 20 orgs and their cycle rules: anchor days from 1 to 28 and
 * a few non-UTC timezones. convbill gets them as config; the hand-written
 * floors and PostgreSQL get the same cycles as a table (bench/cycles.sql).
 */
const ZONES = ['UTC', 'Europe/Paris', 'UTC', 'America/New_York', 'UTC', 'Asia/Kolkata', 'UTC', 'Australia/Sydney'];

export interface OrgRule {
  org: string;
  anchorDay: number;
  timezone: string;
}

export const ORG_RULES: OrgRule[] = Array.from({ length: 20 }, (_, n) => ({
  org: `org-${String(n).padStart(2, '0')}`,
  anchorDay: n === 0 ? 1 : 1 + ((n * 11) % 28),
  timezone: ZONES[n % ZONES.length] as string,
}));

export function orgRulesConfig(): Record<string, { anchor_day: number; timezone: string }> {
  return Object.fromEntries(ORG_RULES.map((rule) => [rule.org, { anchor_day: rule.anchorDay, timezone: rule.timezone }]));
}

export function orgRulesValues(): string {
  return ORG_RULES.map((rule) => `('${rule.org}', ${rule.anchorDay}, '${rule.timezone}')`).join(',\n        ');
}
