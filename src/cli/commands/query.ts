import { type Command, Option } from 'commander';
import { formatResult, parseFormat, query } from '../../read/query.js';
import type { CliContext } from '../context.js';
import { configOption, readableDatabase, readerDbOption, tableFormatOption } from '../options.js';

const repeat = (value: string, previous: string[]) => [...previous, value];

export function registerQuery(cli: Command, { io }: CliContext): void {
  cli
    .command('query')
    .description(
      'Run one SQL statement, read-only, against the published copy of the working database (of the one --db names; a file with no copy is read as it is). ' +
        'The SQL reads that database only: no other file (unless under --allow-dir), no ATTACH, no extension, no setting changed.',
    )
    .argument('<sql>', 'the SQL to run')
    .addOption(readerDbOption())
    .addOption(tableFormatOption())
    .addOption(
      new Option('--allow-dir <dir>', 'a folder the SQL may read files from and COPY ... TO (repeatable)').argParser(repeat).default([], 'none'),
    )
    .addOption(configOption())
    .addHelpText(
      'after',
      `
Examples:
  convbill query "select org_id, cycle_id, sum(conversations) from fct_conversation_counts group by all"
  convbill query --allow-dir out "copy (from fct_conversation_counts) to 'out/counts.csv'"`,
    )
    .action(async (sql: string, flags: { db?: string; format: string; config?: string; allowDir: string[] }) => {
      const format = parseFormat(flags.format);
      io.out(`${formatResult(await query(await readableDatabase(flags, io), sql, { allowedDirectories: flags.allowDir }), format)}\n`);
    });
}
