/**
 * What a run tells the people and schedulers watching it, on stderr, as it
 * happens. With `--log-format json`, one JSON object per event, stamped when
 * it is written (for log collectors). In text, step lines like dbt's
 * (step-lines.ts) while a terminal watches or with `--verbose`, plus, on a
 * terminal only, one live line redrawn in place; otherwise nothing. The
 * build's summary on stdout is the CLI's business.
 */
import { type StepStatus, doneLine, finishedLine, liveLine, stepPrefix } from './step-lines.js';

export type { StepStatus } from './step-lines.js';

export type LogFormat = 'text' | 'json';

export interface LogOptions {
  format: LogFormat;
  /** where events, step lines and the live line go */
  write: (text: string) => void;
  /** stderr is a terminal someone watches: step lines, and a live line redrawn in place */
  interactive: boolean;
  quiet: boolean;
  /** step lines even when stderr is not a terminal (`--verbose`); never a live line there */
  verbose?: boolean;
  /** the terminal's width, which the live line is cut to */
  columns?: number;
}

export type EventFields = Record<string, string | number | boolean | null | undefined>;

/** How often the live line is redrawn: often enough to look alive, rarely enough to cost nothing. */
const LIVE_EVERY_MS = 250;

export class RunLog {
  private liveShown = false;
  private timer: NodeJS.Timeout | undefined;
  private percentage: () => number = () => -1;
  private runStarted = performance.now();
  private label = '';
  private labelStarted = performance.now();
  private stepCount: number | undefined;
  private stepNumber = 0;

  constructor(private readonly options: LogOptions) {}

  static silent(): RunLog {
    return new RunLog({ format: 'text', write: () => undefined, interactive: false, quiet: true });
  }

  private get json(): boolean {
    return this.options.format === 'json';
  }

  /** Step lines are for people: in text, unless quiet, on a terminal or with --verbose. */
  private get lines(): boolean {
    return !this.json && !this.options.quiet && (this.options.interactive || Boolean(this.options.verbose));
  }

  private get live(): boolean {
    return this.lines && this.options.interactive;
  }

  event(event: string, fields: EventFields = {}): void {
    if (!this.json) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), event };
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) record[key] = value;
    this.options.write(`${JSON.stringify(record)}\n`);
  }

  /** Something the user should know that does not fail the run: a line on stderr (unless quiet), or a JSON event. */
  warn(message: string): void {
    if (this.json) {
      this.event('warning', { message });
      return;
    }
    if (this.options.quiet) return;
    this.writeLine(`convbill: warning: ${message}`);
  }

  /**
   * The run starts: its clock (the elapsed time the live and last lines
   * show) and, on a terminal, the live line, which polls `percentage`
   * (the engine's progress of the running statement, -1 when unknown).
   */
  startProgress(percentage: () => number): void {
    this.percentage = percentage;
    this.runStarted = performance.now();
    this.stepCount = undefined;
    this.stepNumber = 0;
    if (!this.live) return;
    this.timer = setInterval(() => this.drawLive(), LIVE_EVERY_MS);
    this.timer.unref();
  }

  /** The run ends: the live line goes, and the last line says how it went and how long it took. */
  stopProgress(status?: 'success' | 'failed'): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.eraseLive();
    if (status && this.lines) {
      const elapsed = (performance.now() - this.runStarted) / 1000;
      this.options.write(`${doneLine(status, this.stepNumber, this.stepCount, elapsed)}\n`);
    }
  }

  /** What the live line names between steps, e.g. "ingest" or "configuration". */
  setStep(label: string): void {
    this.label = label;
    this.labelStarted = performance.now();
    // drawn at once: a step shorter than a tick still shows on the live line
    if (label && this.timer) this.drawLive();
  }

  /**
   * The plan is known: the steps from here on are numbered 1 to `count`
   * (again, if a build starts over). Undefined: they are not numbered, as
   * before a plan.
   */
  planSteps(count: number | undefined): void {
    this.stepCount = count;
    this.stepNumber = 0;
  }

  /** A step starts: numbered when a plan is known, and named on the live line. */
  stepStarted(name: string): void {
    if (this.stepCount !== undefined) this.stepNumber += 1;
    this.setStep(`${this.prefix()}${name}`);
  }

  /**
   * A step ends: its line in text, and in JSON the event `event` (model,
   * audit, step) with `fields`, the step's number and the plan's count.
   */
  stepFinished(name: string, status: StepStatus, seconds: number, event: { name: string; fields: EventFields; note?: string }): void {
    const numbered = this.stepCount !== undefined;
    this.event(event.name, { ...event.fields, step_number: numbered ? this.stepNumber : undefined, step_count: this.stepCount });
    if (this.lines) this.writeLine(finishedLine(this.prefix(), name, status, seconds, event.note));
    this.setStep('');
  }

  /** Runs `work` as one step named `name`: OK, or ERROR and the error goes on. */
  async step<T>(name: string, work: () => Promise<T>, fields: EventFields = {}): Promise<T> {
    this.stepStarted(name);
    const started = performance.now();
    let status: StepStatus = 'ERROR';
    try {
      const result = await work();
      status = 'OK';
      return result;
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.stepFinished(name, status, seconds, { name: 'step', fields: { ...fields, name, status, seconds } });
    }
  }

  private prefix(): string {
    return stepPrefix(this.stepCount === undefined ? undefined : this.stepNumber, this.stepCount);
  }

  /** A finished line above the live one: the live line is erased first and redrawn at the next tick. */
  private writeLine(line: string): void {
    this.eraseLive();
    this.options.write(`${line}\n`);
  }

  private drawLive(): void {
    const now = performance.now();
    const line = liveLine(this.label, this.percentage(), (now - this.labelStarted) / 1000, (now - this.runStarted) / 1000, this.options.columns);
    this.options.write(`\r\x1b[2K${line}`);
    this.liveShown = true;
  }

  private eraseLive(): void {
    if (this.liveShown) this.options.write('\r\x1b[2K');
    this.liveShown = false;
  }
}
