// The real executable (bin/dnnpart.js on the compiled dist) in a child process: exit codes,
// one-line errors without stacks, and Ctrl-C during profiling.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, 'apps/report/bin/dnnpart.js');
let dir: string;

const dnnpart = (args: string[], env: Record<string, string> = {}) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, DNNPART_DEBUG: '', ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
};

beforeAll(() => {
  // The bin runs dist/: build the report app and what it imports (turbo skips what is fresh).
  execFileSync('npx', ['turbo', 'run', 'build', '--filter=@dnnpart/report...', '--output-logs=errors-only'], {
    cwd: root,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    stdio: 'pipe',
  });
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-bin-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bin/dnnpart.js', () => {
  it('--help and --version exit 0', () => {
    const help = dnnpart(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^  start +the main job/m);
    expect(dnnpart(['--version'])).toEqual({ code: 0, stdout: '0.1.0\n', stderr: '' });
    expect(dnnpart(['split', '--help']).stdout).toContain('Example:\n  dnnpart split ');
  });

  it('exports, inspects and splits a zoo model', () => {
    expect(dnnpart(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x32x32', '-o', 'sq.onnx']).code).toBe(0);
    const r = dnnpart(['inspect', 'sq.onnx', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ nodes: 65, params: 1235496 });
    const s = dnnpart(['split', 'sq.onnx', '--after', '/features/features.5/MaxPool', '-o', 'stages', '-q']);
    expect(s).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(existsSync(path.join(dir, 'stages', 'stage-1.onnx'))).toBe(true);
  });

  it.each([
    [['--bogus'], 'dnnpart: unknown command "--bogus" (see dnnpart --help)'],
    [['inspect', 'sq.onnx', '--frobnicate'], 'dnnpart: unknown option --frobnicate for inspect (see dnnpart inspect --help)'],
    [['split', 'sq.onnx', '--after', 'nope', '-o', 'x'], /^dnnpart: .*\bnope\b.*$/],
    [['inspect', 'missing.onnx'], /^dnnpart: .*missing\.onnx.*$/],
  ])('%j → exit 2, one line, no stack', (args, line) => {
    const r = dnnpart(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    if (typeof line === 'string') expect(lines[0]).toBe(line);
    else expect(lines[0]).toMatch(line);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('Ctrl-C while profiling: exit 130, no profile file', async () => {
    // Enough runs to be still running when interrupted; never left running if the test fails.
    const child = spawn(process.execPath, [bin, 'profile', 'sq.onnx', '--board', 'x', '--runs', '5000', '-o', 'p.json'], { cwd: dir });
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000);
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
      // Interrupt once the measured runs have started.
      if (stderr.includes('timed runs') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    clearTimeout(guard);
    expect(code).toBe(130);
    expect(stderr).toContain('dnnpart: interrupted; no partial profile was written');
    expect(existsSync(path.join(dir, 'p.json'))).toBe(false);
  });
});
