import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { externalModels, findExternalModel, type ExternalModel } from '@dnnpart/zoo';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const rootPkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };

// A package missing locally is a skip with its reason; under CI it is a failure (CI installs everything).
function present(m: ExternalModel): boolean {
  if (m.available) return true;
  if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package} is not installed (npm ci installs it)`);
  return false;
}

function feeds(m: ExternalModel, session: ort.InferenceSession): Record<string, ort.Tensor> {
  const out: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    const name = meta.name;
    const shape = m.inputs[name];
    if (!shape) throw new Error(`${m.name}: no shape for input ${name}`);
    const n = shape.reduce((a, b) => a * b, 1);
    const value = m.values[name] ?? Array.from({ length: n }, () => 0);
    const type = meta.isTensor ? meta.type : 'float32';
    // Token ids are 0, fixed values as given (a sample rate, a branch flag); float inputs a wave.
    if (type === 'int64') out[name] = new ort.Tensor('int64', BigInt64Array.from(value.map(BigInt)), [...shape]);
    else if (type === 'bool') out[name] = new ort.Tensor('bool', Uint8Array.from(value), [...shape]);
    else out[name] = new ort.Tensor('float32', Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 0.5), [...shape]);
  }
  return out;
}

// Output shapes at the inputs of the table (from the architectures: det keeps HxW, rec has W/8 steps).
const EXPECTED: Readonly<Record<string, Readonly<Record<string, readonly number[]>>>> = {
  'paddleocr-det': { 'sigmoid_0.tmp_0': [1, 1, 640, 640] },
  'paddleocr-rec': { 'softmax_11.tmp_0': [1, 40, 6625] },
  'paddleocr-cls': { 'softmax_0.tmp_0': [1, 2] },
  'silero-vad': { output: [1, 1], stateN: [2, 1, 128] },
  'silero-vad-op15': { output: [1, 1], stateN: [2, 1, 128] },
  'silero-vad-op18': { output: [1, 1], stateN: [2, 1, 128] },
  // openWakeWord: 96-d embedding of 76 frames; 8 mel frames of 32 bins from 1760 samples (window 512, hop 160).
  'oww-embedding': { conv2d_19: [1, 1, 1, 96] },
  'oww-melspectrogram': { output: [1, 1, 8, 32] },
  // Moonshine tiny: 40 frames of 288 from 1 s of audio; one token's logits over 32,768, and the
  // self-attention cache grown from 8 positions to 9. With the cache, the merged decoder's encoder
  // (cross-attention) outputs are empty placeholders: the caller keeps the cache of the first step.
  'moonshine-encoder': { last_hidden_state: [1, 40, 288] },
  'moonshine-decoder': { logits: [1, 1, 32768], 'present.5.decoder.key': [1, 8, 9, 36], 'present.5.encoder.value': [0, 8, 1, 36] },
  'oww-hey-jarvis': { '53': [1, 1] },
  'silero-vad-v4': { output: [1, 1], hn: [2, 1, 64], cn: [2, 1, 64] },
  // ddddocr: 3,549 boxes (52x52 + 26x26 + 13x13 at 416) of 4 coordinates, objectness and one class;
  // one step per 8 pixels of width (32 at 256) over 8,210 characters. The file declares the
  // recognizer's output [1, seqlen]: onnxruntime warns that it computes [32, 1, 8210].
  'ddddocr-det': { output: [1, 3549, 6] },
  'ddddocr-rec': { '387': [32, 1, 8210] },
  'ddddocr-rec-int8': { '387': [32, 1, 8210] },
};

describe('external models', () => {
  it('lists every model with a pinned source that matches the root devDependencies', () => {
    const models = externalModels();
    expect(models.map((m) => m.name).sort()).toEqual(Object.keys(EXPECTED).sort());
    for (const m of models) {
      expect(rootPkg.devDependencies[m.source.package], m.name).toBe(m.source.version);
      expect(m.file.endsWith(m.source.path), m.name).toBe(true);
      expect(m.file.startsWith('/'), m.name).toBe(true);
    }
  });

  it('finds a model by name and not an unknown one', () => {
    expect(findExternalModel('paddleocr-det')?.exporter).toBe('paddle2onnx');
    expect(findExternalModel('no-such-model')).toBeUndefined();
  });

  it.each(externalModels().map((m) => [m.name, m] as const))('%s runs in onnxruntime at its table shapes', async (name, m) => {
    if (!present(m)) {
      console.warn(`skipped ${name}: ${m.source.package}@${m.source.version} is not installed`);
      return;
    }
    const installed = JSON.parse(readFileSync(join(m.file.slice(0, -m.source.path.length), 'package.json'), 'utf8')) as { version: string };
    expect(installed.version).toBe(m.source.version);
    const session = await ort.InferenceSession.create(m.file, { logSeverityLevel: 3 });
    try {
      const result = await session.run(feeds(m, session));
      const expected = EXPECTED[name] ?? {};
      for (const [out, shape] of Object.entries(expected)) {
        const t = result[out];
        expect(t?.dims, `${name} ${out}`).toEqual(shape);
        expect(Array.from(t!.data as Float32Array).every(Number.isFinite), `${name} ${out} finite`).toBe(true);
      }
    } finally {
      await session.release();
    }
  });
});
