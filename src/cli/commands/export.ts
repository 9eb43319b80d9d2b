import { type Command, Option } from 'commander';
import { resolveBuildOptions } from '../../config/build-options.js';
import { EXPORT_FORMATS, FORMAT_NAMES, exportTable, resolveExportFormat } from '../../read/export-table.js';
import type { CliContext } from '../context.js';
import { ConfigError } from '../../engine/errors.js';
import { exportClickHouseTable } from '../../read/clickhouse-export.js';
import { configOption, memoryLimitOption, readableDatabase, readerDbOption, threadsOption } from '../options.js';

export function registerExport(cli: Command, { io }: CliContext): void {
  cli
    .command('export')
    .description('Write one published table (or a filtered part of it) to Parquet, CSV, NDJSON or an Arrow IPC file, in bounded memory.')
    .requiredOption('--table <table>', 'the table or view, e.g. fct_conversation_counts')
    .requiredOption('--out <path>', 'the file to write (written aside and renamed at the end)')
    .addOption(new Option('--format <format>', 'default: from the file name (.parquet, .csv, .ndjson/.jsonl/.json, .arrow; none: parquet); another extension is refused').choices(EXPORT_FORMATS))
    .option('--where <sql>', "a SQL condition on the table's columns, e.g. \"org_id = 'acme'\"")
    .addOption(readerDbOption())
    .addOption(configOption())
    .addOption(memoryLimitOption('DuckDB memory limit, e.g. 512MB'))
    .addOption(threadsOption())
    .addHelpText(
      'after',
      `
Examples:
  convbill export --table fct_conversation_counts --out counts.csv
  convbill export --table fct_billable_conversations --where "org_id = 'acme' and cycle_id = '2026-10-01'" --out acme-oct.arrow`,
    )
    .action(async (flags: { table: string; out: string; format?: string; where?: string; db?: string; config?: string; memoryLimit?: string; threads?: string }) => {
      const { memoryLimit, threads, engine, clickhouse } = resolveBuildOptions({ config: flags.config, memoryLimit: flags.memoryLimit, threads: flags.threads });
      const format = resolveExportFormat(flags.format, flags.out);
      if (engine === 'clickhouse' && clickhouse) {
        if (flags.db !== undefined) throw new ConfigError('Option --db is DuckDB-only: on ClickHouse the config\'s "clickhouse" key names the warehouse.');
        const exported = await exportClickHouseTable(clickhouse, { table: flags.table, format, out: flags.out, where: flags.where });
        io.out(`Exported ${exported} rows of ${flags.table} to ${flags.out} as ${FORMAT_NAMES[format]}.\n`);
        return;
      }
      const rows = await exportTable({ db: await readableDatabase(flags, io), table: flags.table, format, out: flags.out, where: flags.where, memoryLimit, threads });
      io.out(`Exported ${rows} rows of ${flags.table} to ${flags.out} as ${FORMAT_NAMES[format]}.\n`);
    });
}
