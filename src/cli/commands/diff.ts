import type { Command } from 'commander';
import { diffRuns, diffTable } from '../../read/diff.js';
import { resolveBuildOptions } from '../../config/build-options.js';
import { formatResult, parseFormat } from '../../read/query.js';
import type { CliContext } from '../context.js';
import { configOption, runIdOption, tableFormatOption, workingDbOption } from '../options.js';

export function registerDiff(cli: Command, { io }: CliContext): void {
  cli
    .command('diff')
    .description('List the (org, cycle, integration) whose count changed between two builds, by how much, and the input files behind it.')
    .option('--from <run>', 'the earlier build (default: the build before --to)')
    .option('--to <run>', 'the later build (default: the last successful build)')
    .addOption(tableFormatOption())
    .addOption(workingDbOption())
    .addOption(configOption())
    .addHelpText('after', '\nExamples:\n  convbill diff                      # the last two builds\n  convbill diff --from 12 --to 15 --format csv')
    .action(async (flags: { from?: string; to?: string; format: string; db?: string; config?: string }) => {
      const format = parseFormat(flags.format);
      const options = resolveBuildOptions({ db: flags.db, config: flags.config });
      const diff = await diffRuns({ db: options.db, from: runIdOption(flags.from, '--from'), to: runIdOption(flags.to, '--to') });
      if (format === 'table') io.out(`Counts changed from run ${diff.from} to run ${diff.to}:\n`);
      io.out(`${formatResult(diffTable(diff), format)}\n`);
    });
}
