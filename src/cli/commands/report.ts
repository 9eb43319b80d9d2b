import type { Command } from 'commander';
import { writeReport } from '../../read/report.js';
import type { CliContext } from '../context.js';
import { configOption, readableDatabase, readerDbOption } from '../options.js';

export function registerReport(cli: Command, { io }: CliContext): void {
  cli
    .command('report')
    .description('Write a self-contained HTML report (inline CSS and SVG, no network): conversations per cycle and platform, per integration, top accounts, rejects, the last reconcile, the run history.')
    .requiredOption('--out <file>', 'the HTML file to write')
    .addOption(readerDbOption())
    .addOption(configOption())
    .addHelpText('after', '\nExamples:\n  convbill report --out report.html\n  convbill report --config convbill.json --out reports/$(date +%F).html')
    .action(async (flags: { out: string; db?: string; config?: string }) => {
      io.out(`Wrote ${await writeReport({ db: await readableDatabase(flags, io), out: flags.out })}.\n`);
    });
}
