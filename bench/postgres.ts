/**
 * The PostgreSQL 15 contender: a throwaway cluster in a temporary folder,
 * listening on 127.0.0.1 only, loaded with COPY and queried with the same
 * SQL as the spec-complete floor (merge by interaction, facts, counts).
 * Load and query are timed separately; the server's peak memory is sampled.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Warehouse } from '../src/engine/duckdb/warehouse.js';
import type { ContenderArgs } from './contenders.js';
import { orgRulesValues } from './orgs.js';
import { benchSql } from './sql-template.js';

export function postgresBinaries(): string | undefined {
  for (const dir of ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin']) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl'))) return dir;
  }
  return undefined;
}

const QUERY = (asOf: string) => `
create table interactions as
select org_id, integration_id, interaction_id,
    min(customer_account_id) as customer_account_id,
    min(started_at) as started_at,
    case when count(*) > count(ended_at) then null else max(ended_at) end as ended_at
from raw_rows
where integration_id is not null and started_at <= timestamptz '${asOf}'
group by org_id, integration_id, interaction_id;

create table fct_billable_conversations as
select i.org_id, c.cycle_id, c.cycle_start, c.cycle_end, i.integration_id, i.customer_account_id,
    count(*) as interaction_count, min(i.started_at) as first_activity_at,
    max(least(coalesce(i.ended_at, timestamptz '${asOf}'), timestamptz '${asOf}')) as last_activity_at
from interactions i
join bench_cycles c
    on i.org_id = c.org_id
    and i.started_at < c.cycle_end
    and least(coalesce(i.ended_at, timestamptz '${asOf}'), timestamptz '${asOf}') >= c.cycle_start
group by 1, 2, 3, 4, 5, 6;

create table fct_conversation_counts as
select org_id, cycle_id, cycle_start, cycle_end, integration_id, count(*) as conversations
from fct_billable_conversations group by 1, 2, 3, 4, 5;
`;

function serverRssKb(dataDir: string): number {
  const pid = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]?.trim();
  if (!pid) return 0;
  const out = spawnSync('ps', ['-o', 'rss=', '--ppid', pid, '-p', pid], { encoding: 'utf8' }).stdout;
  return out.split('\n').reduce((sum, line) => sum + (Number(line.trim()) || 0), 0);
}

export async function postgresCount(args: ContenderArgs) {
  const bin = postgresBinaries();
  if (!bin) throw new Error('PostgreSQL is not installed');
  rmSync(args.work, { recursive: true, force: true });
  const dataDir = join(args.work, 'pgdata');
  mkdirSync(args.work, { recursive: true });
  // The rows and cycles as CSV for COPY; preparing them is not timed.
  const warehouse = await Warehouse.open(':memory:');
  await warehouse.run(benchSql('cycles.sql', { org_rules: orgRulesValues() }));
  await warehouse.run(`copy bench_cycles to '${join(args.work, 'cycles.csv')}' (header false)`);
  await warehouse.run(
    `copy (select org_id, integration_id, interaction_id, customer_account_id, started_at, ended_at from read_parquet('${args.input}'))
     to '${join(args.work, 'rows.csv')}' (header false)`,
  );
  warehouse.close();

  const user = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  const asUser = (command: string, commandArgs: string[]) =>
    user.length ? execFileSync('runuser', [...user, '--', command, ...commandArgs], { stdio: 'pipe' }) : execFileSync(command, commandArgs, { stdio: 'pipe' });
  if (user.length) execFileSync('chown', ['-R', 'postgres', args.work]);
  const port = String(20000 + Math.floor(Math.random() * 20000));
  asUser(join(bin, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'bench', '--no-sync']);
  asUser(join(bin, 'pg_ctl'), ['-D', dataDir, '-w', '-l', join(args.work, 'server.log'), '-o',
    `-c listen_addresses=127.0.0.1 -p ${port} -k ${args.work} -c fsync=off -c synchronous_commit=off -c max_parallel_workers_per_gather=2 -c work_mem=256MB -c maintenance_work_mem=1GB -c shared_buffers=1GB`, 'start']);
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, serverRssKb(dataDir))), 250);
  const psql = (sql: string) => {
    const started = performance.now();
    execFileSync('psql', ['-h', '127.0.0.1', '-p', port, '-U', 'bench', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: 'pipe' });
    return (performance.now() - started) / 1000;
  };
  try {
    psql(`create table raw_rows (org_id text, integration_id text, interaction_id text, customer_account_id text, started_at timestamptz, ended_at timestamptz);
          create table bench_cycles (org_id text, cycle_id text, cycle_start timestamptz, cycle_end timestamptz);
          copy bench_cycles from '${join(args.work, 'cycles.csv')}' (format csv);`);
    const load = psql(`copy raw_rows from '${join(args.work, 'rows.csv')}' (format csv); analyze raw_rows;`);
    const query = psql(QUERY(args.asOf));
    const total = execFileSync('psql', ['-h', '127.0.0.1', '-p', port, '-U', 'bench', '-d', 'postgres', '-tAc', 'select sum(conversations) from fct_conversation_counts'], { encoding: 'utf8' });
    return { seconds: load + query, phases: { load, query }, conversations: Number(total.trim()), serverRssKb: peak };
  } finally {
    clearInterval(sampler);
    asUser(join(bin, 'pg_ctl'), ['-D', dataDir, '-m', 'immediate', 'stop']);
    rmSync(args.work, { recursive: true, force: true });
  }
}
