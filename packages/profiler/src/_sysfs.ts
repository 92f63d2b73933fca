// Small sysfs helpers: every reader takes a root directory so tests can use recorded trees.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** `root` + an absolute sysfs path. */
export function under(root: string, path: string): string {
  return join(root, path);
}

/** Directory entries, or [] when the directory does not exist. */
export async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort(naturalCompare);
  } catch {
    return [];
  }
}

/** A sysfs file's trimmed text, or null when it cannot be read. */
export async function readText(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** A sysfs file as a number; throws (with the path) when it is missing or not numeric. */
export async function readNumber(path: string): Promise<number> {
  const text = (await readFile(path, 'utf8')).trim();
  const n = Number(text);
  if (text === '' || !Number.isFinite(n)) throw new Error(`${path} holds ${JSON.stringify(text)}, not a number`);
  return n;
}

/** Sort "hwmon10" after "hwmon2". */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
