import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildZooModel, type ZooInputShape, type ZooName } from '@dnnpart/zoo';
import { cnnNames } from './_nets.js';

// An independent check with the reference ONNX checker (Debian's python3-onnx for the system
// Python, not the pyenv one on PATH). full_check runs strict shape inference, which also
// compares our value_info shapes with ONNX's own inference.
const PYTHON = '/usr/bin/python3';
const hasOnnx = spawnSync(PYTHON, ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;

const CHECK = `
import sys, onnx
for path in sys.argv[1:]:
    onnx.checker.check_model(onnx.load(path), full_check=True)
    print("ok", path)
`;

const CASES: readonly (readonly [ZooName, ZooInputShape])[] = [
  ...cnnNames.filter((n) => n !== 'vgg16' && n !== 'alexnet').map((n) => [n, [1, 3, 224, 224]] as const),
  ['resnet18', [2, 3, 96, 128]],
  ['googlenet', [1, 3, 97, 97]],
  ['squeezenet1_1', [1, 3, 67, 67]],
  // 415 gives alexnet a 12x12 last feature map: its AdaptiveAvgPool2d(6) becomes a 2x2
  // AveragePool (at 224 it is 1x1; onnxruntime runs that one in ort.test.ts).
  ['alexnet', [1, 3, 415, 415]],
  // The transformers: the small configurations (the big ones are the same code with other sizes).
  ['vit_ti_16', [1, 3, 224, 224]],
  ['vit_ti_16', [2, 3, 64, 64]],
  ['minilm_l6', [1, 128]],
  ['minilm_l6', [2, 16]],
];

// In CI (CI=true) a missing checker fails the test instead of skipping it.
describe.skipIf(!hasOnnx && process.env.CI !== 'true')('onnx.checker (python3-onnx; skipped outside CI if /usr/bin/python3 cannot import onnx) accepts the models', () => {
  const dir = mkdtempSync(join(tmpdir(), 'zoo-checker-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes check_model(full_check=True) for every case', () => {
    expect(hasOnnx, 'python3-onnx is required in CI (CI=true): apt-get install python3-onnx').toBe(true);
    const files = CASES.map(([net, shape], i) => {
      const file = join(dir, `${i}-${net}-${shape.join('x')}.onnx`);
      writeFileSync(file, buildZooModel(net, { inputShape: shape }));
      return file;
    });
    const out = execFileSync(PYTHON, ['-c', CHECK, ...files], { encoding: 'utf8', maxBuffer: 1 << 20 });
    expect(out.trim().split('\n')).toEqual(files.map((f) => `ok ${f}`));
  });
});
