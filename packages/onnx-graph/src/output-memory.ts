// Where a stage's outputs land in this process's memory. onnxruntime-node copies every output into a
// new buffer each run (a preallocated one too: bench/results/profiler-boundary.md), and glibc's malloc
// maps an allocation of 32 MiB or more (its largest mmap threshold on 64-bit) afresh and unmaps it on
// free, so every page of an output that large faults in on every run: 3 ms/MB on the project's VM
// when its host had taken free memory back, a 64 MB output's run 197 ms where its kernel took 5 ms.
// With glibc's mmap turned off (MALLOC_MMAP_MAX_=0) such buffers come from the heap and are reused:
// the same run took 16 ms. Nothing in a running process can turn it off (glibc reads the setting when
// the process starts), so the agent and the commands that time (profile, verify, run, start) start
// themselves again under REUSE_ENV (runWithReusedMemory), and say it when a model or a stage hands back
// tensors that large in a process that did not (DNNPART_MALLOC=as-is, or a library caller).

import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { edgeBytes } from './split.js';
import type { Graph } from './types.js';

/** Outputs this large come back in fresh memory every run unless the allocator reuses it. */
export const FRESH_OUTPUT_BYTES = 32 * 2 ** 20;

/** The environment that has glibc reuse large buffers: no mmap, and the heap's top never given back. */
export const REUSE_ENV: Readonly<Record<string, string>> = { MALLOC_MMAP_MAX_: '0', MALLOC_TRIM_THRESHOLD_: '4294967295' };

/** REUSE_ENV as a command's prefix: `MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4294967295`. */
export const REUSE_PREFIX = Object.entries(REUSE_ENV).map(([k, v]) => `${k}=${v}`).join(' ');

/**
 * How this process's allocator treats large output buffers: 'fresh' (glibc as it starts: mapped anew
 * every run), 'reused' (glibc with mmap off, by MALLOC_MMAP_MAX_=0 or GLIBC_TUNABLES' glibc.malloc.mmap_max=0),
 * or 'other' (no glibc: musl, macOS, Windows; not measured).
 */
export function outputMemory(env: NodeJS.ProcessEnv = process.env, glibc: string | null = glibcVersion() ?? null): 'fresh' | 'reused' | 'other' {
  if (glibc === null) return 'other';
  const tunable = /(?:^|:)glibc\.malloc\.mmap_max=(\d+)(?::|$)/.exec(env.GLIBC_TUNABLES ?? '')?.[1];
  // glibc reads MALLOC_MMAP_MAX_ after the tunables, so it wins when both are set.
  const max = env.MALLOC_MMAP_MAX_ !== undefined && env.MALLOC_MMAP_MAX_ !== '' ? env.MALLOC_MMAP_MAX_ : tunable;
  return max !== undefined && Number(max) === 0 ? 'reused' : 'fresh';
}

let glibcSeen: { v: string | undefined } | undefined;

/** The glibc this process runs on (its version), or undefined on another C library or system. */
export function glibcVersion(): string | undefined {
  if (!glibcSeen) {
    let v: string | undefined;
    try {
      const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: unknown } } | undefined)?.header;
      v = typeof header?.glibcVersionRuntime === 'string' ? header.glibcVersionRuntime : undefined;
    } catch {
      v = undefined;
    }
    glibcSeen = { v };
  }
  return glibcSeen.v;
}

/** The bytes of those of `names` (a model's or a stage's outputs) that onnxruntime-node hands back in FRESH_OUTPUT_BYTES or more (as their edgeDtype). */
export function largeOutputBytes(graph: Graph, names: readonly string[]): number[] {
  return names.map((n) => { const t = graph.tensors.get(n); return t ? edgeBytes(t) : 0; }).filter((b) => b >= FRESH_OUTPUT_BYTES);
}

/** A stage's output tensors of FRESH_OUTPUT_BYTES or more (their bytes), under the name a note gives it. */
export interface LargeOutputs {
  readonly who: string;
  readonly bytes: readonly number[];
}

/**
 * One line on the stages that hand back tensors of FRESH_OUTPUT_BYTES or more, in a process whose
 * allocator is `memory` (outputMemory()); `consequence` says what it does to the caller's figures
 * (", which ..."). Null when no stage does, or when the allocator reuses their memory.
 */
export function freshOutputAdvice(stages: readonly LargeOutputs[], memory: 'fresh' | 'reused' | 'other', consequence = ''): string | null {
  const large = stages.filter((s) => s.bytes.length > 0);
  if (large.length === 0 || memory === 'reused') return null;
  const what = large
    .map((s) => `${s.who} hands back ${(s.bytes.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(0)} MB a run in ${s.bytes.length} tensor(s) of 32 MB or more`)
    .join('; ');
  if (memory === 'other') {
    return `${what}: onnxruntime-node copies every output into a new buffer each run, whose pages this system's allocator may give afresh every run${consequence} (measured on glibc only: bench/results/profiler-boundary.md)`;
  }
  return `${what}: onnxruntime-node copies every output into a new buffer each run, and glibc maps a buffer that large afresh, so its pages fault in every run (3 ms/MB on the project's VM, 0.2 ms/MB once reused)${consequence}; started with ${REUSE_PREFIX}, glibc reuses them (a 64 MB output's run: 197 ms, then 16 ms; bench/results/profiler-boundary.md)`;
}

/**
 * Runs this program again under REUSE_ENV, when glibc would map large buffers afresh and
 * DNNPART_MALLOC is not "as-is", and resolves with the child's exit code; null when this process goes
 * on itself (memory already reused, another C library, the opt-out, or no child could start). The
 * child inherits stdio and runs in a process group of its own, so that a terminal's Ctrl-C reaches it
 * once, passed on with SIGTERM and SIGHUP; it ends itself if this process dies without passing one on
 * (DNNPART_MALLOC_PARENT). A 64 MB convolution cut on this machine: 202 ms as started, 21 ms so
 * (bench/results/profiler-boundary.md).
 */
export function runWithReusedMemory(env: NodeJS.ProcessEnv = process.env): Promise<number | null> {
  if (env['DNNPART_MALLOC'] === 'as-is' || outputMemory(env) !== 'fresh') {
    watchParent(env);
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit', detached: true, env: { ...env, ...REUSE_ENV, DNNPART_MALLOC_PARENT: String(process.pid) },
    });
    const pass = (signal: NodeJS.Signals) => () => child.kill(signal);
    const handlers: [NodeJS.Signals, () => void][] = [['SIGINT', pass('SIGINT')], ['SIGTERM', pass('SIGTERM')], ['SIGHUP', pass('SIGHUP')]];
    for (const [signal, h] of handlers) process.on(signal, h);
    const done = (code: number | null) => {
      for (const [signal, h] of handlers) process.removeListener(signal, h);
      resolve(code);
    };
    child.once('error', () => done(null));
    child.once('exit', (code, signal) => done(code ?? 128 + (signal ? constants.signals[signal] : 1)));
  });
}

/**
 * In the process runWithReusedMemory started: once the process that started it is gone (killed with
 * no signal to pass on), end as it was asked to (SIGTERM), and for good 3 s later if that hangs (an
 * agent's server waiting on connections whose other end is gone).
 */
function watchParent(env: NodeJS.ProcessEnv): void {
  const parent = Number(env['DNNPART_MALLOC_PARENT']);
  if (!Number.isInteger(parent) || parent <= 0 || process.ppid !== parent) return;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    setTimeout(() => process.exit(143), 3000).unref();
    process.kill(process.pid, 'SIGTERM');
  }, 500);
  timer.unref();
}
