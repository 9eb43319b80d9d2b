#!/usr/bin/env node
/**
 * The `convbill` command: a thin layer over the library API. Every failure
 * ends as one sentence on stderr and the exit status of docs/billing-rules.md §7
 * (0 success, 1 run failed, 2 usage or configuration error).
 */
import { realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { build } from '../build/build.js';
import { DEFAULT_DB, resolveBuildOptions } from '../config/build-options.js';
import { ConfigError, ConvbillError, RunError } from '../engine/errors.js';
import { formatIngest, ingestOnly } from '../ingest/ingest-only.js';
import { forgetInputs, formatForget } from '../ingest/forget.js';
import { RunLog } from '../engine/log.js';
import { formatResult, parseFormat, query } from '../read/query.js';
import { listRuns } from '../read/runs.js';
import { formatSummary } from '../build/summary.js';
import { testWarehouse } from '../project/data-tests.js';
import { explain, formatExplain } from '../read/explain.js';
import { RECONCILE_FORMATS, assertReconciled, formatReconciliation, parseTolerance, reconcile } from '../read/reconcile.js';
import { diffRuns, diffTable } from '../read/diff.js';
import { EXPORT_FORMATS, exportTable, resolveExportFormat } from '../read/export-table.js';
import { checkDictionary, dataDictionary } from '../read/docs.js';
import { writeReport } from '../read/report.js';
import { formatInit, init, initHelp } from '../config/init.js';
import { readerDatabase } from '../config/warehouse-paths.js';

export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: show progress */
  interactive?: boolean;
}

const processIO: CliIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

const jsonSafe = (_: string, value: unknown) => (typeof value === 'bigint' ? Number(value) : value);

const logFormatOption = () =>
  new Option('--log-format <format>', 'stderr events: text (a progress line on a terminal) or json (one object per event)')
    .choices(['text', 'json'])
    .default('text');

function runLog(io: CliIO, flags: { logFormat?: string; quiet?: boolean }): RunLog {
  return new RunLog({
    format: flags.logFormat === 'json' ? 'json' : 'text',
    write: io.err,
    interactive: io.interactive ?? false,
    quiet: Boolean(flags.quiet),
  });
}

