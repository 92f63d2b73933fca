// The independent ONNX checker: Debian's python3-onnx, run on files the package wrote.
import { spawnSync } from 'node:child_process';

const PY = '/usr/bin/python3';
const SCRIPT = [
  'import onnx, sys',
  'bad = 0',
  'for p in sys.argv[1:]:',
  '    try:',
  '        onnx.checker.check_model(onnx.load(p), full_check=True)',
  '    except Exception as e:',
  '        bad += 1',
  '        print(p + ": " + str(e).splitlines()[0] if str(e) else p + ": " + type(e).__name__)',
  'sys.exit(1 if bad else 0)',
].join('\n');

const missing: string | null = (() => {
  const r = spawnSync(PY, ['-c', 'import onnx'], { encoding: 'utf8' });
  return r.status === 0 ? null : `/usr/bin/python3 cannot import onnx (install python3-onnx): ${(r.stderr || String(r.error)).trim().split('\n').pop()}`;
})();

/**
 * Why the checker cannot run here (tests then skip it), or null when /usr/bin/python3 imports onnx.
 * In CI (CI=true) it is always null: a missing checker must fail the tests, not pass them silently.
 */
export const checkerMissing: string | null = process.env.CI === 'true' ? null : missing;

/** Runs onnx.checker.check_model(full_check=True) on each file; returns the failures (empty when all pass). */
export function checkModels(paths: readonly string[]): string {
  if (missing !== null) return `the independent checker is required in CI (CI=true): ${missing}`;
  const r = spawnSync(PY, ['-c', SCRIPT, ...paths], { encoding: 'utf8', timeout: 300_000 });
  if (r.status === 0) return '';
  return (r.stdout + r.stderr).trim() || `checker exited with ${r.status}`;
}
