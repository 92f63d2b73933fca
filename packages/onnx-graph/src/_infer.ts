// Static shape inference for the ops torchvision-style exports use, with constant propagation of
// small integer tensors (Shape -> Gather -> Unsqueeze -> Concat -> Reshape chains). Pure; an op it
// does not know yields "unknown" and the caller falls back to value_info or one ORT run.
import { GraphError } from './errors.js';
import { DTYPE_BY_ONNX, MAX_ELEMENTS, numel } from './_proto.js';
import { einsumIndices } from './_einsum.js';
import type { AttributeValue, DType, TensorValue } from './types.js';

/** What inference knows about one tensor; `value` holds the row-major contents of small constants. */
export interface Info {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly value?: readonly number[];
}

/** The node as inference sees it. */
export interface InferNode {
  readonly name: string;
  readonly op: string;
  readonly domain: string;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** Thrown inside a handler when a needed input or constant is not known; caught by `inferNode`. */
class Unknown extends Error {}
const unknown = (): never => { throw new Unknown(); };

/**
 * Computed values up to this many elements are propagated, floats too (computed exactly: see
 * roundTo), so that constant work folds as onnxruntime's constant folding does it: an attention
 * mask made from fixed lengths (torchaudio's Conformer: a Where of float32's minimum and 0 over 200
 * frames, then scaled) or a detector's anchors for a fixed image size (torchvision's SSDLite: 3,234
 * boxes) become initializers, not branches beside the network that widen its DAG.
 */
const MAX_VALUE = 1 << 16;
/** Initializers whose contents shape inference reads as values: up to this many elements (most weights are larger). */
const MAX_CONST_VALUE = 4096;

interface Ctx {
  readonly node: InferNode;
  readonly opset: number;
  readonly ins: readonly (Info | undefined)[];
}

const bad = (c: Ctx, why: string): never => {
  throw new GraphError('GRAPH_SHAPE_INFERENCE', `node ${c.node.name} (${c.node.op}): ${why}`);
};

function input(c: Ctx, i: number): Info {
  return c.ins[i] ?? unknown();
}
function has(c: Ctx, i: number): boolean {
  return (c.node.inputs[i] ?? '') !== '';
}
function val(c: Ctx, i: number): readonly number[] {
  return input(c, i).value ?? unknown();
}
function attrInt(c: Ctx, name: string, dflt: number): number {
  const a = c.node.attributes[name];
  return typeof a === 'number' ? a : dflt;
}
function attrInts(c: Ctx, name: string): number[] | undefined {
  const a = c.node.attributes[name];
  return Array.isArray(a) ? (a as number[]).map(Number) : undefined;
}
function attrStr(c: Ctx, name: string, dflt: string): string {
  const a = c.node.attributes[name];
  return typeof a === 'string' ? a : dflt;
}
function axis(c: Ctx, a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) bad(c, `axis ${a} out of range for rank ${rank}`);
  return r;
}
function withValue(dtype: DType, shape: number[], value: number[] | undefined): Info {
  return value !== undefined && value.length <= MAX_VALUE ? { dtype, shape, value } : { dtype, shape };
}

/** Numpy broadcasting of several shapes. */
export function broadcast(shapes: readonly (readonly number[])[], c?: Ctx): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (d === 1) continue;
      if (out[o] === 1) out[o] = d;
      else if (out[o] !== d) {
        if (c) bad(c, `cannot broadcast shapes ${shapes.map((x) => `[${x.join(',')}]`).join(' and ')}`);
        throw new GraphError('GRAPH_SHAPE_INFERENCE', `cannot broadcast shapes`);
      }
    }
  }
  return out;
}

/** Values of an elementwise op on `a` and `b` broadcast to `shape` (numpy rules). */
function binaryValue(a: Info, b: Info, shape: readonly number[], f: (x: number, y: number) => number): number[] | undefined {
  if (!a.value || !b.value) return undefined;
  const n = numel(shape);
  if (n > MAX_VALUE) return undefined;
  // Each as it is (its shape the output's, or one element), else broadcast out.
  const fit = (x: Info) => (x.value!.length === 1 || x.shape.join() === shape.join() ? x.value! : broadcastValue(x, shape));
  const av = fit(a);
  const bv = fit(b);
  if (!av || !bv) return undefined;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(f(av[av.length === 1 ? 0 : i]!, bv[bv.length === 1 ? 0 : i]!));
  return out;
}

const isInt = (d: DType) => d !== 'float32' && d !== 'float64' && d !== 'float16' && d !== 'bfloat16';

/** Values converted as ONNX Cast converts them, or undefined where this package does not model the conversion exactly. */
function castValues(v: readonly number[], to: DType): number[] | undefined {
  switch (to) {
    // Past 2^53 a double no longer holds the integer exactly: left unknown rather than folded wrong.
    case 'int64': case 'int32': return v.every((x) => Number.isSafeInteger(Math.trunc(x))) ? v.map(Math.trunc) : undefined;
    case 'bool': return v.map((x) => (x !== 0 ? 1 : 0));
    // float32 rounding of a double is exact to what a float32 Cast gives; float64 keeps the number.
    case 'float32': return v.map(Math.fround);
    case 'float64': return v.slice();
    default: return undefined;
  }
}

/** Rounds a computed value to what the dtype holds: float32 rounding (exact for + - * /), int truncation. */
function roundTo(dtype: DType, x: number): number {
  return dtype === 'float32' ? Math.fround(x) : x;
}

const BINARY: Record<string, (x: number, y: number) => number> = {
  Add: (x, y) => x + y, Sub: (x, y) => x - y, Mul: (x, y) => x * y,
  Div: (x, y) => (y === 0 ? NaN : x / y), Max: Math.max, Min: Math.min,
  // fmod=1 (C fmod, sign of the dividend; JS % is exact); fmod=0 is chosen below for integers.
  Mod: (x, y) => (y === 0 ? NaN : x % y),
};
/** Integer Mod with fmod=0: the sign of the divisor, as Python's % (torch.onnx writes it for `a % b`). */
const floorMod = (x: number, y: number) => (y === 0 ? NaN : ((x % y) + y) % y);
/**
 * Unary ops whose float32/float64 results JS computes exactly as IEEE does (sqrt is correctly
 * rounded; the rest are exact), so a folded value equals onnxruntime's.
 */
