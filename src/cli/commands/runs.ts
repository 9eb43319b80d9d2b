import type { Command } from 'commander';
import { listRuns } from '../../read/runs.js';
import { resolveBuildOptions } from '../../config/build-options.js';
import { ConfigError } from '../../engine/errors.js';
import { formatResult, parseFormat } from '../../read/query.js';
import type { CliContext } from '../context.js';
import { configOption, tableFormatOption, workingDbOption } from '../options.js';

export function registerRuns(cli: Command, { io }: CliContext): void {
  cli
    .command('runs')
    .description('List recent runs: status, as-of, rows, partitions rebuilt, duration.')
    .addOption(workingDbOption())
    .addOption(configOption())
    .option('--limit <n>', 'how many runs, newest first', '20')
    .addOption(tableFormatOption())
    .addHelpText('after', '\nExample:\n  convbill runs --limit 5 --format json')
    .action(async (flags: { db?: string; config?: string; limit: string; format: string }) => {
      const format = parseFormat(flags.format);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`Option --limit must be a whole number, 1 or more, not "${flags.limit}".`);
      io.out(`${formatResult(await listRuns(resolveBuildOptions({ db: flags.db, config: flags.config }), limit), format)}\n`);
    });
}
