#!/usr/bin/env node
/**
 * The `convbill` command: a thin layer over the library API. This module
 * builds the program from the commands of commands/ and maps every failure
 * to one sentence on stderr and the exit status of docs/billing-rules.md §7
 * (0 success, 1 run failed, 2 usage or configuration error).
 */
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ConvbillError } from '../engine/errors.js';
import type { CliContext, CliIO } from './context.js';
import { assertRunsOnEngine } from './engine-support.js';
import { sqlDirectory } from '../project/load-models.js';
import { registerBuild } from './commands/build.js';
import { registerIngest } from './commands/ingest.js';
import { registerForget } from './commands/forget.js';
import { registerQuery } from './commands/query.js';
import { registerRuns } from './commands/runs.js';
import { registerTest } from './commands/test.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerExplain } from './commands/explain.js';
import { registerDiff } from './commands/diff.js';
import { registerExport } from './commands/export.js';
import { registerDocs } from './commands/docs.js';
import { registerReport } from './commands/report.js';
import { registerInit } from './commands/init.js';

export type { CliIO } from './context.js';

const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
  columns: process.stderr.columns,
};

/** In the order `convbill --help` lists them. */
const COMMANDS = [
  registerBuild,
  registerIngest,
  registerForget,
  registerQuery,
  registerRuns,
  registerTest,
  registerReconcile,
  registerExplain,
  registerDiff,
  registerExport,
  registerDocs,
  registerReport,
  registerInit,
];

/** The installed package's version: package.json sits beside sql/, from src/ and from dist/ alike. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(join(dirname(sqlDirectory()), 'package.json'), 'utf8')) as { version: string }).version;
}

function program(context: CliContext): Command {
  const { io, verbose } = context;
  const cli = new Command('convbill')
    .description('Billable conversations from messaging interaction logs, on DuckDB or a ClickHouse cluster.')
    .version(packageVersion(), '-V, --version', "print convbill's version")
    .option('--verbose', 'print stack traces, per-model timings, and a line per build step even off a terminal')
    .configureOutput({
      writeOut: io.out,
      writeErr: io.err,
      // Commander puts its "Did you mean" hint on a second line; keep one sentence.
      outputError: (text, write) => write(`convbill: ${text.trim().replace(/\s*\n\s*/g, ' ')}\n`),
    })
    .exitOverride()
    .addHelpText(
      'after',
      `
Examples:
  convbill init && convbill build && convbill report --out report.html   # a new project, end to end
  convbill build --input logs/ --as-of 2026-11-01                          # load files and update the facts
  convbill query "select org_id, cycle_id, sum(conversations) from fct_conversation_counts group by all"
  convbill reconcile --invoices invoices/2026-10.csv                       # exit 3 when lines differ
  convbill <command> --help                                                # every command's options and examples`,
    )
    .hook('preAction', (command, action) => {
      verbose.on = Boolean(command.opts().verbose);
      assertRunsOnEngine(action.name(), action.opts());
    });
  for (const register of COMMANDS) register(cli, context);
  return cli;
}

export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const verbose = { on: argv.includes('--verbose') };
  try {
    await program({ io, verbose, argv }).parseAsync(argv, { from: 'user' });
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
  // `convbill query … | head` closes the pipe early: the reader has what it wanted
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = await runCli(process.argv.slice(2));
}
