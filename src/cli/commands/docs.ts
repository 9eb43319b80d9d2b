import type { Command } from 'commander';
import { assertDictionaryMatches, dataDictionary, writeDataDictionary } from '../../read/docs.js';
import type { CliContext } from '../context.js';
import { configOption, readableDatabase } from '../options.js';

export function registerDocs(cli: Command, { io }: CliContext): void {
  cli
    .command('docs')
    .description('Write the data dictionary (Markdown): every published table and column, its grain and lineage.')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--check', 'compare the descriptions with the published copy; exit 1 when they disagree')
    .option('--db <file>', 'with --check: the database to compare (default: the published copy)')
    .addOption(configOption())
    .addHelpText('after', '\nExamples:\n  convbill docs --out docs/data-dictionary.md\n  convbill docs --check')
    .action(async (flags: { out?: string; check?: boolean; db?: string; config?: string }) => {
      if (flags.check) {
        await assertDictionaryMatches(await readableDatabase(flags, io));
        io.out('Every published column is described.\n');
        return;
      }
      if (!flags.out) {
        io.out(dataDictionary());
        return;
      }
      writeDataDictionary(flags.out);
      io.out(`Wrote ${flags.out}.\n`);
    });
}
