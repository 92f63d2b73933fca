// Agents as separate processes: the compiled agent (bin/dnnpart-agent.js on dist/), started on
// loopback with port 0; the line it prints says where it listens.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentEndpoint, PeerSpec } from '@dnnpart/runtime';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = path.join(ROOT, 'packages/runtime');
const TSC = path.join(ROOT, 'node_modules/.bin/tsc');

function newest(dir: string): number {
  let t = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, f.name);
    t = Math.max(t, f.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Build the agent's dist (and its workspace dependencies' when missing): spawned agents run compiled code. */
export function ensureBuilt(): void {
  for (const dep of ['packages/onnx-graph', 'packages/profiler']) {
    if (!existsSync(path.join(ROOT, dep, 'dist/index.js'))) execFileSync(TSC, ['-p', path.join(ROOT, dep, 'tsconfig.json')], { stdio: 'inherit' });
  }
  const dist = path.join(PKG, 'dist/index.js');
  if (!existsSync(dist) || statSync(dist).mtimeMs < newest(path.join(PKG, 'src'))) {
    execFileSync(TSC, ['-p', path.join(PKG, 'tsconfig.json')], { stdio: 'inherit' });
  }
}

export interface SpawnedAgent {
  readonly id: string;
  readonly address: string;
  readonly endpoint: AgentEndpoint;
  readonly proc: ChildProcess;
  /** Everything it printed. */
  readonly log: () => string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Start `node bin/dnnpart-agent.js --board <id> ...args`; `prefix` runs it under another command (ip
 * netns exec), `env` in that environment. Without `env`, as this process's with DNNPART_MALLOC=as-is:
 * one process, so that killing it is the agent gone at once (the bin otherwise starts itself again
 * under REUSE_ENV, and that child ends up to 3.5 s after its parent is killed; output-memory.test.ts).
 */
export async function spawnAgent(id: string, args: readonly string[] = [], opts: { prefix?: readonly string[]; peer?: Omit<PeerSpec, 'address'>; listen?: string; env?: NodeJS.ProcessEnv } = {}): Promise<SpawnedAgent> {
  const argv = [...(opts.prefix ?? []), process.execPath, path.join(PKG, 'bin/dnnpart-agent.js'), '--listen', opts.listen ?? '127.0.0.1:0', '--board', id, ...args];
  const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? { ...process.env, DNNPART_MALLOC: 'as-is' } });
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent ${id} did not start: ${out}`)), 30_000);
    proc.stdout!.on('data', () => {
      const m = /listening on (\S+?)[;\s]/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent ${id} exited with ${code}: ${out}`));
    });
  });
  return {
    id,
    address,
    endpoint: { id, peer: { address, ...(opts.peer ?? {}) } },
    proc,
    log: () => out,
    kill: async (signal = 'SIGKILL') => {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill(signal);
      await exited;
    },
  };
}

/** Poll `f` until it returns true (at most `tries` x 100 ms). */
export async function eventually(f: () => Promise<boolean>, tries = 50): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await f()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