const UNARY_VALUE: Record<string, (x: number) => number> = {
  Sqrt: (x) => (x < 0 ? NaN : Math.sqrt(x)), Neg: (x) => -x, Abs: Math.abs, Floor: Math.floor, Ceil: Math.ceil,
  Reciprocal: (x) => (x === 0 ? NaN : 1 / x), Relu: (x) => Math.max(0, x), Sign: Math.sign,
};
/** Integer ops that are exact only on integer inputs. */
const INT_ONLY = new Set(['Pow']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor']);
const UNARY_SAME = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh',
  'Softplus', 'Softsign', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Reciprocal', 'Floor', 'Ceil', 'Round',
  'Erf', 'Gelu', 'Mish', 'Sin', 'Cos', 'Sign', 'Clip', 'LRN', 'Softmax', 'LogSoftmax', 'Hardmax',
  'InstanceNormalization', 'MeanVarianceNormalization', 'ThresholdedRelu', 'Shrink', 'CumSum',
]);

/** Spatial output sizes for Conv and pooling. */
function windowOut(c: Ctx, spatial: readonly number[], kernel: readonly number[], ceil: boolean): number[] {
  const n = spatial.length;
  if (kernel.length !== n) bad(c, `kernel rank ${kernel.length} does not match input spatial rank ${n}`);
  const strides = attrInts(c, 'strides') ?? new Array<number>(n).fill(1);
  const dil = attrInts(c, 'dilations') ?? new Array<number>(n).fill(1);
  const autoPad = attrStr(c, 'auto_pad', 'NOTSET');
  const pads = attrInts(c, 'pads') ?? new Array<number>(2 * n).fill(0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const s = strides[i] ?? 1;
    const d = dil[i] ?? 1;
    const k = (kernel[i]! - 1) * d + 1;
    const x = spatial[i]!;
    if (s <= 0) bad(c, `stride ${s}`);
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      out.push(Math.ceil(x / s));
      continue;
    }
    const p = autoPad === 'VALID' ? 0 : (pads[i] ?? 0) + (pads[i + n] ?? 0);
    const span = x + p - k;
    if (span < 0) bad(c, `window ${k} larger than padded input ${x + p}`);
    let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    // With ceil_mode a window that would start inside the right padding is dropped (ONNX 19 / PyTorch rule).
    if (ceil && (o - 1) * s >= x + (autoPad === 'VALID' ? 0 : pads[i] ?? 0)) o -= 1;
    out.push(o);
  }
  return out;
}

/** Resolved axes list (negative allowed) from attribute or input `idx` (opset dependent). */
function axesOf(c: Ctx, idx: number, rank: number): number[] | undefined {
  const fromAttr = attrInts(c, 'axes');
  if (fromAttr) return fromAttr.map((a) => axis(c, a, rank));
  if (has(c, idx)) return val(c, idx).map((a) => axis(c, a, rank));
  return undefined;
}

function sliceDims(c: Ctx, shape: readonly number[], starts: readonly number[], ends: readonly number[], axes: readonly number[] | undefined, steps: readonly number[] | undefined): { out: number[]; ranges: [number, number, number][] } {
  const out = shape.slice();
  const ranges: [number, number, number][] = shape.map((d) => [0, d, 1]);
  for (let j = 0; j < starts.length; j++) {
    const a = axis(c, axes ? axes[j]! : j, shape.length);
    const dim = shape[a]!;
    const step = steps ? steps[j]! : 1;
    if (step === 0) bad(c, 'slice step 0');
    let s = starts[j]!;
    let e = ends[j]!;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), dim);
      e = Math.min(Math.max(e, 0), dim);
      out[a] = Math.max(0, Math.ceil((e - s) / step));
    } else {
      s = Math.min(Math.max(s, 0), dim - 1);
      e = Math.min(Math.max(e, -1), dim - 1);
      out[a] = Math.max(0, Math.ceil((e - s) / step));
    }
    ranges[a] = [s, e, step];
  }
  return { out, ranges };
}

/** Row-major strides of a shape. */
function strides(shape: readonly number[]): number[] {
  return shape.map((_, i) => numel(shape.slice(i + 1)));
}

/** Values of an output whose element at index o reads the input at index src(o[a], a) on each axis a. */
function gatherIndices(inShape: readonly number[], outShape: readonly number[], src: (o: number, axis: number) => number, value: readonly number[]): number[] | undefined {
  const n = numel(outShape);
  if (n > MAX_VALUE) return undefined;
  const st = strides(inShape);
  const idx = new Array<number>(outShape.length).fill(0);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let a = 0; a < idx.length; a++) off += src(idx[a]!, a) * st[a]!;
    out.push(value[off]!);
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a]! < outShape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Values of a transpose: output axis a is input axis perm[a]. */
function gatherIndicesPerm(inShape: readonly number[], outShape: readonly number[], perm: readonly number[], value: readonly number[]): number[] | undefined {
  const n = numel(outShape);
  if (n > MAX_VALUE) return undefined;
  const st = strides(inShape);
  const idx = new Array<number>(outShape.length).fill(0);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    let off = 0;
    for (let a = 0; a < idx.length; a++) off += idx[a]! * st[perm[a]!]!;
    out.push(value[off]!);
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a]! < outShape[a]!) break;
      idx[a] = 0;
    }
  }
  return out;
}

