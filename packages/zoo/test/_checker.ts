// The independent ONNX checker for files written by the zoo tests: Debian's python3-onnx.
import { spawnSync } from 'node:child_process';

const PYTHON = '/usr/bin/python3';
const SCRIPT = `
import sys, onnx
for path in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(path), full_check=True)
`;

/** Why the checker cannot run (null when it can). In CI (CI=true) it must run, so this is null there. */
export const checkerMissing: string | null =
  process.env.CI === 'true' || spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0
    ? null
    : `${PYTHON} cannot import onnx (install python3-onnx)`;

/** onnx.checker.check_model(full_check=True) on each file: '' when all pass, else the checker's message. */
export function checkModels(paths: readonly string[]): string {
  const r = spawnSync(PYTHON, ['-c', SCRIPT, ...paths], { encoding: 'utf8', timeout: 300_000 });
  return r.status === 0 ? '' : (r.stderr || r.stdout || `checker exited with ${r.status}`).trim().split('\n').pop()!;
}
