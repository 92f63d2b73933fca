// Model files with their weights beside them (model-file.ts): what onnxruntime needs for a model
// whose weights come near protobuf's 2 GB. The threshold is a parameter, so small models test the
// same path the 2.4 GB one of bench/results/big-model.md takes.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { ModelProtoSchema } from 'onnx-buf';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel, loadModel, splitModel, weightBytes, writeModelFile, writeSplit } from '@dnnpart/onnx-graph';
import { chain } from './_models.js';

const tmp = mkdtempSync(join(tmpdir(), 'onnx-graph-model-file-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const x = new ort.Tensor('float32', Float32Array.from({ length: 3 * 8 * 8 }, (_, i) => Math.sin(i)), [1, 3, 8, 8]);
async function run(source: string | Uint8Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(source as string, { logSeverityLevel: 4 });
  try {
    return (await s.run({ x }))['y']!.data as Float32Array;
  } finally {
    await s.release();
  }
}

describe('writeModelFile', () => {
  it('under the threshold: one file, the encoded proto', async () => {
    const m = await loadModel(chain().bytes());
    const file = join(tmp, 'small.onnx');
    expect(writeModelFile(m.proto, file)).toEqual([file]);
    expect(new Uint8Array(readFileSync(file))).toEqual(encodeModel(m.proto));
  });

  it('over it: weights of 1 kB or more in <file>.data at page offsets, the rest inline; onnxruntime reads it by path to the same outputs; the proto is untouched', async () => {
    const m = await loadModel(chain().bytes());
    const before = encodeModel(m.proto);
    const file = join(tmp, 'ext.onnx');
    expect(writeModelFile(m.proto, file, 0)).toEqual([file, `${file}.data`]);
    expect(encodeModel(m.proto)).toEqual(before);
    const written = fromBinary(ModelProtoSchema, readFileSync(file));
    const external = written.graph!.initializer.filter((t) => t.dataLocation === 1);
    // fc.weight (10x64 float32, 2560 B) goes out; the conv's 432 B, the biases stay.
    expect(external.map((t) => t.name)).toEqual(['fc.weight']);
    const kv = Object.fromEntries(external[0]!.externalData.map((e) => [e.key, e.value]));
    expect(kv).toEqual({ location: 'ext.onnx.data', offset: '0', length: '2560' });
    expect(statSync(`${file}.data`).size).toBe(2560);
    expect(weightBytes(written)).toBe(weightBytes(m.proto) - 2560);
    expect(await run(file)).toEqual(await run(before));
  });

  it('a split whose stages pass the threshold: each stage file beside its data file, and each runs as the stages do from bytes', async () => {
    const m = await loadModel(chain().bytes());
    const split = splitModel(m, { after: ['pool'] });
    const dir = join(tmp, 'stages');
    writeSplit(split, dir, 0);
    expect(existsSync(join(dir, 'stage-1.onnx.data'))).toBe(true);
    // stage 0 (conv, relu, pool) holds no weight of 1 kB: no data file.
    expect(existsSync(join(dir, 'stage-0.onnx.data'))).toBe(false);
    const s1 = await ort.InferenceSession.create(join(dir, 'stage-1.onnx'), { logSeverityLevel: 4 });
    const s1b = await ort.InferenceSession.create(split.stages[1]!.bytes, { logSeverityLevel: 4 });
    const pool = new ort.Tensor('float32', Float32Array.from({ length: 64 }, (_, i) => Math.cos(i)), [1, 4, 4, 4]);
    expect((await s1.run({ pool }))['y']!.data).toEqual((await s1b.run({ pool }))['y']!.data);
    await s1.release();
    await s1b.release();
  });
});
