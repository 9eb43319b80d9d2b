import type { Command } from 'commander';
import { resolveBuildOptions } from '../../config/build-options.js';
import { formatIngest, ingestOnly } from '../../ingest/ingest-only.js';
import type { CliContext } from '../context.js';
import { commandLine, configOption, logFormatOption, quietOption, runLog, workingDbOption } from '../options.js';

export function registerIngest(cli: Command, { io, verbose, argv }: CliContext): void {
  cli
    .command('ingest')
    .description('Load input files into the warehouse without building (the next build stages them).')
    .option('--input <path...>', 'input file, directory or glob (repeatable); default: "sources" of the config')
    .addOption(workingDbOption())
    .addOption(configOption())
    .addOption(logFormatOption())
    .addOption(quietOption())
    .addHelpText('after', '\nExample:\n  convbill ingest --input incoming/2026-11-25/ && convbill build')
    .action(async (flags) => {
      const options = { ...resolveBuildOptions(flags), commandLine: commandLine(argv) };
      const report = await ingestOnly(options, runLog(io, flags, verbose.on));
      if (!flags.quiet) io.out(`${formatIngest(report)}\n`);
    });
}
