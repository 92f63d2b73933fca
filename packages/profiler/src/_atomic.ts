// Atomic file writes: a temp file in the target's directory, then rename, so readers see the
// old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { access, constants, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Write `data` to `path` atomically; on any failure the temp file is removed and `path` is untouched. */
export async function writeFileAtomic(path: string, data: string, signal?: AbortSignal): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let created = false;
  try {
    signal?.throwIfAborted();
    const fh = await open(tmp, 'wx');
    created = true;
    try {
      await fh.writeFile(data, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    signal?.throwIfAborted();
    await rename(tmp, path);
    created = false;
  } finally {
    if (created) await rm(tmp, { force: true });
  }
}

/**
 * Check that `path` could be written (its directory exists or can be made, and is writable, and
 * `path` is not a directory), without writing it. Returns the reason when it cannot.
 */
export async function whyUnwritable(path: string): Promise<string | null> {
  const dir = dirname(path);
  try {
    const s = await stat(path);
    if (s.isDirectory()) return 'it is a directory';
  } catch {
    // Not there yet: fine.
  }
  try {
    await mkdirs(dir);
  } catch (e) {
    return `cannot create directory ${dir} (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  // A real probe file, since access() says yes to root even on read-only mounts.
  const probe = join(dir, `.${basename(path)}.${process.pid}.probe`);
  try {
    await access(dir, constants.W_OK);
    const fh = await open(probe, 'wx');
    await fh.close();
    await rm(probe, { force: true });
  } catch (e) {
    return `directory ${dir} is not writable (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  return null;
}

/**
 * mkdir -p one level at a time: Node's recursive mkdir loops forever where a directory cannot be
 * made and the parent reports ENOENT (measured: /proc/nope with Node 20).
 */
async function mkdirs(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    try {
      await stat(d);
      break;
    } catch {
      missing.push(d);
      if (dirname(d) === d) break;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await mkdir(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