/** Values of `x` broadcast (numpy rules) to `shape`, or undefined when too large or not broadcastable. */
function broadcastValue(x: Info, shape: readonly number[]): number[] | undefined {
  if (!x.value || x.shape.length > shape.length) return undefined;
  const inShape = [...new Array<number>(shape.length - x.shape.length).fill(1), ...x.shape];
  if (inShape.some((d, i) => d !== 1 && d !== shape[i])) return undefined;
  return gatherIndices(inShape, shape, (o, a) => (inShape[a] === 1 ? 0 : o), x.value);
}

type Handler = (c: Ctx) => (Info | undefined)[];

const same: Handler = (c) => {
  const x = input(c, 0);
  return [{ dtype: x.dtype, shape: x.shape }];
};

const HANDLERS: Record<string, Handler> = {
  Identity: (c) => [input(c, 0)],
  Dropout: (c) => {
    const x = input(c, 0);
    return [{ dtype: x.dtype, shape: x.shape }, { dtype: 'bool', shape: x.shape }];
  },
  Cast: (c) => {
    const x = input(c, 0);
    const to = DTYPE_BY_ONNX.get(attrInt(c, 'to', 1)) ?? bad(c, 'unsupported Cast target');
    return [withValue(to, x.shape.slice(), x.value ? castValues(x.value, to) : undefined)];
  },
  Constant: (c) => {
    const a = c.node.attributes;
    const t = a['value'];
    if (t && typeof t === 'object' && 'tensor' in t) return [tensorInfo(t.tensor)];
    if (typeof a['value_float'] === 'number') return [{ dtype: 'float32', shape: [] }];
    if (typeof a['value_int'] === 'number') return [{ dtype: 'int64', shape: [], value: [a['value_int']] }];
    if (Array.isArray(a['value_floats'])) return [{ dtype: 'float32', shape: [(a['value_floats'] as number[]).length] }];
    if (Array.isArray(a['value_ints'])) {
      const v = (a['value_ints'] as number[]).map(Number);
      return [withValue('int64', [v.length], v)];
    }
    return unknown();
  },
  Shape: (c) => {
    const x = input(c, 0);
    const r = x.shape.length;
    const norm = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
    const v = x.shape.slice(norm(attrInt(c, 'start', 0)), norm(attrInt(c, 'end', r)));
    return [{ dtype: 'int64', shape: [v.length], value: v }];
  },
  Size: (c) => [{ dtype: 'int64', shape: [], value: [numel(input(c, 0).shape)] }],
  Gather: (c) => {
    const x = input(c, 0);
    const idx = input(c, 1);
    const a = axis(c, attrInt(c, 'axis', 0), x.shape.length);
    const shape = [...x.shape.slice(0, a), ...idx.shape, ...x.shape.slice(a + 1)];
    let value: number[] | undefined;
    if (x.value && idx.value && numel(shape) <= MAX_VALUE) {
      // out[pre, j, post] = x[pre, idx[j], post]
      const pre = numel(x.shape.slice(0, a));
      const post = numel(x.shape.slice(a + 1));
      const dim = x.shape[a]!;
      value = [];
      for (let p = 0; p < pre; p++) {
        for (const i0 of idx.value) {
          const i = i0 < 0 ? i0 + dim : i0;
          for (let q = 0; q < post; q++) value.push(i >= 0 && i < dim ? x.value[(p * dim + i) * post + q]! : NaN);
        }
      }
      if (value.some((v) => Number.isNaN(v))) value = undefined;
    }
    return [withValue(x.dtype, shape, value)];
  },
  Unsqueeze: (c) => {
    const x = input(c, 0);
    const axesRaw = attrInts(c, 'axes') ?? (has(c, 1) ? val(c, 1).slice() : bad(c, 'no axes'));
    const rank = x.shape.length + axesRaw.length;
    const axes = axesRaw.map((a) => axis(c, a, rank)).sort((p, q) => p - q);
    const shape = x.shape.slice();
    for (const a of axes) shape.splice(a, 0, 1);
    return [withValue(x.dtype, shape, x.value?.slice())];
  },
  Squeeze: (c) => {
    const x = input(c, 0);
    const axes = axesOf(c, 1, x.shape.length);
    const shape = x.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
    if (axes?.some((a) => x.shape[a] !== 1)) bad(c, `squeezing a dimension that is not 1 in [${x.shape.join(',')}]`);
    return [withValue(x.dtype, shape, x.value?.slice())];
  },
  Concat: (c) => {
    const xs = c.node.inputs.map((_, i) => input(c, i));
    const first = xs[0] ?? bad(c, 'no inputs');
    const a = axis(c, attrInt(c, 'axis', 0), first.shape.length);
    const shape = first.shape.slice();
    shape[a] = 0;
    for (const x of xs) {
      if (x.shape.length !== first.shape.length) bad(c, 'inputs of different rank');
      x.shape.forEach((d, i) => {
        if (i !== a && d !== first.shape[i]) bad(c, `input shapes [${first.shape.join(',')}] and [${x.shape.join(',')}] differ off the concat axis`);
      });
      shape[a]! += x.shape[a]!;
    }
    let value: number[] | undefined;
    if (xs.every((x) => x.value) && numel(shape) <= MAX_VALUE) {
      // Blocks of each input along the axis, interleaved per outer index.
      const pre = numel(first.shape.slice(0, a));
      value = [];
      for (let p = 0; p < pre; p++) {
        for (const x of xs) {
          const block = numel(x.shape.slice(a));
          value.push(...x.value!.slice(p * block, (p + 1) * block));
        }
      }
    }
    return [withValue(first.dtype, shape, value)];
  },
  Reshape: (c) => {
    const x = input(c, 0);
    const target = has(c, 1) ? val(c, 1) : attrInts(c, 'shape') ?? bad(c, 'no shape');
    const allowZero = attrInt(c, 'allowzero', 0) === 1;
    const shape = target.map((d, i) => (d === 0 && !allowZero ? x.shape[i] ?? bad(c, 'copy of a missing dim') : d));
    const neg = shape.indexOf(-1);
    if (neg >= 0) {
      const rest = numel(shape.filter((_, i) => i !== neg));
      if (rest === 0 || numel(x.shape) % rest !== 0) bad(c, `cannot reshape [${x.shape.join(',')}] to [${target.join(',')}]`);
      shape[neg] = numel(x.shape) / rest;
    }
    if (numel(shape) !== numel(x.shape) || shape.some((d) => d < 0)) bad(c, `cannot reshape [${x.shape.join(',')}] to [${target.join(',')}]`);
    return [withValue(x.dtype, shape, x.value?.slice())];
  },
  Flatten: (c) => {
    const x = input(c, 0);
    const r = x.shape.length;
    let a = attrInt(c, 'axis', 1);
    if (a < 0) a += r;
    if (a < 0 || a > r) bad(c, `axis out of range`);
    return [withValue(x.dtype, [numel(x.shape.slice(0, a)), numel(x.shape.slice(a))], x.value?.slice())];
  },
  Transpose: (c) => {
    const x = input(c, 0);
    const perm = attrInts(c, 'perm') ?? x.shape.map((_, i) => x.shape.length - 1 - i);
    if (perm.length !== x.shape.length) bad(c, 'perm rank mismatch');
    const shape = perm.map((p) => x.shape[p] ?? bad(c, 'bad perm'));
    // Output index k along axis a is input index k along axis perm[a].
    const value = x.value ? gatherIndicesPerm(x.shape, shape, perm, x.value) : undefined;
    return [withValue(x.dtype, shape, value)];
  },
  Conv: (c) => {
    const x = input(c, 0);
    const w = input(c, 1);
    const g = attrInt(c, 'group', 1);
    if (x.shape.length < 3 || w.shape.length !== x.shape.length) bad(c, `input rank ${x.shape.length} and weight rank ${w.shape.length}`);
    if (w.shape[1]! * g !== x.shape[1]) bad(c, `weight expects ${w.shape[1]! * g} input channels, input has ${x.shape[1]}`);
    const kernel = attrInts(c, 'kernel_shape') ?? w.shape.slice(2);
    return [{ dtype: x.dtype, shape: [x.shape[0]!, w.shape[0]!, ...windowOut(c, x.shape.slice(2), kernel, false)] }];
  },
  ConvTranspose: (c) => {
    const x = input(c, 0);
    const w = input(c, 1);
    const g = attrInt(c, 'group', 1);
    const n = x.shape.length - 2;
    const kernel = attrInts(c, 'kernel_shape') ?? w.shape.slice(2);
    const outShape = attrInts(c, 'output_shape');
    let spatial: number[];
    if (outShape) spatial = outShape.slice(-n);
    else {
      const strides = attrInts(c, 'strides') ?? new Array<number>(n).fill(1);
      const dil = attrInts(c, 'dilations') ?? new Array<number>(n).fill(1);
      const pads = attrInts(c, 'pads') ?? new Array<number>(2 * n).fill(0);
      const outPad = attrInts(c, 'output_padding') ?? new Array<number>(n).fill(0);
      const autoPad = attrStr(c, 'auto_pad', 'NOTSET');
      spatial = x.shape.slice(2).map((d, i) => {
        const s = strides[i] ?? 1;
        if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return d * s;
        return s * (d - 1) + (outPad[i] ?? 0) + ((kernel[i]! - 1) * (dil[i] ?? 1) + 1) - (pads[i] ?? 0) - (pads[i + n] ?? 0);
      });
    }
    return [{ dtype: x.dtype, shape: [x.shape[0]!, w.shape[1]! * g, ...spatial] }];
  },
  MaxPool: (c) => {
    const x = input(c, 0);
    const kernel = attrInts(c, 'kernel_shape') ?? bad(c, 'no kernel_shape');
    const shape = [x.shape[0]!, x.shape[1]!, ...windowOut(c, x.shape.slice(2), kernel, attrInt(c, 'ceil_mode', 0) === 1)];
    return [{ dtype: x.dtype, shape }, { dtype: 'int64', shape }];
  },
  AveragePool: (c) => {
    const x = input(c, 0);
    const kernel = attrInts(c, 'kernel_shape') ?? bad(c, 'no kernel_shape');
    return [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...windowOut(c, x.shape.slice(2), kernel, attrInt(c, 'ceil_mode', 0) === 1)] }];
  },
  GlobalAveragePool: (c) => {
    const x = input(c, 0);
    return [{ dtype: x.dtype, shape: [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)] }];
  },
  Gemm: (c) => {
    const a = input(c, 0);
    const b = input(c, 1);
    if (a.shape.length !== 2 || b.shape.length !== 2) bad(c, 'Gemm needs 2-D inputs');
    const [m, ka] = attrInt(c, 'transA', 0) ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
    const [kb, n] = attrInt(c, 'transB', 0) ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
    if (ka !== kb) bad(c, `inner dimensions ${ka} and ${kb} differ`);
    return [{ dtype: a.dtype, shape: [m, n] }];
  },
  MatMul: (c) => {
    const a = input(c, 0);
    const b = input(c, 1);
    return [{ dtype: a.dtype, shape: matmulShape(c, a.shape, b.shape) }];
  },
  BatchNormalization: (c) => {
    const x = input(c, 0);
    return [{ dtype: x.dtype, shape: x.shape }, ...c.node.outputs.slice(1).map(() => ({ dtype: x.dtype, shape: [x.shape[1]!] }))];
  },
  LayerNormalization: (c) => {
    const x = input(c, 0);
    return [{ dtype: x.dtype, shape: x.shape }];
  },
  Pad: (c) => {
    const x = input(c, 0);
    const pads = has(c, 1) ? val(c, 1) : attrInts(c, 'pads') ?? bad(c, 'no pads');
    const r = x.shape.length;
    const axes = has(c, 3) ? val(c, 3).map((a) => axis(c, a, r)) : x.shape.map((_, i) => i);
    const shape = x.shape.slice();
    axes.forEach((a, j) => { shape[a]! += (pads[j] ?? 0) + (pads[j + axes.length] ?? 0); });
    return [{ dtype: x.dtype, shape }];
  },
  Split: (c) => {
    const x = input(c, 0);
    const a = axis(c, attrInt(c, 'axis', 0), x.shape.length);
    const k = c.node.outputs.length;
    let parts = attrInts(c, 'split') ?? (has(c, 1) ? val(c, 1).slice() : undefined);
    if (!parts) {
      const d = x.shape[a]!;
      const each = Math.ceil(d / k);
      parts = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(each, d - i * each)));
    }
    if (parts.length !== k || parts.reduce((s, p) => s + p, 0) !== x.shape[a]) bad(c, `split sizes [${parts.join(',')}] do not sum to ${x.shape[a]}`);
    let offset = 0;
    return parts.map((p) => {
      const shape = x.shape.slice();
      shape[a] = p;
      const from = offset;
      offset += p;
      return withValue(x.dtype, shape, x.value ? gatherIndices(x.shape, shape, (o, ax) => (ax === a ? o + from : o), x.value) : undefined);
    });
  },
  ScatterND: (c) => {
    const [x, idx, upd] = [input(c, 0), input(c, 1), input(c, 2)];
    // Values (a copy of the data with the updates written in: exact) when all three are known and nothing is reduced.
    let value: number[] | undefined;
    const k = idx.shape.at(-1) ?? 0;
    if (x.value && idx.value && upd.value && attrStr(c, 'reduction', 'none') === 'none' && k <= x.shape.length) {
      const out = x.value.slice();
      const st = strides(x.shape);
      const slice = numel(x.shape.slice(k));
      const updates = numel(idx.shape.slice(0, -1));
      let ok = upd.value.length === updates * slice;
      for (let u = 0; ok && u < updates; u++) {
        let off = 0;
        for (let j = 0; j < k; j++) {
          const d = x.shape[j]!;
          const i = idx.value[u * k + j]!;
          const at = i < 0 ? i + d : i;
          if (!(at >= 0 && at < d)) ok = false;
          off += at * st[j]!;
        }
        for (let e = 0; ok && e < slice; e++) out[off + e] = upd.value[u * slice + e]!;
      }
      if (ok) value = out;
    }
    return [withValue(x.dtype, x.shape.slice(), value)];
  },
  Slice: (c) => {
    const x = input(c, 0);
    let starts: readonly number[], ends: readonly number[], axes: readonly number[] | undefined, steps: readonly number[] | undefined;
    if (c.opset < 10) {
      starts = attrInts(c, 'starts') ?? bad(c, 'no starts');
      ends = attrInts(c, 'ends') ?? bad(c, 'no ends');
      axes = attrInts(c, 'axes');
    } else {
      starts = val(c, 1);
      ends = val(c, 2);
      axes = has(c, 3) ? val(c, 3) : undefined;
      steps = has(c, 4) ? val(c, 4) : undefined;
    }
    const { out, ranges } = sliceDims(c, x.shape, starts, ends, axes, steps);
    // Element (i0, i1, ...) of the output is element (s0 + i0*step0, ...) of the input.
    const value = x.value ? gatherIndices(x.shape, out, (o, a) => ranges[a]![0] + o * ranges[a]![2], x.value) : undefined;
    return [withValue(x.dtype, out, value)];
  },
  Expand: (c) => {
    const x = input(c, 0);
    const shape = broadcast([x.shape, val(c, 1)], c);
    return [withValue(x.dtype, shape, x.value ? broadcastValue(x, shape) : undefined)];
  },
  Tile: (c) => {
    const x = input(c, 0);
    const reps = val(c, 1);
    const shape = x.shape.map((d, i) => d * (reps[i] ?? 1));
    const value = x.value ? gatherIndices(x.shape, shape, (o, a) => o % x.shape[a]!, x.value) : undefined;
    return [withValue(x.dtype, shape, value)];
  },
  ConstantOfShape: (c) => {
    const shape = val(c, 0).slice();
    const v = c.node.attributes['value'];
    const dtype = v && typeof v === 'object' && 'tensor' in v ? v.tensor.dtype : 'float32';
    const fill = v && typeof v === 'object' && 'tensor' in v && v.tensor.data ? Number(v.tensor.data[0]) : 0;
    const n = numel(shape);
    // A float fill is exact too (an attention mask of float32's minimum), within the value limit.
    const known = (isInt(dtype) || dtype === 'float32' || dtype === 'float64') && n <= MAX_VALUE;
    return [withValue(dtype, shape, known ? new Array<number>(n).fill(fill) : undefined)];
  },
  Range: (c) => {
    const [s, l, d] = [val(c, 0)[0]!, val(c, 1)[0]!, val(c, 2)[0]!];
    const n = Math.max(0, Math.ceil((l - s) / d));
    const x = input(c, 0);
    return [withValue(x.dtype, [n], isInt(x.dtype) && n <= MAX_VALUE ? Array.from({ length: n }, (_, i) => s + i * d) : undefined)];
  },
  Resize: (c) => {
    const x = input(c, 0);
    // Opset 10 has (X, scales); later (X, roi, scales, sizes).
    const scalesIdx = c.opset < 11 ? 1 : 2;
    if (c.opset >= 11 && has(c, 3)) return [{ dtype: x.dtype, shape: val(c, 3).slice() }];
    const scales = val(c, scalesIdx);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => Math.floor(d * (scales[i] ?? 1))) }];
  },
  Upsample: (c) => {
    const x = input(c, 0);
    const scales = (c.node.attributes['scales'] as number[] | undefined) ?? val(c, 1);
    return [{ dtype: x.dtype, shape: x.shape.map((d, i) => Math.floor(d * (scales[i] ?? 1))) }];
  },
  ArgMax: (c) => argReduce(c),
  ArgMin: (c) => argReduce(c),
  Where: (c) => {
    const [cond, x, y] = [input(c, 0), input(c, 1), input(c, 2)];
    const shape = broadcast([cond.shape, x.shape, y.shape], c);
    let value: number[] | undefined;
    if (cond.value && x.value && y.value) {
      const [cv, xv, yv] = [broadcastValue(cond, shape), broadcastValue(x, shape), broadcastValue(y, shape)];
      if (cv && xv && yv) value = cv.map((b, i) => (b !== 0 ? xv[i]! : yv[i]!));
    }
    return [withValue(x.dtype, shape, value)];
  },
  Not: (c) => {
    const x = input(c, 0);
    return [withValue('bool', x.shape.slice(), x.value?.map((v) => (v !== 0 ? 0 : 1)))];
  },
};

