/**
 * The text of a run's step lines, dbt's way: `[3/25] int_interactions … OK
 * 2.1 s` once a step ends, and, while a terminal watches, one live line that
 * is redrawn in place. Pure formatting: log.ts decides when to write.
 */

/** OK and ERROR end a model or another step; PASS and FAIL an audit. */
export type StepStatus = 'OK' | 'ERROR' | 'PASS' | 'FAIL';

/** `[k/N] ` inside a plan, nothing for the work before it (ingest, plan). */
export function stepPrefix(number: number | undefined, count: number | undefined): string {
  return number === undefined || count === undefined ? '' : `[${number}/${count}] `;
}

/** Seconds as people read them: one decimal, whatever the magnitude. */
export function seconds(value: number): string {
  return `${value.toFixed(1)} s`;
}

export function finishedLine(prefix: string, name: string, status: StepStatus, elapsed: number, note?: string): string {
  return `${prefix}${name} … ${status} ${seconds(elapsed)}${note ? ` (${note})` : ''}`;
}

/**
 * The line redrawn while a step runs: its running statement's percentage
 * when the engine can tell (DuckDB cannot for every operator, and restarts
 * at each statement of a model), the step's time and the whole build's.
 * Cut to the terminal's width: a wrapped line could not be redrawn by `\r`.
 */
export function liveLine(label: string, percent: number, stepSeconds: number, buildSeconds: number, columns?: number): string {
  const shown = percent >= 0 ? ` ${Math.min(percent, 100).toFixed(0).padStart(3)}%` : '';
  const line = label ? `${label} …${shown} ${seconds(stepSeconds)} · build ${seconds(buildSeconds)}` : `build ${seconds(buildSeconds)}`;
  return columns !== undefined && columns > 1 && line.length >= columns ? line.slice(0, columns - 1) : line;
}

/** The run's last line: the steps it ran and how long it all took. */
export function doneLine(status: 'success' | 'failed', stepsDone: number, stepCount: number | undefined, elapsed: number): string {
  if (status === 'success') return stepCount === undefined ? `Done in ${seconds(elapsed)}` : `Done: ${stepCount} steps in ${seconds(elapsed)}`;
  return stepCount === undefined ? `Failed after ${seconds(elapsed)}` : `Failed at step ${stepsDone} of ${stepCount} after ${seconds(elapsed)}`;
}
