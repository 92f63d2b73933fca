// Inputs for fidelity and calibration: seeded generated tensors, a user's .npy files, or a folder
// of images decoded (PNG, JPEG), resized and normalised; labels from a text file.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import * as ort from 'onnxruntime-node';
import { randomFeeds, type Graph } from '@dnnpart/onnx-graph';
import { AccuracyError } from './errors.js';

/** One sample: a tensor for every model input. */
export type Feeds = Record<string, ort.Tensor>;

/**
 * Integer inputs that are rows of embedding tables (token ids, type ids), each with how many rows its
 * smallest table has (onnx-graph's `token-inputs.ts`, decided when the model was loaded): the sample
 * input, and so every generated sample, draws their ids over those rows but the first, never zeros.
 */
export function tokenInputs(graph: Graph): Map<string, number> {
  return new Map(Object.entries(graph.tokenInputs ?? {}));
}

/**
 * `count` seeded random samples, each the sample input's kind (onnx-graph's `randomFeeds`: uniform in
 * [-1, 1) for float inputs; token ids uniform over their table's rows but the first, the padding id
 * of most vocabularies); sample i uses seed `seed + i`.
 */
export function generatedInputs(graph: Graph, count: number, seed = 1): Feeds[] {
  return Array.from({ length: count }, (_, i) => randomFeeds(graph, seed + i) as Feeds);
}

/** A decoded .npy array. */
export interface NpyArray {
  readonly dtype: 'float32' | 'float64' | 'uint8' | 'int64' | 'int32';
  readonly shape: number[];
  readonly data: Float32Array | Float64Array | Uint8Array | BigInt64Array | Int32Array;
}

const NPY_DTYPES: Record<string, NpyArray['dtype']> = { '<f4': 'float32', '<f8': 'float64', '|u1': 'uint8', '<i8': 'int64', '<i4': 'int32' };

/** Reads a NumPy .npy file (version 1-3, little-endian, C order). */
export function readNpy(file: string): NpyArray {
  if (!existsSync(file)) throw new AccuracyError('ACCURACY_FILE_NOT_FOUND', `${file}: tensor file not found`);
  const b = readFileSync(file);
  const bad = (why: string): never => {
    throw new AccuracyError('ACCURACY_BAD_TENSOR_FILE', `${file}: not a usable .npy file (${why}); save it with numpy.save`);
  };
  if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY') bad('no NUMPY magic');
  const major = b[6]!;
  const headerLen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*True/.test(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || shapeText === undefined) bad('header without descr or shape');
  if (fortran) bad('Fortran order; save a C-ordered array');
  const dtype = NPY_DTYPES[descr!] ?? bad(`dtype ${descr}; use float32, float64, uint8, int32 or int64 (little-endian)`);
  const shape = shapeText!.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const n = shape.reduce((a, c) => a * c, 1);
  const body = b.subarray(start + headerLen);
  const size = { float32: 4, float64: 8, uint8: 1, int64: 8, int32: 4 }[dtype];
  if (body.length !== n * size) bad(`shape [${shape.join(', ')}] needs ${n * size} bytes of data, the file has ${body.length}`);
  const copy = new Uint8Array(body); // aligned copy
  const data = dtype === 'float32' ? new Float32Array(copy.buffer) : dtype === 'float64' ? new Float64Array(copy.buffer)
    : dtype === 'uint8' ? copy : dtype === 'int64' ? new BigInt64Array(copy.buffer) : new Int32Array(copy.buffer);
  return { dtype, shape, data };
}

/**
 * Samples from .npy files for a single-input model: a file holds one sample (the input's shape) or
 * a batch of them (N x the input's shape without its leading 1). Float64 is narrowed to float32.
 */
export function npySamples(graph: Graph, files: readonly string[]): Feeds[] {
  const name = singleInput(graph, 'tensor files');
  const t = graph.tensors.get(name)!;
  const per = t.shape.reduce((a, c) => a * c, 1);
  const out: Feeds[] = [];
  for (const f of files) {
    const a = readNpy(f);
    const isFloat = a.dtype === 'float32' || a.dtype === 'float64';
    if ((t.dtype === 'float32') !== isFloat || (t.dtype !== 'float32' && t.dtype !== a.dtype)) {
      throw new AccuracyError('ACCURACY_DTYPE_MISMATCH', `${f}: holds ${a.dtype}, but input ${name} takes ${t.dtype}`);
    }
    const same = a.shape.length === t.shape.length && a.shape.every((d, i) => d === t.shape[i]);
    const batched = t.shape[0] === 1 && a.shape.length === t.shape.length && a.shape.slice(1).every((d, i) => d === t.shape[i + 1]);
    if (!same && !batched) {
      throw new AccuracyError('ACCURACY_SHAPE_MISMATCH', `${f}: shape [${a.shape.join(', ')}] does not fit input ${name} [${t.shape.join(', ')}] (one sample of that shape, or N samples as [N, ${t.shape.slice(1).join(', ')}])`);
    }
    const count = same ? 1 : a.shape[0]!;
    for (let s = 0; s < count; s++) {
      const slice = a.data.subarray(s * per, (s + 1) * per);
      const data = a.dtype === 'float64' ? Float32Array.from(slice as Float64Array) : slice.slice();
      out.push({ [name]: new ort.Tensor(t.dtype as 'float32', data as Float32Array, t.shape.slice()) });
    }
  }
  return out;
}

/** How images become an NCHW float tensor: x = (pixel / 255 - mean[c]) / std[c]. */
export interface ImageNormalisation {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** ImageNet's mean and standard deviation (torchvision's preprocessing). */
export const IMAGENET: ImageNormalisation = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg']);

