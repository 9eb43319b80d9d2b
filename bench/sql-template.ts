/** Reads a bench/*.sql file and fills its {{placeholders}}. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** bench/ in the source tree, from bench/ (type check) or dist/bench/ (run). */
export function benchDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  return here.endsWith(join('dist', 'bench')) ? join(here, '..', '..', 'bench') : here;
}

export function benchSql(name: string, values: Record<string, string | number>): string {
  let sql = readFileSync(join(benchDirectory(), name), 'utf8');
  for (const [key, value] of Object.entries(values)) sql = sql.replaceAll(`{{${key}}}`, String(value));
  const missing = /\{\{(\w+)\}\}/.exec(sql);
  if (missing) throw new Error(`${name}: no value for {{${missing[1]}}}`);
  return sql;
}
