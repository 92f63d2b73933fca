// Where the CLI reads and writes: the process by default, buffers in tests.

/** A text sink (process.stdout or a test buffer). */
export interface Output {
  write(chunk: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface CliIO {
  readonly stdout: Output;
  readonly stderr: Output;
  /** Relative paths on the command line are resolved against this. */
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborts long work (profiling, solving); main() wires Ctrl-C to it when not given. */
  readonly signal?: AbortSignal;
}
