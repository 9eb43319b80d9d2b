#!/usr/bin/env node
/**
 * The `convbill` command: a thin layer over the library API. Every failure
 * ends as one sentence on stderr and the exit status of rules §7
 * (0 success, 1 run failed, 2 usage or configuration error).
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { build } from './build.js';
import { DEFAULT_DB, resolveBuildOptions } from './config.js';
import { ConvbillError } from './errors.js';
import { formatResult, parseFormat, query } from './query.js';
import { formatSummary } from './summary.js';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

function program(io: CliIO, verbose: { on: boolean }): Command {
  const cli = new Command('convbill')
    .description('Billable conversations from messaging interaction logs, on DuckDB.')
    .option('--verbose', 'print stack traces and per-model timings')
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // Commander puts its "Did you mean" hint on a second line; keep one sentence.
      outputError: (text, write) => write(`convbill: ${text.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .exitOverride()
    .hook('preAction', (command) => {
      verbose.on = Boolean(command.opts().verbose);
    });

  cli
    .command('build')
    .description('Load input files and build the billing facts (DuckDB tables and Parquet exports).')
    .option('--input <path...>', 'input file, directory or glob (repeatable); default: "sources" of the config')
    .option('--db <file>', `DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--cycles <file>', 'explicit billing-cycle calendar: org_id, cycle_start, cycle_end[, cycle_id]')
    .option('--integrations <file>', 'integrations reference: integration_id, platform[, org_id, name]')
    .option('--anchor-day <n>', 'default cycle rule: day of the month cycles start (1-31)')
    .option('--timezone <tz>', 'default cycle rule: IANA timezone of the cycle boundaries')
    .option('--as-of <instant>', 'the instant the facts are computed as of (default: now)')
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .option('--threads <n>', 'DuckDB worker threads (default: one per core)')
    .option('--memory-limit <size>', 'DuckDB memory limit, e.g. 2GB; larger work spills to <db>.tmp')
    .addHelpText('after', '\nExample:\n  convbill build --input logs/ --integrations integrations.csv --anchor-day 15 --timezone Europe/Paris')
    .action(async (flags) => {
      const result = await build(resolveBuildOptions(flags));
      io.out(`${formatSummary(result)}\n`);
      if (verbose.on) {
        io.out('Timings (s), phases and the models within them:\n');
        for (const timing of result.timings) io.out(`  ${timing.name.padEnd(34)} ${timing.seconds.toFixed(3)}\n`);
      }
    });

  cli
    .command('query')
    .description('Run one SQL statement against a convbill database (read-only).')
    .argument('<sql>', 'the SQL to run')
    .option('--db <file>', `DuckDB database file (default: "db" of the config, else ${DEFAULT_DB})`)
    .addOption(new Option('--format <format>', 'output format: table, csv or json').default('table'))
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExample:\n  convbill query "select org_id, cycle_id, sum(conversations) from fct_conversation_counts group by all"')
    .action(async (sql: string, flags: { db?: string; format: string; config?: string }) => {
      const format = parseFormat(flags.format);
      const db = flags.db ?? resolveBuildOptions({ config: flags.config }).db;
      io.out(`${formatResult(await query(db, sql), format)}\n`);
    });

  return cli;
}

export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const verbose = { on: argv.includes('--verbose') };
  try {
    await program(io, verbose).parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its own one-line message (or the help).
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof ConvbillError) {
      io.err(`convbill: ${error.message}\n`);
      if (verbose.on && error.cause instanceof Error) io.err(`${error.cause.stack}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    io.err(`convbill: internal error: ${message}${verbose.on ? '' : ' (run with --verbose for details)'}\n`);
    if (verbose.on && error instanceof Error) io.err(`${error.stack}\n`);
    return 1;
  }
}

// Run when executed as the `convbill` binary (npm links it through a symlink).
const invokedAs = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedAs === fileURLToPath(import.meta.url)) {
  process.exitCode = await runCli(process.argv.slice(2));
}
