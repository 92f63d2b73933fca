// Users' inputs: .npy tensors and image folders, with the errors a wrong file gets.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { loadModel, type LoadedModel } from '@dnnpart/onnx-graph';
import { IMAGENET, calibrate, folderSamples, isAccuracyError, npySamples, readLabels, readNpy } from '@dnnpart/accuracy';
import { encode, tinyModel, writeNpy } from './_models.js';

const tmp = mkdtempSync(join(tmpdir(), 'accuracy-inputs-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let model: LoadedModel;
beforeAll(async () => {
  model = await loadModel(encode(tinyModel()));
});

function image(file: string, w: number, h: number, rgb: [number, number, number]): void {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  if (file.endsWith('.png')) {
    const p = new PNG({ width: w, height: h });
    data.copy(p.data);
    writeFileSync(file, PNG.sync.write(p));
  } else writeFileSync(file, jpeg.encode({ data, width: w, height: h }, 100).data);
}

function error(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isAccuracyError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('no error');
}

describe('.npy tensors', () => {
  it('reads one sample, and a batch of N as N samples; float64 narrowed to float32', () => {
    const one = join(tmp, 'one.npy');
    writeNpy(one, '<f4', [1, 3, 8, 8], Float32Array.from({ length: 192 }, (_, i) => i / 192));
    const batch = join(tmp, 'batch.npy');
    writeNpy(batch, '<f8', [5, 3, 8, 8], Float64Array.from({ length: 960 }, (_, i) => i));
    expect(readNpy(one).shape).toEqual([1, 3, 8, 8]);
    const s = npySamples(model.graph, [one, batch]);
    expect(s.length).toBe(6);
    expect(s[0]!.x!.dims).toEqual([1, 3, 8, 8]);
    expect((s[0]!.x!.data as Float32Array)[96]).toBeCloseTo(0.5, 7);
    expect((s[2]!.x!.data as Float32Array)[0]).toBe(192); // batch sample 1 starts at element 192
    expect(s[2]!.x!.type).toBe('float32');
  });

  it.each([
    ['wrong-shape.npy', '<f4', [1, 3, 9, 9], 'ACCURACY_SHAPE_MISMATCH', 'shape [1, 3, 9, 9] does not fit input x [1, 3, 8, 8] (one sample of that shape, or N samples as [N, 3, 8, 8])'],
    ['wrong-dtype.npy', '<i8', [1, 3, 8, 8], 'ACCURACY_DTYPE_MISMATCH', 'holds int64, but input x takes float32'],
    ['wrong-rank.npy', '<f4', [3, 8, 8], 'ACCURACY_SHAPE_MISMATCH', 'shape [3, 8, 8] does not fit input x [1, 3, 8, 8]'],
  ] as const)('%s is refused naming the file and the input', (name, descr, shape, code, message) => {
    const f = join(tmp, name);
    const n = (shape as readonly number[]).reduce((a, b) => a * b, 1);
    writeNpy(f, descr, [...shape], descr === '<i8' ? new BigInt64Array(n) : new Float32Array(n));
    const e = error(() => npySamples(model.graph, [f]));
    expect(e.code).toBe(code);
    expect(e.message).toContain(`${f}: ${message}`);
  });

  it('refuses a file that is not .npy and a truncated one', () => {
    const junk = join(tmp, 'junk.npy');
    writeFileSync(junk, 'hello, not numpy');
    expect(error(() => readNpy(junk))).toEqual({ code: 'ACCURACY_BAD_TENSOR_FILE', message: `${junk}: not a usable .npy file (no NUMPY magic); save it with numpy.save` });
    const short = join(tmp, 'short.npy');
    writeNpy(short, '<f4', [1, 3, 8, 8], new Float32Array(10));
    expect(error(() => readNpy(short)).message).toBe(`${short}: not a usable .npy file (shape [1, 3, 8, 8] needs 768 bytes of data, the file has 40); save it with numpy.save`);
  });

  it('calibration on wrong-shape data fails before anything runs', async () => {
    const dir = join(tmp, 'calib-bad');
    mkdirSync(dir);
    writeNpy(join(dir, 'a.npy'), '<f4', [1, 1, 8, 8], new Float32Array(64));
    const e = error(() => folderSamples(model.graph, dir));
    expect(e.code).toBe('ACCURACY_SHAPE_MISMATCH');
    expect(e.message).toContain(join(dir, 'a.npy'));
  });
});

describe('image folders', () => {
  it('decodes PNG and JPEG, resizes and normalises with ImageNet mean and std, in name order', async () => {
    const dir = join(tmp, 'images');
    mkdirSync(dir);
    image(join(dir, 'b.png'), 20, 10, [255, 0, 128]);
    image(join(dir, 'a.jpg'), 16, 16, [0, 255, 0]);
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const { feeds, files } = folderSamples(model.graph, dir);
    expect(files.map((f) => f.slice(dir.length + 1))).toEqual(['a.jpg', 'b.png']);
    const png = feeds[1]!.x!.data as Float32Array;
    // A uniform image: every pixel of channel c is (v / 255 - mean[c]) / std[c].
    const want = [255, 0, 128].map((v, c) => (v / 255 - IMAGENET.mean[c]!) / IMAGENET.std[c]!);
    for (let c = 0; c < 3; c++) for (const i of [0, 37, 63]) expect(png[c * 64 + i]).toBeCloseTo(want[c]!, 5);
    // JPEG is lossy: within 3 levels of 255 on a flat green.
    expect((feeds[0]!.x!.data as Float32Array)[64]).toBeCloseTo((1 - IMAGENET.mean[1]!) / IMAGENET.std[1]!, 1);
    // And they calibrate: the input's range is the images' (the largest value is the JPEG's green).
    const ranges = await calibrate(model, feeds);
    expect(ranges.get('x')!.max).toBeCloseTo((1 - IMAGENET.mean[1]!) / IMAGENET.std[1]!, 1);
    expect(ranges.get('x')!.min).toBeCloseTo((0 - IMAGENET.mean[0]!) / IMAGENET.std[0]!, 1);
  });

  it('refuses a corrupt image naming it', () => {
    const dir = join(tmp, 'bad-images');
    mkdirSync(dir);
    writeFileSync(join(dir, 'x.png'), 'not a png');
    const e = error(() => folderSamples(model.graph, dir));
    expect(e.code).toBe('ACCURACY_BAD_IMAGE');
    expect(e.message.startsWith(`${join(dir, 'x.png')}: cannot decode the image`)).toBe(true);
  });
});

describe('labels', () => {
  it.each([
    ['plain', '3\n1\n# a comment\n4\n', ['a.png', 'b.png', 'c.png'], [3, 1, 4]],
    ['by file name', 'b.png 7\na.png 2\n', ['/d/a.png', '/d/b.png'], [2, 7]],
  ])('%s', (_, text, files, want) => {
    const f = join(tmp, `labels-${want.join('')}.txt`);
    writeFileSync(f, text);
    expect(readLabels(f, files, files.length)).toEqual(want);
  });

  it.each([
    ['1\n2\n', 3, 'labels.txt: 2 labels for 3 samples; give one per sample'],
    ['1\ncat\n', 2, 'labels.txt:2: "cat" does not end in a class index (a non-negative integer)'],
  ])('refuses %j for %d samples', (text, n, message) => {
    const f = join(tmp, 'labels.txt');
    writeFileSync(f, text);
    const e = error(() => readLabels(f, [], n));
    expect(e.code).toBe('ACCURACY_BAD_LABELS');
    expect(e.message).toBe(join(tmp, message));
  });
});
