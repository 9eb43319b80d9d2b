/**
 * Errors that reach the user as one sentence and an exit status (docs/billing-rules.md §7):
 * 1 = the run failed (engine or data error), 2 = usage or configuration error,
 * 3 = reconcile found differences.
 */
export class ConvbillError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 | 3,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Usage or configuration error: exit 2. */
export class ConfigError extends ConvbillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 2, options);
  }
}

/** The run failed on the data or in the engine: exit 1. */
export class RunError extends ConvbillError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
  }
}

/** `convbill reconcile` ran, and invoice lines differ from the facts: exit 3. */
export class DifferencesFound extends ConvbillError {
  constructor(message: string) {
    super(message, 3);
  }
}

const MAX_MESSAGE = 600;

/** DuckDB's messages span lines and carry a prefix; keep the first line only. */
export function engineMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const firstLine = (text.split('\n').find((line) => line.trim() !== '') ?? text).trim().replace(/\.$/, '');
  // a message quoting a huge value (a 1 MB key in a path) stays one readable sentence
  return firstLine.length > MAX_MESSAGE ? `${firstLine.slice(0, MAX_MESSAGE / 2)} … ${firstLine.slice(-MAX_MESSAGE / 4)}` : firstLine;
}

/**
 * A reader's error, with what DuckDB says below its first line when that is
 * the cause: the line it failed on and a size limit it met.
 */
export function readerMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const first = engineMessage(error);
  const details = lines.filter(
    (line) => /^CSV Error on Line: \d+/i.test(line) || /maximum line size|Maximum object size|Invalid unicode|unterminated/i.test(line),
  );
  const extra = details.filter((line) => !first.includes(line)).map((line) => line.replace(/\.$/, ''));
  return [first, ...extra].join('; ');
}
