import type { Command } from 'commander';
import { formatInit, init, initHelp } from '../../config/init.js';
import type { CliContext } from '../context.js';

export function registerInit(cli: Command, { io }: CliContext): void {
  cli
    .command('init')
    .description('Write a starter convbill.json (every key at a sensible default) and a sample layout that builds out of the box.')
    .option('--dir <dir>', 'the folder to set up', '.')
    .option('--force', 'overwrite an existing convbill.json (sample files are never overwritten)')
    .addHelpText('after', `\n${initHelp()}`)
    .action((flags: { dir: string; force?: boolean }) => {
      io.out(`${formatInit(init({ dir: flags.dir, force: flags.force }))}\n`);
    });
}
