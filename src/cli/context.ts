/** What every command module is given when it registers its command. */
export interface CliIO {
  out: (text: string) => void;
  err: (text: string) => void;
  /** stderr is a terminal: step lines and a live line */
  interactive?: boolean;
  /** the terminal's width, which the live line is cut to */
  columns?: number;
}

export interface CliContext {
  io: CliIO;
  /** set by the program's preAction hook; read by commands that print more with --verbose */
  verbose: { on: boolean };
  /** the arguments as given, for the run history's command line */
  argv: string[];
}
