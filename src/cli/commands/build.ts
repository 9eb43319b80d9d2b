import type { Command } from 'commander';
import { build } from '../../build/build.js';
import { formatSummary } from '../../build/summary.js';
import { resolveBuildOptions } from '../../config/build-options.js';
import type { CliContext } from '../context.js';
import { commandLine, configOption, logFormatOption, memoryLimitOption, quietOption, runLog, threadsOption, workingDbOption } from '../options.js';

export function registerBuild(cli: Command, { io, verbose, argv }: CliContext): void {
  cli
    .command('build')
    .description('Load new input files and build the billing facts: DuckDB tables, Parquet exports and a read-only published copy.')
    .option('--input <path...>', 'input file, directory or glob (repeatable); default: "sources" of the config')
    .addOption(workingDbOption())
    .option('--cycles <file>', 'explicit billing-cycle calendar: org_id, cycle_start, cycle_end[, cycle_id]')
    .option('--integrations <file>', 'integrations reference: integration_id, platform[, org_id, name]')
    .option('--price-book <file>', 'prices per org, platform or integration (CSV or JSON), for fct_conversation_charges')
    .option('--anchor-day <n>', 'default cycle rule: day of the month cycles start (1-31)')
    .option('--timezone <tz>', 'default cycle rule: IANA timezone of the cycle boundaries')
    .option('--as-of <instant>', 'the instant the facts are computed as of (default: now); replays use an earlier one')
    .addOption(configOption())
    .option('--engine <name>', 'where the models run: duckdb (default, embedded) or clickhouse (the config\'s "clickhouse" cluster; docs/engines.md)')
    .option('--full-refresh', 'rebuild everything instead of only the (org, cycle) partitions new data touches')
    .option('--max-reject-rate <share>', 'fail (exit 1, publish nothing) when more than this share (0-1) of the rows read are rejected')
    .addOption(threadsOption('DuckDB worker threads (default: one per core)'))
    .addOption(memoryLimitOption('DuckDB memory limit, e.g. 2GB; larger work spills to <db>.tmp'))
    .option('--profile <dir>', "write DuckDB's JSON query profile (operators, timings, rows) of each model into this folder")
    .addOption(logFormatOption())
    .addOption(quietOption('print nothing on success (errors still go to stderr)'))
    .addHelpText(
      'after',
      `
Examples:
  convbill build --input logs/ --integrations integrations.csv --anchor-day 15 --timezone Europe/Paris
  convbill build --config convbill.json --max-reject-rate 0.05 --log-format json   # nightly
  convbill build --config convbill.json --as-of 2026-10-31T23:59:59Z                # replay a day`,
    )
    .action(async (flags) => {
      const options = { ...resolveBuildOptions(flags), commandLine: commandLine(argv) };
      const result = await build(options, runLog(io, flags, verbose.on));
      if (flags.quiet) return;
      io.out(`${formatSummary(result)}\n`);
      if (verbose.on) {
        io.out('Timings (s), phases and the models within them:\n');
        for (const timing of result.timings) io.out(`  ${timing.name.padEnd(34)} ${timing.seconds.toFixed(3)}\n`);
      }
    });
}
