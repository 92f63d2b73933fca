// A model whose weights come near protobuf's 2 GB (onnxruntime takes no larger model as bytes) goes
// to onnxruntime as a file with its weights beside it, in profile, split, verify and accuracy. The
// threshold is lowered (DNNPART_EXTERNAL_DATA_ABOVE) so that SqueezeNet's 4.9 MB of weights take the
// path a 2.4 GB model takes (bench/results/large-models.md); every figure must match the same
// commands run the usual way.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from './_run.js';

let dir: string;
const SYSTEM = ['version: 1', 'name: large', 'model: { file: sq.onnx }', 'boards:', '  - { id: here, profile: here.json }', '  - { id: rpi5, describe: raspberry-pi-5 }', 'network: ethernet-1000base-t', 'objective: throughput', ''].join('\n');

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-large-'));
  expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '-o', 'sq.onnx', '-q'], { cwd: dir })).code).toBe(0);
  writeFileSync(path.join(dir, 'system.yaml'), SYSTEM);
  // A two-stage cut (whatever a solver would choose), so that both stages go through.
  const order = (JSON.parse((await run(['inspect', 'sq.onnx', '--json'], { cwd: dir })).stdout) as { layers: { name: string }[] }).layers.map((l) => l.name);
  const cut = { stages: [{ board: 'here', nodes: order.slice(0, 30) }, { board: 'rpi5', nodes: order.slice(30) }] };
  writeFileSync(path.join(dir, 'cut.json'), JSON.stringify(cut));
});
afterAll(() => {
  delete process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
  rmSync(dir, { recursive: true, force: true });
});

describe('a model over the threshold for external data', () => {
  it('profile, split, verify and accuracy run it from files with its weights beside them, and leave no file behind', async () => {
    process.env['DNNPART_EXTERNAL_DATA_ABOVE'] = '100000';
    const tmpBefore = new Set(readdirSync(os.tmpdir()));
    try {
      const profile = await run(['profile', 'sq.onnx', '--board', 'here', '--runs', '3', '--warmup', '1', '--threads', '1', '--boundary', 'default', '-o', 'here.json', '-q'], { cwd: dir });
      expect({ code: profile.code, stderr: profile.stderr }).toEqual({ code: 0, stderr: '' });
      const p = JSON.parse(readFileSync(path.join(dir, 'here.json'), 'utf8')) as { nodes: { name: string }[]; endToEnd: { medianMs: number } };
      expect(p.endToEnd.medianMs).toBeGreaterThan(0);
      expect(p.nodes.length).toBeGreaterThan(30);

      const split = await run(['split', 'sq.onnx', '--plan', 'cut.json', '-o', 'stages', '-q'], { cwd: dir });
      expect({ code: split.code, stderr: split.stderr }).toEqual({ code: 0, stderr: '' });
      // Both stages hold over 100 kB of weights: each beside its data file.
      for (const k of [0, 1]) expect(existsSync(path.join(dir, 'stages', `stage-${k}.onnx.data`))).toBe(true);

      const verify = await run(['verify', '--plan', 'cut.json', '--system', 'system.yaml', '--runs', '3', '--warmup', '1', '--frames', '4', '--json', '-q'], { cwd: dir });
      expect({ code: verify.code, stderr: verify.stderr }).toEqual({ code: 0, stderr: '' });
      const v = JSON.parse(verify.stdout) as { stages: { measuredMs: number; measuredMemory?: unknown }[]; reference?: { measuredMs: number }; pipeline: { frames: number } };
      expect(v.stages).toHaveLength(2);
      for (const s of v.stages) expect(s.measuredMs).toBeGreaterThan(0);
      expect(v.reference?.measuredMs).toBeGreaterThan(0);
      expect(v.pipeline.frames).toBe(4);

      const scores: Record<string, number> = {};
      for (const precision of ['int8', 'fp16']) {
        const a = await run(['accuracy', '--model', 'sq.onnx', '--plan', 'cut.json', '--stage-precision', precision, '--samples', '3', '--json', '-q'], { cwd: dir });
        expect({ precision, code: a.code, stderr: a.stderr }).toEqual({ precision, code: 0, stderr: '' });
        scores[precision] = (JSON.parse(a.stdout) as { cosine: number }).cosine;
      }
      // The same scores as from bytes: the file holds the same model.
      delete process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
      for (const precision of ['int8', 'fp16']) {
        const a = await run(['accuracy', '--model', 'sq.onnx', '--plan', 'cut.json', '--stage-precision', precision, '--samples', '3', '--json', '-q'], { cwd: dir });
        expect((JSON.parse(a.stdout) as { cosine: number }).cosine).toBe(scores[precision]);
      }
      // Every model file written for onnxruntime is gone.
      expect(readdirSync(os.tmpdir()).filter((f) => f.startsWith('dnnpart-models-') && !tmpBefore.has(f))).toEqual([]);
    } finally {
      delete process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
    }
  });

  it('accuracy writes such models where it can and says so in one line where it cannot (TMPDIR under a file)', async () => {
    writeFileSync(path.join(dir, 'afile'), 'x');
    const tmpdir = process.env['TMPDIR'];
    process.env['DNNPART_EXTERNAL_DATA_ABOVE'] = '100000';
    process.env['TMPDIR'] = path.join(dir, 'afile', 'tmp');
    try {
      const a = await run(['accuracy', '--model', 'sq.onnx', '--plan', 'cut.json', '--stage-precision', 'fp16', '--samples', '2', '-q'], { cwd: dir });
      expect(a.code).toBe(2);
      expect(a.stderr).toMatch(/^dnnpart: stage 0 \(fp16\): cannot write it with its weights beside it for onnxruntime: ENOTDIR: not a directory, mkdtemp '.*afile\/tmp\/dnnpart-models-\w+'\n$/);
    } finally {
      if (tmpdir === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = tmpdir;
      delete process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
    }
  });

  it('a temporary directory that cannot be made: one line naming TMPDIR and why', async () => {
    writeFileSync(path.join(dir, 'afile'), 'x');
    const tmpdir = process.env['TMPDIR'];
    process.env['TMPDIR'] = path.join(dir, 'afile', 'tmp');
    try {
      const r = await run(['split', 'sq.onnx', '--plan', 'cut.json', '-o', 'stages3'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`dnnpart: cannot make a temporary directory in ${path.join(dir, 'afile', 'tmp')} (not a directory); set TMPDIR to a writable directory\n`);
    } finally {
      if (tmpdir === undefined) delete process.env['TMPDIR'];
      else process.env['TMPDIR'] = tmpdir;
    }
  });

  it('a threshold that is not a number of bytes: one line naming the variable', async () => {
    process.env['DNNPART_EXTERNAL_DATA_ABOVE'] = 'lots';
    try {
      const r = await run(['split', 'sq.onnx', '--plan', 'cut.json', '-o', 'stages2'], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toBe('dnnpart: DNNPART_EXTERNAL_DATA_ABOVE=lots: give a whole number of bytes (default 1610612736)\n');
    } finally {
      delete process.env['DNNPART_EXTERNAL_DATA_ABOVE'];
    }
  });
});
