// Every test's temporary files under one directory, removed when the run ends: the tests' own, and
// what the commands they drive leave when a test stops one midway (an agent killed, a run aborted).
// Workers and the processes they start inherit TMPDIR, which os.tmpdir() reads.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const before = process.env['TMPDIR'];
  const dir = mkdtempSync(join(tmpdir(), 'dnnpart-tests-'));
  process.env['TMPDIR'] = dir;
  return () => {
    rmSync(dir, { recursive: true, force: true });
    if (before === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = before;
  };
}