for (const op of UNARY_SAME) HANDLERS[op] = same;
// Opset 23's normalisation and rotary embedding keep their input's shape.
HANDLERS['RMSNormalization'] = same;
HANDLERS['RotaryEmbedding'] = same;

// Einsum: each letter's size from the operands ("..." dims broadcast as numpy does); the output
// lists the letters after "->", or without it the "..." dims and the letters seen once, sorted.
HANDLERS['Einsum'] = (c) => {
  const e = einsumIndices(attrStr(c, 'equation', ''), c.node.inputs.map((_, i) => input(c, i).shape)) ?? unknown();
  const { size, seen, ellipsis } = e;
  const out = e.output ?? `${ellipsis !== undefined ? '...' : ''}${[...seen].filter(([, k]) => k === 1).map(([l]) => l).sort().join('')}`;
  const shape: number[] = [];
  for (let j = 0; j < out.length;) {
    if (out.startsWith('...', j)) {
      shape.push(...(ellipsis ?? []));
      j += 3;
    } else {
      shape.push(size.get(out[j]!) ?? unknown());
      j += 1;
    }
  }
  return [{ dtype: input(c, 0).dtype, shape }];
};

// ONNX Attention (opset 23): Q [B, Hq, S, Dh] or [B, S, Hq*Dh] against K and V (with the past keys
// and values before them): Y like Q with V's head size, present K and V [B, Hkv, past + new, D], and
// the scores [B, Hq, S, past + new].
HANDLERS['Attention'] = (c) => {
  const q = input(c, 0);
  const k = input(c, 1);
  const v = input(c, 2);
  const four = q.shape.length === 4;
  if (!four && q.shape.length !== 3) unknown();
  const hq = four ? q.shape[1]! : attrInt(c, 'q_num_heads', 0);
  const hkv = k.shape.length === 4 ? k.shape[1]! : attrInt(c, 'kv_num_heads', 0);
  if (hq <= 0 || hkv <= 0) unknown();
  const b = q.shape[0]!;
  const s = (four ? q.shape[2] : q.shape[1])!;
  const dh = four ? q.shape[3]! : q.shape[2]! / hq;
  const dv = v.shape.length === 4 ? v.shape[3]! : v.shape[2]! / hkv;
  if (!Number.isInteger(dh) || !Number.isInteger(dv)) unknown();
  const total = (k.shape.length === 4 ? k.shape[2]! : k.shape[1]!) + (has(c, 4) ? input(c, 4).shape[2] ?? unknown() : 0);
  return [
    { dtype: q.dtype, shape: four ? [b, hq, s, dv] : [b, s, hq * dv] },
    { dtype: k.dtype, shape: [b, hkv, total, dh] },
    { dtype: v.dtype, shape: [b, hkv, total, dv] },
    { dtype: q.dtype, shape: [b, hq, s, total] },
  ];
};
for (const [op, f] of Object.entries(UNARY_VALUE)) {
  HANDLERS[op] = (c) => {
    const x = input(c, 0);
    const exact = isInt(x.dtype) || x.dtype === 'float32' || x.dtype === 'float64';
    const value = exact && x.value ? x.value.map((v) => roundTo(x.dtype, f(v))) : undefined;
    return [withValue(x.dtype, x.shape.slice(), value?.every((v) => Number.isFinite(v) && (!isInt(x.dtype) || Number.isSafeInteger(v))) ? value : undefined)];
  };
}
// Quantization (onnxruntime's QDQ and dynamic forms): shapes pass through; the element type is the
// zero point's (uint8 without one), the scale's when dequantizing, int32 for the integer products.
HANDLERS['QuantizeLinear'] = (c) => {
  const t = attrInt(c, 'output_dtype', 0);
  const dtype = t !== 0 ? DTYPE_BY_ONNX.get(t) ?? bad(c, `unsupported output_dtype ${t}`) : has(c, 2) ? input(c, 2).dtype : 'uint8';
  return [{ dtype, shape: input(c, 0).shape }];
};
HANDLERS['DequantizeLinear'] = (c) => [{ dtype: input(c, 1).dtype, shape: input(c, 0).shape }];
HANDLERS['DynamicQuantizeLinear'] = (c) => [{ dtype: 'uint8', shape: input(c, 0).shape }, { dtype: 'float32', shape: [] }, { dtype: 'uint8', shape: [] }];
HANDLERS['MatMulInteger'] = (c) => [{ dtype: 'int32', shape: HANDLERS['MatMul']!(c)[0]!.shape }];
HANDLERS['ConvInteger'] = (c) => [{ dtype: 'int32', shape: HANDLERS['Conv']!(c)[0]!.shape }];
/** `c` as the float op sees it: the QOperator op's data inputs at `at` (QLinearConv: x 0, w 3). */
const dataInputs = (c: Ctx, at: readonly number[]): Ctx => ({ ...c, ins: at.map((i) => c.ins[i]), node: { ...c.node, inputs: at.map((i) => c.node.inputs[i] ?? '') } });
// QOperator form: the output's type is its zero point's (input 7).
HANDLERS['QLinearConv'] = (c) => [{ dtype: input(c, 7).dtype, shape: HANDLERS['Conv']!(dataInputs(c, [0, 3]))[0]!.shape }];
HANDLERS['QLinearMatMul'] = (c) => [{ dtype: input(c, 7).dtype, shape: HANDLERS['MatMul']!(dataInputs(c, [0, 3]))[0]!.shape }];
HANDLERS['GlobalMaxPool'] = HANDLERS['GlobalAveragePool']!;
HANDLERS['LpPool'] = HANDLERS['AveragePool']!;
for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Mod', 'BitShift']) {
  HANDLERS[op] = (c) => {
    const xs = c.node.inputs.map((_, i) => input(c, i));
    const first = xs[0] ?? bad(c, 'no inputs');
    const shape = broadcast(xs.map((x) => x.shape), c);
    const int = isInt(first.dtype);
    const f = op === 'Mod' && int && attrInt(c, 'fmod', 0) === 0 ? floorMod : op === 'Pow' && int ? (x: number, y: number) => (y < 0 ? NaN : x ** y) : BINARY[op];
    // Floats only in float32/float64, where a double result rounded once equals the IEEE operation.
    const exact = int || ((first.dtype === 'float32' || first.dtype === 'float64') && !INT_ONLY.has(op));
    const value = f && xs.length === 2 && exact
      ? binaryValue(first, xs[1]!, shape, (p, q) => (int ? (op === 'Div' ? Math.trunc(f(p, q)) : f(p, q)) : roundTo(first.dtype, f(p, q))))
      : undefined;
    // Integers past 2^53 are not exact as doubles: such a value is left unknown rather than wrong.
    const ok = value?.every((v) => (int ? Number.isSafeInteger(v) : Number.isFinite(v)));
    return [withValue(first.dtype, shape, ok ? value : undefined)];
  };
}
const COMPARE_FN: Record<string, (x: number, y: number) => boolean> = {
  Equal: (x, y) => x === y, Less: (x, y) => x < y, Greater: (x, y) => x > y, LessOrEqual: (x, y) => x <= y,
  GreaterOrEqual: (x, y) => x >= y, And: (x, y) => x !== 0 && y !== 0, Or: (x, y) => x !== 0 || y !== 0, Xor: (x, y) => (x !== 0) !== (y !== 0),
};
for (const op of COMPARE) {
  HANDLERS[op] = (c) => {
    const a = input(c, 0);
    const b = input(c, 1);
    const f = COMPARE_FN[op]!;
    const shape = broadcast([a.shape, b.shape], c);
    return [withValue('bool', shape, binaryValue(a, b, shape, (x, y) => (f(x, y) ? 1 : 0)))];
  };
}
/** Y, Y_h (and Y_c) of a recurrent layer; `gatesAxis` is where W [dirs, ., .] keeps its gates x hidden. */
function recurrent(c: Ctx, gates: number, gatesAxis: 1 | 2, withCell: boolean): Info[] {
  const x = input(c, 0);
  const w = input(c, 1);
  if (x.shape.length !== 3 || w.shape.length !== 3) bad(c, `X rank ${x.shape.length} and W rank ${w.shape.length}, expected 3 and 3`);
  const hidden = attrInt(c, 'hidden_size', w.shape[gatesAxis]! / gates);
  const numDir = w.shape[0]!;
  const batchFirst = attrInt(c, 'layout', 0) === 1;
  const [seq, batch] = batchFirst ? [x.shape[1]!, x.shape[0]!] : [x.shape[0]!, x.shape[1]!];
  const y = batchFirst ? [batch, seq, numDir, hidden] : [seq, numDir, batch, hidden];
  const state = batchFirst ? [batch, numDir, hidden] : [numDir, batch, hidden];
  return [{ dtype: x.dtype, shape: y }, { dtype: x.dtype, shape: state }, ...(withCell ? [{ dtype: x.dtype, shape: state }] : [])];
}
for (const [op, gates] of [['LSTM', 4], ['GRU', 3], ['RNN', 1]] as const) HANDLERS[op] = (c) => recurrent(c, gates, 1, op === 'LSTM');
for (const op of ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']) {
  HANDLERS[op] = (c) => {
    const x = input(c, 0);
    const keep = attrInt(c, 'keepdims', 1) === 1;
    let axes = axesOf(c, 1, x.shape.length);
    if (!axes || axes.length === 0) {
      if (attrInt(c, 'noop_with_empty_axes', 0) === 1) return [{ dtype: x.dtype, shape: x.shape }];
      axes = x.shape.map((_, i) => i);
    }
    const shape: number[] = [];
    x.shape.forEach((d, i) => {
      if (!axes!.includes(i)) shape.push(d);
      else if (keep) shape.push(1);
    });
    // torch's numel() is ReduceProd of a Shape: int reductions of known values are exact; float ones
    // only as a max or min (torchvision's detection transform: the largest side of a fixed image size).
    const int = isInt(x.dtype);
    const f = int || ((x.dtype === 'float32' || x.dtype === 'float64') && (op === 'ReduceMax' || op === 'ReduceMin')) ? INT_REDUCE[op] : undefined;
    const value = f && x.value ? reduceValues(x.shape, x.value, axes, f) : undefined;
    return [withValue(x.dtype, shape, value?.every(int ? Number.isSafeInteger : (v: number) => !Number.isNaN(v)) ? value : undefined)];
  };
}

