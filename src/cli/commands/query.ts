import { type Command, Option } from 'commander';
import { type BuildOptions, resolveBuildOptions } from '../../config/build-options.js';
import { ConfigError } from '../../engine/errors.js';
import { type QueryResult, formatResult, parseFormat, query, queryClickHouse } from '../../read/query.js';
import type { CliContext, CliIO } from '../context.js';
import { configOption, engineOption, readableDatabase, readerDbOption, tableFormatOption } from '../options.js';

const repeat = (value: string, previous: string[]) => [...previous, value];

interface QueryFlags {
  db?: string;
  format: string;
  config?: string;
  engine?: string;
  allowDir: string[];
}

export function registerQuery(cli: Command, { io }: CliContext): void {
  cli
    .command('query')
    .description(
      'Run one SQL statement, read-only, against the published copy of the working database (of the one --db names; a file with no copy is read as it is). ' +
        'The SQL reads that database only: no other file (unless under --allow-dir), no ATTACH, no extension, no setting changed. ' +
        'With engine clickhouse, it runs on the configured ClickHouse database with readonly=1.',
    )
    .argument('<sql>', 'the SQL to run')
    .addOption(readerDbOption())
    .addOption(tableFormatOption())
    .addOption(
      new Option('--allow-dir <dir>', 'a folder the SQL may read files from and COPY ... TO (repeatable; DuckDB only)').argParser(repeat).default([], 'none'),
    )
    .addOption(engineOption())
    .addOption(configOption())
    .addHelpText(
      'after',
      `
Examples:
  convbill query "select org_id, cycle_id, sum(conversations) from fct_conversation_counts group by all"
  convbill query --allow-dir out "copy (from fct_conversation_counts) to 'out/counts.csv'"
  convbill query --engine clickhouse "select org_id, sum(conversations) from fct_conversation_counts group by org_id"`,
    )
    .action(async (sql: string, flags: QueryFlags) => {
      const format = parseFormat(flags.format);
      const options = resolveBuildOptions({ config: flags.config, engine: flags.engine });
      const result = options.engine === 'clickhouse' ? await onClickHouse(options, flags, sql) : await onDuckDB(flags, sql, io);
      io.out(`${formatResult(result, format)}\n`);
    });
}

async function onDuckDB(flags: QueryFlags, sql: string, io: CliIO): Promise<QueryResult> {
  return query(await readableDatabase(flags, io), sql, { allowedDirectories: flags.allowDir });
}

async function onClickHouse(options: BuildOptions, flags: QueryFlags, sql: string): Promise<QueryResult> {
  const duckdbOnly = [flags.db !== undefined && '--db', flags.allowDir.length > 0 && '--allow-dir'].filter(Boolean);
  if (duckdbOnly.length) {
    throw new ConfigError(
      `Option ${duckdbOnly.join(' and ')} ${duckdbOnly.length > 1 ? 'are' : 'is'} DuckDB-only: with engine clickhouse, convbill query reads the database of the config key "clickhouse".`,
    );
  }
  // resolveBuildOptions fails engine clickhouse without the key, so this is only for the compiler
  if (!options.clickhouse) throw new ConfigError('Engine clickhouse needs the config key "clickhouse".');
  return queryClickHouse(options.clickhouse, sql);
}
