/**
 * What a run tells the people and schedulers watching it, on stderr: with
 * `--log-format json`, one JSON object per event (for log collectors); in
 * text, nothing but a progress line while a terminal watches, which is
 * erased as it goes. The build's summary on stdout is the CLI's business.
 */
export type LogFormat = 'text' | 'json';

export interface LogOptions {
  format: LogFormat;
  /** where events and progress go */
  write: (text: string) => void;
  /** whether stderr is a terminal someone watches (progress only then) */
  interactive: boolean;
  quiet: boolean;
}

export type EventFields = Record<string, string | number | boolean | null | undefined>;

export class RunLog {
  private progressShown = false;
  private timer: NodeJS.Timeout | undefined;
  private step = '';

  constructor(private readonly options: LogOptions) {}

  static silent(): RunLog {
    return new RunLog({ format: 'text', write: () => undefined, interactive: false, quiet: true });
  }

  event(event: string, fields: EventFields = {}): void {
    if (this.options.format !== 'json') return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), event };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
    this.options.write(`${JSON.stringify(record)}\n`);
  }

  /** Something the user should know that does not fail the run: a line on stderr (unless quiet), or a JSON event. */
  warn(message: string): void {
    if (this.options.format === 'json') {
      this.event('warning', { message });
      return;
    }
    if (this.options.quiet) return;
    const erase = this.progressShown ? '\r\x1b[2K' : '';
    this.options.write(`${erase}convbill: warning: ${message}\n`);
  }

  /** The step a progress line names, e.g. "model int_interactions". */
  setStep(step: string): void {
    this.step = step;
  }

  /** Polls `percentage` (DuckDB's progress of the running query, -1 when unknown) until stopped. */
  startProgress(percentage: () => number): void {
    if (!this.options.interactive || this.options.quiet || this.options.format === 'json') return;
    this.timer = setInterval(() => {
      const percent = percentage();
      const shown = percent >= 0 ? `${percent.toFixed(0).padStart(3)}%` : '    ';
      this.options.write(`\r\x1b[2Kconvbill: ${shown} ${this.step}`);
      this.progressShown = true;
    }, 250);
    this.timer.unref();
  }

  stopProgress(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.progressShown) this.options.write('\r\x1b[2K');
    this.progressShown = false;
  }
}
