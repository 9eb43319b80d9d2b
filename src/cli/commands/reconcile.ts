import { type Command, Option } from 'commander';
import { resolveBuildOptions } from '../../config/build-options.js';
import { RECONCILE_FORMATS, assertReconciled, formatReconciliation, parseTolerance, reconcile } from '../../read/reconcile.js';
import type { CliContext } from '../context.js';
import { configOption, workingDbOption } from '../options.js';

export function registerReconcile(cli: Command, { io }: CliContext): void {
  cli
    .command('reconcile')
    .description('Compare invoice lines with the facts; say which usual cause explains each difference. Exit 3 when differences remain.')
    .requiredOption('--invoices <file>', 'invoice lines, CSV or JSON: invoice_id, org_id, cycle_id or period_start/period_end, [platform | integration_id], quantity[, amount, currency, invoice_date]')
    .option('--tolerance <t>', 'differences allowed: conversations ("5"), a share of the computed count ("2%"), or both, whichever allows more ("5,2%")', '0')
    .addOption(new Option('--format <format>', 'report format').choices([...RECONCILE_FORMATS]).default('table'))
    .addOption(workingDbOption())
    .addOption(configOption())
    .addHelpText(
      'after',
      `
Statuses: match, over_invoiced, under_invoiced, not_invoiced (usage no line covers), no_usage (invoiced, nothing computed).
Causes tried for a difference: late_data, utc_cycle_boundaries, inclusive_cycle_end,
rejected_conflicting_customer_account, rejected_after_as_of, rejected_ended_before_started,
rejected_invalid_timestamp, interactions_counted, duplicate_rows_counted.

Examples:
  convbill reconcile --invoices invoices/2026-10.csv
  convbill reconcile --invoices vendor.json --tolerance 2,0.5% --format markdown > reconciliation.md`,
    )
    .action(async (flags: { invoices: string; tolerance: string; format: (typeof RECONCILE_FORMATS)[number]; db?: string; config?: string }) => {
      const options = resolveBuildOptions({ db: flags.db, config: flags.config });
      const result = await reconcile({ db: options.db, invoices: flags.invoices, tolerance: parseTolerance(flags.tolerance) });
      io.out(`${formatReconciliation(result, flags.format)}\n`);
      assertReconciled(result);
    });
}
