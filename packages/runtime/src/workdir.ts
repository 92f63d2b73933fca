// An agent's temporary files (the stage models and weights it is sent, a profiled model, what its
// child processes write) go in a directory of its own, named by its host and process id. An agent
// that is killed (out of memory, a power cut, SIGKILL) cannot clean up after itself, so the next
// agent to start removes the directories of agents of its host that no longer run: copies of stage
// models (170 MB for ISNet's) do not pile up on a board's small disk, or in a /tmp kept in RAM.
import { lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'dnnpart-agent.';

export interface WorkDir {
  /** The directory, made empty and private to this process. */
  readonly dir: string;
  /** What agents that stopped without cleaning up had left, now removed. */
  readonly swept: { readonly dirs: number; readonly bytes: number };
  /** Remove the directory (and whatever is in it); safe to call twice. */
  release(): void;
}

export interface WorkDirOptions {
  /** Where agents keep their directories; default: the system's temporary directory (TMPDIR). */
  readonly base?: string;
  readonly host?: string;
  readonly pid?: number;
  /** Whether a process of this host still runs; default: signal 0 (a process of another user counts as running). */
  readonly alive?: (pid: number) => boolean;
}

/** Whether process `pid` runs: signal 0 reaches it, or it exists and belongs to another user. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A host name as it can stand in a file name. */
function hostPart(host: string): string {
  return host.replace(/[^A-Za-z0-9_-]/g, '_') || 'host';
}

/** Bytes under `path`, not following links; what cannot be read counts 0. */
function bytesUnder(path: string): number {
  try {
    const s = lstatSync(path);
    if (!s.isDirectory()) return s.size;
    let n = 0;
    for (const e of readdirSync(path)) n += bytesUnder(join(path, e));
    return n;
  } catch {
    return 0;
  }
}

/**
 * Remove the directories that agents of this host which no longer run left under `base`, then make
 * this process's own (emptied, if a process with the same id had left one). A directory that cannot
 * be removed (another user's) is left alone.
 */
export function claimWorkDir(options: WorkDirOptions = {}): WorkDir {
  const base = options.base ?? tmpdir();
  const host = hostPart(options.host ?? hostname());
  const pid = options.pid ?? process.pid;
  const alive = options.alive ?? processAlive;
  const mine = `${PREFIX}${host}.${pid}`;
  let dirs = 0;
  let bytes = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(base);
  } catch {
    // a base that does not exist yet: made below, or the error said there
  }
  for (const name of entries) {
    if (!name.startsWith(`${PREFIX}${host}.`)) continue;
    const owner = name.slice(PREFIX.length + host.length + 1);
    if (!/^\d+$/.test(owner)) continue;
    const p = Number(owner);
    if (name !== mine && alive(p)) continue;
    const path = join(base, name);
    const size = bytesUnder(path);
    try {
      rmSync(path, { recursive: true, force: true });
    } catch {
      continue;
    }
    if (name === mine) continue; // a process before this one with the same id: emptied, not counted
    dirs++;
    bytes += size;
  }
  const dir = join(base, mine);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let released = false;
  return {
    dir,
    swept: { dirs, bytes },
    release: () => {
      if (released) return;
      released = true;
      try {
        rmSync(dir, { recursive: true, force: true });
      } catch {
        // already gone, or no longer ours to remove
      }
    },
  };
}

/**
 * For a process that runs an agent until it ends (`dnnpart-agent`, `dnnpart agent`): claim a work
 * directory and make it this process's TMPDIR (os.tmpdir() and the child processes the agent starts
 * read it), say what was swept through `log`, and remove it when the process exits, even on an
 * uncaught error. `release` also puts TMPDIR back.
 */
export function enterWorkDir(log: (line: string) => void, options: WorkDirOptions = {}): WorkDir {
  const work = claimWorkDir(options);
  const before = process.env.TMPDIR;
  process.env.TMPDIR = work.dir;
  const onExit = () => work.release();
  process.once('exit', onExit);
  const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
  log(`temporary files in ${work.dir}${work.swept.dirs > 0 ? `; removed ${work.swept.dirs} director${work.swept.dirs === 1 ? 'y' : 'ies'} (${mb(work.swept.bytes)}) that agents which stopped without cleaning up had left` : ''}`);
  return {
    ...work,
    release: () => {
      process.off('exit', onExit);
      if (before === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = before;
      work.release();
    },
  };
}
