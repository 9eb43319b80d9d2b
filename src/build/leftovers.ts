/**
 * What a killed build leaves behind: the files it was writing beside their
 * targets, named with its PID (`<published>.next-PID`, `<export link>.swap-PID`)
 * so that the next build can tell them from a running build's. The working
 * database's lock means at most one build runs, but a PID names a process, not
 * a build: a live PID's files are left alone, whoever it is.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** Removes the entries of `folder` whose name `pattern` matches with a dead PID as its first group. */
export function removeLeftoversOfDeadProcesses(folder: string, pattern: RegExp): void {
  let names: string[];
  try {
    names = readdirSync(folder);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = pattern.exec(name)?.[1];
    if (pid === undefined || isAlive(Number(pid))) continue;
    rmSync(join(folder, name), { recursive: true, force: true });
  }
}

/** Signal 0 checks without signalling: ESRCH is no such process, EPERM one of another user's. */
function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return true; // not a process of its own, or this one
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** A file name as a pattern's literal text. */
export const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