/** RGB pixels of a PNG or JPEG file. */
export function decodeImage(file: string): { width: number; height: number; rgba: Uint8Array } {
  const bytes = readFileSync(file);
  try {
    if (extname(file).toLowerCase() === '.png') {
      const p = PNG.sync.read(bytes);
      return { width: p.width, height: p.height, rgba: p.data };
    }
    const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 512 });
    return { width: j.width, height: j.height, rgba: j.data };
  } catch (e) {
    throw new AccuracyError('ACCURACY_BAD_IMAGE', `${file}: cannot decode the image (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
}

/** Bilinear resize of RGBA pixels to an NCHW float tensor of `channels` (1 or 3) x h x w, normalised. */
export function imageTensor(img: { width: number; height: number; rgba: Uint8Array }, shape: readonly number[], norm: ImageNormalisation): Float32Array {
  const [, c, h, w] = shape as [number, number, number, number];
  const out = new Float32Array(c * h * w);
  for (let y = 0; y < h; y++) {
    const sy = Math.max(0, Math.min(img.height - 1, ((y + 0.5) * img.height) / h - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(img.height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.max(0, Math.min(img.width - 1, ((x + 0.5) * img.width) / w - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(img.width - 1, x0 + 1);
      const fx = sx - x0;
      const px = (ch: number) => {
        const at = (yy: number, xx: number) => img.rgba[(yy * img.width + xx) * 4 + ch]!;
        return (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) + (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy;
      };
      for (let k = 0; k < c; k++) {
        // A one-channel input gets the luminance.
        const v = c === 1 ? 0.299 * px(0) + 0.587 * px(1) + 0.114 * px(2) : px(k);
        out[k * h * w + y * w + x] = (v / 255 - norm.mean[k % norm.mean.length]!) / norm.std[k % norm.std.length]!;
      }
    }
  }
  return out;
}

/** Samples from every PNG/JPEG in `dir` (sorted by name) for a single NCHW input. */
export function imageSamples(graph: Graph, dir: string, norm: ImageNormalisation = IMAGENET): { feeds: Feeds[]; files: string[] } {
  const name = singleInput(graph, 'an image folder');
  const t = graph.tensors.get(name)!;
  if (t.dtype !== 'float32' || t.shape.length !== 4 || t.shape[0] !== 1 || (t.shape[1] !== 3 && t.shape[1] !== 1)) {
    throw new AccuracyError('ACCURACY_SHAPE_MISMATCH', `${dir}: images need an input of shape 1x3xHxW or 1x1xHxW float32; input ${name} is ${t.dtype} [${t.shape.join(', ')}]`);
  }
  const files = listFiles(dir).filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()));
  if (files.length === 0) throw new AccuracyError('ACCURACY_FILE_NOT_FOUND', `${dir}: no .npy, .png, .jpg or .jpeg files`);
  const feeds = files.map((f) => ({ [name]: new ort.Tensor('float32', imageTensor(decodeImage(f), t.shape, norm), t.shape.slice()) }));
  return { feeds, files };
}

/** Samples from a directory: its .npy files, else its images. */
export function folderSamples(graph: Graph, dir: string, norm?: ImageNormalisation): { feeds: Feeds[]; files: string[] } {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new AccuracyError('ACCURACY_FILE_NOT_FOUND', `${dir}: not a directory`);
  const npy = listFiles(dir).filter((f) => extname(f).toLowerCase() === '.npy');
  if (npy.length > 0) return { feeds: npySamples(graph, npy), files: npy };
  return imageSamples(graph, dir, norm);
}

/**
 * Labels of samples: one line per sample, either `<class>` in the samples' order or
 * `<file name> <class>`. `files` are the samples' files (for the second form).
 */
export function readLabels(file: string, files: readonly string[], samples: number): number[] {
  if (!existsSync(file)) throw new AccuracyError('ACCURACY_FILE_NOT_FOUND', `${file}: labels file not found`);
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const byName = new Map<string, number>();
  const plain: number[] = [];
  lines.forEach((l, i) => {
    const parts = l.split(/[\s,]+/);
    const v = Number(parts[parts.length - 1]);
    if (!Number.isInteger(v) || v < 0) throw new AccuracyError('ACCURACY_BAD_LABELS', `${file}:${i + 1}: "${l}" does not end in a class index (a non-negative integer)`);
    if (parts.length >= 2) byName.set(parts.slice(0, -1).join(' '), v);
    else plain.push(v);
  });
  if (byName.size > 0) {
    return files.map((f) => {
      const v = byName.get(basename(f)) ?? byName.get(f);
      if (v === undefined) throw new AccuracyError('ACCURACY_BAD_LABELS', `${file}: no label for ${basename(f)}`);
      return v;
    });
  }
  if (plain.length !== samples) throw new AccuracyError('ACCURACY_BAD_LABELS', `${file}: ${plain.length} labels for ${samples} samples; give one per sample`);
  return plain;
}

function listFiles(dir: string): string[] {
  return readdirSync(dir).sort().map((f) => join(dir, f)).filter((f) => statSync(f).isFile());
}

function singleInput(graph: Graph, what: string): string {
  if (graph.inputs.length !== 1) {
    throw new AccuracyError('ACCURACY_BAD_OPTION', `${what} can feed a model with one input; ${graph.name} has ${graph.inputs.length} (${graph.inputs.join(', ')}); use generated inputs`);
  }
  return graph.inputs[0]!;
}
