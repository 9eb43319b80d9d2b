import { type Command, Option } from 'commander';
import { resolveBuildOptions } from '../../config/build-options.js';
import { explain, formatExplain } from '../../read/explain.js';
import type { CliContext } from '../context.js';
import { configOption, workingDbOption } from '../options.js';

export function registerExplain(cli: Command, { io }: CliContext): void {
  cli
    .command('explain')
    .description('List every conversation billed for one account, the interactions and input rows behind each, and the rule that made it separate.')
    .requiredOption('--org <org>', 'org id ("default" when the input has none)')
    .requiredOption('--account <account>', 'end-customer account id')
    .option('--integration <id>', 'only this integration')
    .option('--cycle <cycle_id>', 'only this cycle (its cycle_id, e.g. 2026-10-01)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(workingDbOption())
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  convbill explain --org acme --account +33612345678 --cycle 2026-10-01')
    .action(async (flags: { org: string; account: string; integration?: string; cycle?: string; format: 'table' | 'json'; db?: string; config?: string }) => {
      const options = resolveBuildOptions({ db: flags.db, config: flags.config });
      const conversations = await explain({
        db: options.db,
        org: flags.org,
        account: flags.account,
        integration: flags.integration,
        cycle: flags.cycle,
        clickhouse: options.engine === 'clickhouse' ? options.clickhouse : undefined,
      });
      io.out(`${formatExplain(conversations, flags.format)}\n`);
    });
}
