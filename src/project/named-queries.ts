/**
 * The named queries of `sql/queries/`: statements the TypeScript runs that
 * are too long to read inside it, each in its own file with a header, its
 * inputs given as DuckDB `$name` parameters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '../engine/errors.js';
import { sqlDirectory } from './load-models.js';

const loaded = new Map<string, string>();

/** The statement of `sql/queries/<name>.sql`, its header kept (a comment) and its closing semicolon dropped. */
export function namedQuery(name: string): string {
  let text = loaded.get(name);
  if (text === undefined) {
    const file = join(sqlDirectory(), 'queries', `${name}.sql`);
    try {
      text = readFileSync(file, 'utf8').trim().replace(/;$/, '');
    } catch (error) {
      throw new RunError(`Cannot read the named query ${file}.`, { cause: error });
    }
    loaded.set(name, text);
  }
  return text;
}
