import type { Command } from 'commander';
import { writeReport } from '../../read/report.js';
import type { CliContext } from '../context.js';
import { configOption, readableDatabase, readerDbOption } from '../options.js';

export function registerReport(cli: Command, { io }: CliContext): void {
  cli
    .command('report')
    .description(
      'Write a self-contained HTML report (inline CSS and SVG, no network), a section per org: the invoice of its latest complete cycle, ' +
        'every cycle with its local dates (the one holding the as-of marked in progress), trends in counts and amounts, reconciliation, rejects, ' +
        'top accounts (masked); then data quality and the run history.',
    )
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--org <org>', 'render this org only (an org with no billing cycle fails, exit 1, naming the closest ones)')
    .option('--show-accounts', 'show account ids as they are (default: masked to their last 4 characters and a tag)')
    .addOption(readerDbOption())
    .addOption(configOption())
    .addHelpText(
      'after',
      '\nExamples:\n  convbill report --out report.html\n  convbill report --org acme --out reports/acme-$(date +%F).html\n  convbill report --config convbill.json --show-accounts --out internal.html',
    )
    .action(async (flags: { out: string; org?: string; showAccounts?: boolean; db?: string; config?: string }) => {
      const db = await readableDatabase(flags, io);
      io.out(`Wrote ${await writeReport({ db, out: flags.out, org: flags.org, showAccounts: flags.showAccounts === true })}.\n`);
    });
}
