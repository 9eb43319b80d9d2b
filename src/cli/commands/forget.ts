import type { Command } from 'commander';
import { resolveBuildOptions } from '../../config/build-options.js';
import { forgetInputs, formatForget } from '../../ingest/forget.js';
import type { CliContext } from '../context.js';
import { commandLine, configOption, workingDbOption } from '../options.js';

export function registerForget(cli: Command, { io, argv }: CliContext): void {
  cli
    .command('forget')
    .description('Stop counting files given with --input: the next build drops them, unless a configured source covers them.')
    .argument('<path>', 'a file, folder or glob, as given to --input')
    .addOption(workingDbOption())
    .addOption(configOption())
    .addHelpText('after', "\nExample:\n  convbill forget 'incoming/2026-11-*/*.csv' && convbill build")
    .action(async (path: string, flags: { db?: string; config?: string }) => {
      const options = { ...resolveBuildOptions({ db: flags.db, config: flags.config }), commandLine: commandLine(argv) };
      io.out(`${formatForget(await forgetInputs(options, path))}\n`);
    });
}
