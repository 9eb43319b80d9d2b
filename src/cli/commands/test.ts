import type { Command } from 'commander';
import { resolveBuildOptions } from '../../config/build-options.js';
import { assertTestsPassed, formatTestResults, testClickHouseWarehouse, testWarehouse } from '../../project/data-tests.js';
import type { CliContext } from '../context.js';
import { configOption, workingDbOption } from '../options.js';

export function registerTest(cli: Command, { io }: CliContext): void {
  cli
    .command('test')
    .description('Run the data tests (sql/audits/*.sql; on ClickHouse sql/clickhouse/audits/ over what readers see) against the working database; exit 1 when one fails.')
    .addOption(workingDbOption())
    .addOption(configOption())
    .addHelpText('after', '\nExample:\n  convbill test --config convbill.json')
    .action(async (flags: { db?: string; config?: string }) => {
      const options = resolveBuildOptions({ db: flags.db, config: flags.config });
      const results = options.engine === 'clickhouse' && options.clickhouse
        ? await testClickHouseWarehouse(options.clickhouse)
        : await testWarehouse(options.db);
      io.out(formatTestResults(results));
      assertTestsPassed(results);
      io.out(`All ${results.length} data tests passed.\n`);
    });
}