/** The command as typed, for the run history (quoted where a shell would need it). */
function commandLine(argv: string[]): string {
  return ['convbill', ...argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`))].join(' ');
}

/** A run id given on the command line. */
function runIdOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new ConfigError(`Option ${flag} must be a run id (see "convbill runs"), not "${value}".`);
  return Number(value);
}

/** query reads the published copy unless --db names a file. */
function readableDatabase(flags: { db?: string; config?: string }): string {
  if (flags.db !== undefined) return flags.db;
  return readerDatabase(resolveBuildOptions({ config: flags.config }));
}

function program(io: CliIO, verbose: { on: boolean }, argvOf: string[]): Command {
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
    .hook('preAction', (command) => {
      verbose.on = Boolean(command.opts().verbose);
    });

  cli
    .command('build')
    .description('Load new input files and build the billing facts: DuckDB tables, Parquet exports and a read-only published copy.')
    .option('--input <path...>', 'input file, directory or glob (repeatable); default: "sources" of the config')
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--cycles <file>', 'explicit billing-cycle calendar: org_id, cycle_start, cycle_end[, cycle_id]')
    .option('--integrations <file>', 'integrations reference: integration_id, platform[, org_id, name]')
    .option('--price-book <file>', 'prices per org, platform or integration (CSV or JSON), for fct_conversation_charges')
    .option('--anchor-day <n>', 'default cycle rule: day of the month cycles start (1-31)')
    .option('--timezone <tz>', 'default cycle rule: IANA timezone of the cycle boundaries')
    .option('--as-of <instant>', 'the instant the facts are computed as of (default: now); replays use an earlier one')
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .option('--full-refresh', 'rebuild everything instead of only the (org, cycle) partitions new data touches')
    .option('--max-reject-rate <share>', 'fail (exit 1, publish nothing) when more than this share (0-1) of the rows read are rejected')
    .option('--threads <n>', 'DuckDB worker threads (default: one per core)')
    .option('--memory-limit <size>', 'DuckDB memory limit, e.g. 2GB; larger work spills to <db>.tmp')
    .option('--profile <dir>', "write DuckDB's JSON query profile (operators, timings, rows) of each model into this folder")
    .addOption(logFormatOption())
    .option('--quiet', 'print nothing on success (errors still go to stderr)')
    .addHelpText(
      'after',
      `
Examples:
  convbill build --input logs/ --integrations integrations.csv --anchor-day 15 --timezone Europe/Paris
  convbill build --config convbill.json --max-reject-rate 0.05 --log-format json   # nightly
  convbill build --config convbill.json --as-of 2026-10-31T23:59:59Z                # replay a day`,
    )
    .action(async (flags) => {
      const options = { ...resolveBuildOptions(flags), commandLine: commandLine(argvOf) };
      const result = await build(options, runLog(io, flags));
      if (flags.quiet) return;
      io.out(`${formatSummary(result)}\n`);
      if (verbose.on) {
        io.out('Timings (s), phases and the models within them:\n');
        for (const timing of result.timings) io.out(`  ${timing.name.padEnd(34)} ${timing.seconds.toFixed(3)}\n`);
      }
    });

  cli
    .command('ingest')
    .description('Load input files into the warehouse without building (the next build stages them).')
    .option('--input <path...>', 'input file, directory or glob (repeatable); default: "sources" of the config')
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addOption(logFormatOption())
    .option('--quiet', 'print nothing on success')
    .addHelpText('after', '\nExample:\n  convbill ingest --input incoming/2026-11-25/ && convbill build')
    .action(async (flags) => {
      const options = { ...resolveBuildOptions(flags), commandLine: commandLine(argvOf) };
      const report = await ingestOnly(options, runLog(io, flags));
      if (!flags.quiet) io.out(`${formatIngest(report)}\n`);
    });

  cli
    .command('forget')
    .description('Stop counting files given with --input: the next build drops them, unless a configured source covers them.')
    .argument('<path>', 'a file, folder or glob, as given to --input')
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', "\nExample:\n  convbill forget 'incoming/2026-11-*/*.csv' && convbill build")
    .action(async (path: string, flags: { db?: string; config?: string }) => {
      const options = { ...resolveBuildOptions({ db: flags.db, config: flags.config }), commandLine: commandLine(argvOf) };
      io.out(`${formatForget(await forgetInputs(options, path))}\n`);
    });

  cli
    .command('query')
    .description('Run one SQL statement, read-only, against the published copy (or the database --db names).')
    .argument('<sql>', 'the SQL to run')
    .option('--db <file>', 'DuckDB database file (default: the published copy of the configured database)')
    .addOption(new Option('--format <format>', 'output format: table, csv or json').default('table'))
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExample:\n  convbill query "select org_id, cycle_id, sum(conversations) from fct_conversation_counts group by all"')
    .action(async (sql: string, flags: { db?: string; format: string; config?: string }) => {
      const format = parseFormat(flags.format);
      io.out(`${formatResult(await query(readableDatabase(flags), sql), format)}\n`);
    });

  cli
    .command('runs')
    .description('List recent runs: status, as-of, rows, partitions rebuilt, duration.')
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .option('--limit <n>', 'how many runs, newest first', '20')
    .addOption(new Option('--format <format>', 'output format: table, csv or json').default('table'))
    .addHelpText('after', '\nExample:\n  convbill runs --limit 5 --format json')
    .action(async (flags: { db?: string; config?: string; limit: string; format: string }) => {
      const format = parseFormat(flags.format);
      const limit = Number(flags.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new ConfigError(`Option --limit must be a whole number, 1 or more, not "${flags.limit}".`);
      io.out(`${formatResult(await listRuns(resolveBuildOptions({ db: flags.db, config: flags.config }), limit), format)}\n`);
    });

  cli
    .command('test')
    .description('Run the data tests (sql/audits/*.sql) against the working database; exit 1 when one fails.')
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExample:\n  convbill test --config convbill.json')
    .action(async (flags: { db?: string; config?: string }) => {
      const results = await testWarehouse(resolveBuildOptions({ db: flags.db, config: flags.config }).db);
      for (const result of results) {
        io.out(`${result.passed ? 'PASS' : 'FAIL'}  ${result.name}${result.passed ? '' : `  first offending row: ${JSON.stringify(result.rows[0], jsonSafe)}`}\n`);
        for (const row of result.rows.slice(1)) io.out(`      also: ${JSON.stringify(row, jsonSafe)}\n`);
      }
      const failed = results.filter((result) => !result.passed);
      if (failed.length > 0) {
        throw new RunError(`${failed.length} of ${results.length} data tests failed: ${failed.map((result) => result.name).join(', ')}.`);
      }
      io.out(`All ${results.length} data tests passed.\n`);
    });

  cli
    .command('reconcile')
    .description('Compare invoice lines with the facts; say which usual cause explains each difference. Exit 3 when differences remain.')
    .requiredOption('--invoices <file>', 'invoice lines, CSV or JSON: invoice_id, org_id, cycle_id or period_start/period_end, [platform | integration_id], quantity[, amount, currency, invoice_date]')
    .option('--tolerance <t>', 'differences allowed: conversations ("5"), a share of the computed count ("2%"), or both, whichever allows more ("5,2%")', '0')
    .addOption(new Option('--format <format>', 'report format').choices([...RECONCILE_FORMATS]).default('table'))
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
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

  cli
    .command('explain')
    .description('List every conversation billed for one account, the interactions and input rows behind each, and the rule that made it separate.')
    .requiredOption('--org <org>', 'org id ("default" when the input has none)')
    .requiredOption('--account <account>', 'end-customer account id')
    .option('--integration <id>', 'only this integration')
    .option('--cycle <cycle_id>', 'only this cycle (its cycle_id, e.g. 2026-10-01)')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExample:\n  convbill explain --org acme --account +33612345678 --cycle 2026-10-01')
    .action(async (flags: { org: string; account: string; integration?: string; cycle?: string; format: 'table' | 'json'; db?: string; config?: string }) => {
      const options = resolveBuildOptions({ db: flags.db, config: flags.config });
      const conversations = await explain({ db: options.db, org: flags.org, account: flags.account, integration: flags.integration, cycle: flags.cycle });
      io.out(`${formatExplain(conversations, flags.format)}\n`);
    });

  cli
    .command('diff')
    .description('List the (org, cycle, integration) whose count changed between two builds, by how much, and the input files behind it.')
    .option('--from <run>', 'the earlier build (default: the build before --to)')
    .option('--to <run>', 'the later build (default: the last successful build)')
    .addOption(new Option('--format <format>', 'output format: table, csv or json').default('table'))
    .option('--db <file>', `working DuckDB database file (default: ${DEFAULT_DB})`)
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExamples:\n  convbill diff                      # the last two builds\n  convbill diff --from 12 --to 15 --format csv')
    .action(async (flags: { from?: string; to?: string; format: string; db?: string; config?: string }) => {
      const format = parseFormat(flags.format);
      const options = resolveBuildOptions({ db: flags.db, config: flags.config });
      const diff = await diffRuns({ db: options.db, from: runIdOption(flags.from, '--from'), to: runIdOption(flags.to, '--to') });
      if (format === 'table') io.out(`Counts changed from run ${diff.from} to run ${diff.to}:\n`);
      io.out(`${formatResult(diffTable(diff), format)}\n`);
    });

  cli
    .command('export')
    .description('Write one published table (or a filtered part of it) to Parquet, CSV, NDJSON or an Arrow IPC file, in bounded memory.')
    .requiredOption('--table <table>', 'the table or view, e.g. fct_conversation_counts')
    .requiredOption('--out <path>', 'the file to write (written aside and renamed at the end)')
    .addOption(new Option('--format <format>', 'default: from the file name, else parquet').choices(EXPORT_FORMATS))
    .option('--where <sql>', "a SQL condition on the table's columns, e.g. \"org_id = 'acme'\"")
    .option('--db <file>', 'DuckDB database file (default: the published copy of the configured database)')
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .option('--memory-limit <size>', 'DuckDB memory limit, e.g. 512MB')
    .option('--threads <n>', 'DuckDB worker threads')
    .addHelpText(
      'after',
      `
Examples:
  convbill export --table fct_conversation_counts --out counts.csv
  convbill export --table fct_billable_conversations --where "org_id = 'acme' and cycle_id = '2026-10-01'" --out acme-oct.arrow`,
    )
    .action(async (flags: { table: string; out: string; format?: string; where?: string; db?: string; config?: string; memoryLimit?: string; threads?: string }) => {
      const { memoryLimit, threads } = resolveBuildOptions({ config: flags.config, memoryLimit: flags.memoryLimit, threads: flags.threads });
      const format = resolveExportFormat(flags.format, flags.out);
      const rows = await exportTable({ db: readableDatabase(flags), table: flags.table, format, out: flags.out, where: flags.where, memoryLimit, threads });
      io.out(`Exported ${rows} rows of ${flags.table} to ${flags.out}.\n`);
    });

  cli
    .command('docs')
    .description('Write the data dictionary (Markdown): every published table and column, its grain and lineage.')
    .option('--out <file>', 'write to this file instead of stdout')
    .option('--check', 'compare the descriptions with the published copy; exit 1 when they disagree')
    .option('--db <file>', 'with --check: the database to compare (default: the published copy)')
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExamples:\n  convbill docs --out docs/data-dictionary.md\n  convbill docs --check')
    .action(async (flags: { out?: string; check?: boolean; db?: string; config?: string }) => {
      if (flags.check) {
        const db = readableDatabase(flags);
        const { undescribed, absent } = await checkDictionary(db);
        if (undescribed.length || absent.length) {
          throw new RunError(
            `The data dictionary and ${db} disagree: undescribed ${undescribed.join(', ') || 'none'}; described but absent ${absent.join(', ') || 'none'}.`,
          );
        }
        io.out('Every published column is described.\n');
        return;
      }
      if (!flags.out) {
        io.out(dataDictionary());
        return;
      }
      writeFileSync(flags.out, dataDictionary());
      io.out(`Wrote ${flags.out}.\n`);
    });

  cli
    .command('report')
    .description('Write a self-contained HTML report (inline CSS and SVG, no network): conversations per cycle and platform, per integration, top accounts, rejects, the last reconcile, the run history.')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--db <file>', 'DuckDB database file (default: the published copy of the configured database)')
    .option('--config <file>', 'config file (default: ./convbill.json when present)')
    .addHelpText('after', '\nExamples:\n  convbill report --out report.html\n  convbill report --config convbill.json --out reports/$(date +%F).html')
    .action(async (flags: { out: string; db?: string; config?: string }) => {
      io.out(`Wrote ${await writeReport({ db: readableDatabase(flags), out: flags.out })}.\n`);
    });

  cli
    .command('init')
    .description('Write a starter convbill.json (every key at a sensible default) and a sample layout that builds out of the box.')
    .option('--dir <dir>', 'the folder to set up', '.')
    .option('--force', 'overwrite an existing convbill.json (sample files are never overwritten)')
    .addHelpText('after', `\n${initHelp()}`)
    .action((flags: { dir: string; force?: boolean }) => {
      io.out(`${formatInit(init({ dir: flags.dir, force: flags.force }))}\n`);
    });

  return cli;
}

export async function runCli(argv: string[], io: CliIO = processIO): Promise<number> {
  const verbose = { on: argv.includes('--verbose') };
  try {
    await program(io, verbose, argv).parseAsync(argv, { from: 'user' });
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