const INT_REDUCE: Record<string, (a: number, b: number) => number> = {
  ReduceSum: (a, b) => a + b, ReduceProd: (a, b) => a * b, ReduceMax: Math.max, ReduceMin: Math.min,
};

/** Row-major values of `value` (shape `shape`) reduced over `axes` with `f`. */
function reduceValues(shape: readonly number[], value: readonly number[], axes: readonly number[], f: (a: number, b: number) => number): number[] | undefined {
  const kept = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const st = strides(kept);
  const out: (number | undefined)[] = new Array<number | undefined>(numel(kept)).fill(undefined);
  const idx = new Array<number>(shape.length).fill(0);
  for (let k = 0; k < value.length; k++) {
    let o = 0;
    for (let a = 0; a < idx.length; a++) if (!axes.includes(a)) o += idx[a]! * st[a]!;
    out[o] = out[o] === undefined ? value[k]! : f(out[o]!, value[k]!);
    for (let a = idx.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
  // A reduction over an empty axis has no element to start from (its identity is op-specific).
  return out.every((v) => v !== undefined) ? (out as number[]) : undefined;
}

function argReduce(c: Ctx): Info[] {
  const x = input(c, 0);
  const a = axis(c, attrInt(c, 'axis', 0), x.shape.length);
  const keep = attrInt(c, 'keepdims', 1) === 1;
  const shape = keep ? x.shape.map((d, i) => (i === a ? 1 : d)) : x.shape.filter((_, i) => i !== a);
  return [{ dtype: 'int64', shape }];
}

function matmulShape(c: Ctx, a0: readonly number[], b0: readonly number[]): number[] {
  if (a0.length === 0 || b0.length === 0) bad(c, 'MatMul of a scalar');
  const a = a0.length === 1 ? [1, a0[0]!] : a0;
  const b = b0.length === 1 ? [b0[0]!, 1] : b0;
  const k1 = a[a.length - 1]!;
  const k2 = b[b.length - 2]!;
  if (k1 !== k2) bad(c, `inner dimensions ${k1} and ${k2} differ`);
  const batch = broadcast([a.slice(0, -2), b.slice(0, -2)], c);
  const out = [...batch];
  if (a0.length > 1) out.push(a[a.length - 2]!);
  if (b0.length > 1) out.push(b[b.length - 1]!);
  return out;
}

/** Info for a constant tensor (initializer or Constant attribute); integer contents become `value`. */
export function tensorInfo(t: TensorValue): Info {
  const shape = t.shape.slice();
  if (t.data && isInt(t.dtype) && t.data.length <= MAX_CONST_VALUE) {
    return { dtype: t.dtype, shape, value: Array.from(t.data as ArrayLike<number>, Number) };
  }
  // Small float constants too: Resize and Upsample take their scales from them.
  if (t.data && t.data.length <= MAX_CONST_VALUE) return { dtype: t.dtype, shape, value: Array.from(t.data as ArrayLike<number>, Number) };
  return { dtype: t.dtype, shape };
}

/** Skip(Simplified)LayerNormalization: the output and the input + skip sum keep the input's shape; the optional statistics are left to onnxruntime. */
const skipNorm: Handler = (c) => {
  const x = input(c, 0);
  return [{ dtype: x.dtype, shape: x.shape }, undefined, undefined, { dtype: x.dtype, shape: x.shape }];
};

// onnxruntime's contrib ops (com.microsoft) that onnxruntime-genai's model builder writes into
// every int4 decoder: without rules, loading such a model needs an onnxruntime run for its shapes.
const CONTRIB: Record<string, Handler> = {
  // [A..., K] x a 4-bit weight of N columns: [A..., N].
  MatMulNBits: (c) => {
    const a = input(c, 0);
    const n = attrInt(c, 'N', 0);
    if (n <= 0 || a.shape.length === 0) unknown();
    return [{ dtype: a.dtype, shape: [...a.shape.slice(0, -1), n] }];
  },
  // onnxruntime's dynamically quantized LSTM: an LSTM whose int8 W and R are stored [dirs, I or H, 4H].
  DynamicQuantizeLSTM: (c) => recurrent(c, 4, 2, true),
  SkipSimplifiedLayerNormalization: skipNorm,
  SkipLayerNormalization: skipNorm,
  RotaryEmbedding: same,
  // query [B, S, Hq*D] (or Q, K, V packed when key is absent): output [B, S, Hq*D]; the present keys
  // and values [B, Hkv, T, D] over T = the longer of the past buffer and total_sequence_length.
  GroupQueryAttention: (c) => {
    const q = input(c, 0);
    const hq = attrInt(c, 'num_heads', 0);
    const hkv = attrInt(c, 'kv_num_heads', 0);
    if (q.shape.length !== 3 || hq <= 0 || hkv <= 0) unknown();
    const [b, s, hidden] = q.shape as [number, number, number];
    const d = has(c, 1) ? hidden / hq : hidden / (hq + 2 * hkv);
    if (!Number.isInteger(d)) unknown();
    const total = val(c, 6)[0] ?? unknown();
    const past = has(c, 3) ? input(c, 3).shape[2] ?? unknown() : 0;
    const present = { dtype: q.dtype, shape: [b, hkv, Math.max(past, total), d] };
    return [{ dtype: q.dtype, shape: [b, s, hq * d] }, present, present];
  },
};

/** True when this package's inference has a rule for the op (the default ONNX domain, and the com.microsoft ops of CONTRIB). */
export function knowsOp(op: string, domain: string): boolean {
  return ((domain === '' || domain === 'ai.onnx') && op in HANDLERS) || (domain === 'com.microsoft' && op in CONTRIB);
}

/**
 * Output infos of one node, or undefined entries where inference cannot tell (unknown op, or an
 * input/constant it needs is unknown). Throws GRAPH_SHAPE_INFERENCE when the node is inconsistent.
 */
export function inferNode(node: InferNode, opset: number, ins: readonly (Info | undefined)[]): (Info | undefined)[] {
  const none = node.outputs.map(() => undefined);
  if (!knowsOp(node.op, node.domain)) return none;
  const c: Ctx = { node, opset, ins };
  try {
    const outs = (node.domain === 'com.microsoft' ? CONTRIB : HANDLERS)[node.op]!(c);
    for (const o of outs) {
      if (o && (o.shape.some((d) => !Number.isInteger(d) || d < 0) || numel(o.shape) > MAX_ELEMENTS)) bad(c, `computed an invalid shape [${o.shape.join(',')}]`);
    }
    return node.outputs.map((_, i) => outs[i]);
  } catch (e) {
    if (e instanceof Unknown) return none;
    if (e instanceof GraphError) throw e;
    throw new GraphError('GRAPH_SHAPE_INFERENCE', `node ${node.name} (${node.op}): ${(e as Error).message}`, { cause: e });
  }
}
