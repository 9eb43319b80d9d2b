/**
 * The header comment every file in sql/ starts with, in the manner of
 * SQLMesh's MODEL block: `-- key: value` lines (materialized, unique_key,
 * grain, purpose, reads, …), wrapped lines indented under their key, and a
 * `-- columns:` block of `--   name: description` lines. The loaders read
 * the keys that steer them; the data dictionary reads grain, purpose and
 * columns.
 */
export interface ColumnDoc {
  name: string;
  description: string;
}

export interface SqlHeader {
  /** each key's text as Markdown (see prose) */
  fields: Record<string, string>;
  columns: ColumnDoc[];
}

/** A comma-separated key, lower-cased: `-- unique_key: org_id, cycle_start`. */
export function headerList(sql: string, key: string): string[] {
  const line = new RegExp(`^--\\s*${key}:\\s*(.+)$`, 'm').exec(sql)?.[1];
  return line ? line.split(',').map((item) => item.trim().toLowerCase()).filter(Boolean) : [];
}

/** The leading comment block, as key: lines, with `-- columns:` as name: description lines. */
export function parseHeader(text: string): SqlHeader {
  const fields: Record<string, string[]> = {};
  const columns: ColumnDoc[] = [];
  let key: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith('--')) break;
    const body = line.slice(2);
    const field = /^ ?([a-z_]+):\s*(.*)$/.exec(body);
    const column = /^ {2,}([a-z_][a-z0-9_]*):\s+(.+)$/.exec(body);
    if (key === 'columns' && column) {
      columns.push({ name: column[1] as string, description: (column[2] as string).trim() });
    } else if (field) {
      key = field[1] as string;
      fields[key] = field[2] ? [field[2]] : [];
    } else if (key === 'columns' && columns.length > 0 && body.trim() !== '') {
      const last = columns[columns.length - 1] as ColumnDoc;
      last.description += ` ${body.trim()}`;
    } else if (key && key !== 'columns') {
      (fields[key] as string[]).push(body);
    }
  }
  return { fields: Object.fromEntries(Object.entries(fields).map(([name, lines]) => [name, prose(lines)])), columns };
}

/** Header text as Markdown: wrapped lines joined, `* ` items (and their indented continuations) kept as list items. */
function prose(lines: string[]): string {
  const parts: string[] = [];
  let itemIndent: number | undefined;
  for (const line of lines) {
    const indent = line.length - line.trimStart().length;
    const content = line.trim();
    if (content === '') continue;
    if (content.startsWith('* ')) {
      parts.push(`\n- ${content.slice(2)}`);
      itemIndent = indent;
    } else if (itemIndent !== undefined && indent <= itemIndent) {
      parts.push(`\n\n${content}`);
      itemIndent = undefined;
    } else {
      parts.push(parts.length === 0 ? content : ` ${content}`);
    }
  }
  return parts.join('').replace(/^([^\n]*)\n- /, '$1\n\n- ');
}
