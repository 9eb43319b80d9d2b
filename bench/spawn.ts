/** Runs one contender of contenders.ts in a process of its own (its own peak memory); its JSON result. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContenderArgs, ContenderResult } from './contenders.js';

export function runContender(name: string, args: ContenderArgs, label = name): ContenderResult {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'contenders.js');
  const child = spawnSync(process.execPath, [script, name, JSON.stringify(args)], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) {
    // an uncaught error's first line names it; its stack and properties follow
    const lines = child.stderr.trim().split('\n');
    const message = lines.find((line) => /^\w*Error\b/.test(line)) ?? lines.slice(-3).join(' ');
    throw new Error(`${label} failed: ${message}`);
  }
  return JSON.parse(child.stdout.trim().split('\n').pop() as string) as ContenderResult;
}
