// onnxruntime writes its own log lines straight to the process's stderr; setRuntimeLogLevel (what
// the CLI's -q calls) must keep its warnings off it. Checked in a real child process, on a model
// with an unused initializer (onnxruntime warns about it), with a session that sets no level of its
// own. The child imports the built package (`npm test` builds first).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelBuilder } from './_models.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'onnx-graph-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('onnxruntime log level', () => {
  const b = new ModelBuilder().input('x', [2]);
  b.weight('unused', [3]);
  const model = join(dir, 'unused.onnx');
  writeFileSync(model, b.node('Relu', ['x'], ['y'], {}, 'relu').output('y').bytes());

  it.each([
    ['left alone, onnxruntime warns about the unused initializer', null, /\[W:onnxruntime:.*unused/],
    ["set to 'error', stderr stays empty", 'error', /^$/],
  ])('%s', (_, level, stderr) => {
    const script = [
      `import * as ort from 'onnxruntime-node';`,
      `import { setRuntimeLogLevel } from ${JSON.stringify(dist)};`,
      level ? `setRuntimeLogLevel(${JSON.stringify(level)});` : '',
      `const s = await ort.InferenceSession.create(${JSON.stringify(model)});`,
      `await s.release();`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: fileURLToPath(new URL('..', import.meta.url)) });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(stderr);
  });
});
