// Drive main() in-process with captured output, as the bin would but without a process.
import { main } from '@dnnpart/report';

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run `dnnpart <argv>` in `cwd`; output captured, environment given explicitly. */
export async function run(argv: readonly string[], opts: { cwd?: string; env?: Record<string, string>; signal?: AbortSignal; tty?: boolean } = {}): Promise<RunResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: opts.tty ?? false, columns: 80 },
    cwd: opts.cwd ?? process.cwd(),
    env: opts.env ?? {},
    signal: opts.signal ?? new AbortController().signal,
  });
  return { code, stdout, stderr };
}
