// What every command function receives besides its own options.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Progress } from './_progress.js';
import { UsageError } from './errors.js';

export interface CommandContext {
  /** Relative paths are resolved against this. */
  readonly cwd: string;
  readonly progress: Progress;
  readonly signal?: AbortSignal;
}

/** A command's answer: data for --json, text for people. */
export interface CommandOutput<T = unknown> {
  readonly data: T;
  readonly text: string;
}

/** `p` resolved against the command's working directory. */
export function resolvePath(ctx: Pick<CommandContext, 'cwd'>, p: string): string {
  return path.resolve(ctx.cwd, p);
}

/** `p` as the user would like to read it: relative to the working directory when inside it. */
export function displayPath(ctx: Pick<CommandContext, 'cwd'>, p: string): string {
  const rel = path.relative(ctx.cwd, p);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : p;
}

/** A silent context for calling commands from code. */
export function quietContext(cwd: string = process.cwd(), signal?: AbortSignal): CommandContext {
  return { cwd, progress: { update() {}, note() {}, end() {} }, ...(signal ? { signal } : {}) };
}

/** Create directory `dir` (named by the user as `given`), or say plainly why it cannot be. */
export async function ensureDir(dir: string, given: string): Promise<void> {
  try {
    // One level at a time: Node 20's recursive mkdir never returns for paths under /proc.
    const missing: string[] = [];
    let d = path.resolve(dir);
    while (!existsSync(d)) {
      missing.unshift(d);
      const up = path.dirname(d);
      if (up === d) break;
      d = up;
    }
    for (const m of missing) await mkdir(m);
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError('CLI_BAD_VALUE', `-o ${given}: cannot create directory ${dir} (${code}); choose a writable directory`);
  }
}

/**
 * Run `fn`; in the message of a coded error, write each of `files` the way the user named it
 * (packages get absolute paths because the working directory is ours, not the process's).
 */
export async function asGiven<T>(ctx: Pick<CommandContext, 'cwd'>, files: readonly string[], fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
      for (const f of files) e.message = e.message.split(f).join(displayPath(ctx, f));
    }
    throw e;
  }
}

/** "1 node", "3 nodes". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Write an output file the user named as `given` (its directory created), or say why it cannot be. */
export async function writeOutput(file: string, given: string, data: string | Uint8Array): Promise<void> {
  await ensureDir(path.dirname(file), given);
  try {
    await writeFile(file, data);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError('CLI_BAD_VALUE', `-o ${given}: cannot write ${file} (${code}); choose a writable path`);
  }
}

/** A JSON file named by a flag (`--run run.json`): file not found and not JSON are one-line usage errors. */
export function readJsonFlag(flag: string, file: string, given: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(code === 'ENOENT' ? 'CLI_FILE_NOT_FOUND' : 'CLI_BAD_VALUE', `--${flag} ${given}: ${code === 'ENOENT' ? 'file not found' : `not JSON (${(e as Error).message})`}`);
  }
}
