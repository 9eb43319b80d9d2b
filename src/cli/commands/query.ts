import type { Command } from 'commander';
import { formatResult, parseFormat, query } from '../../read/query.js';
import type { CliContext } from '../context.js';
import { configOption, readableDatabase, readerDbOption, tableFormatOption } from '../options.js';

export function registerQuery(cli: Command, { io }: CliContext): void {
  cli
    .command('query')
    .description('Run one SQL statement, read-only, against the published copy of the working database (of the one --db names; a file with no copy is read as it is).')
    .argument('<sql>', 'the SQL to run')
    .addOption(readerDbOption())
    .addOption(tableFormatOption())
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  convbill query "select org_id, cycle_id, sum(conversations) from fct_conversation_counts group by all"')
    .action(async (sql: string, flags: { db?: string; format: string; config?: string }) => {
      const format = parseFormat(flags.format);
      io.out(`${formatResult(await query(readableDatabase(flags), sql), format)}\n`);
    });
}
