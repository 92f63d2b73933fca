// Small hand-built ONNX models and .npy files for the tests.
import { writeFileSync } from 'node:fs';
import { create, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, type ModelProto } from 'onnx-buf';
import { toHalfBits } from '@dnnpart/onnx-graph';

/** Seeded uniform numbers in [-1, 1) (an LCG is enough for test weights). */
export function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  };
}

const vi = (name: string, dims: number[], elemType = 1) => ({
  name,
  type: { value: { case: 'tensorType' as const, value: { elemType, shape: { dim: dims.map((d) => ({ value: { case: 'dimValue' as const, value: BigInt(d) } })) } } } },
});

/** An IR 8, opset 17 model of `graph` (the builders below). */
const opset17 = (graph: MessageInitShape<typeof GraphProtoSchema>): ModelProto =>
  create(ModelProtoSchema, { irVersion: 8n, opsetImport: [{ domain: '', version: 17n }], graph });

const floats = (name: string, dims: number[], rand: () => number, scale = 1) => {
  const n = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from({ length: n }, () => rand() * scale);
  return { name, dataType: 1, dims: dims.map(BigInt), rawData: new Uint8Array(data.buffer) };
};

/**
 * x[1,3,8,8] -> Conv(4 out channels) -> Relu -> GlobalAveragePool -> Flatten -> Gemm(transB, 10 out)
 * -> Erf (no int8 form) -> MatMul(10x6) -> y[1,6]. Node names: conv, relu, gap, flatten, gemm, erf, matmul.
 */
export function tinyModel(opset = 17, seed = 7): ModelProto {
  const r = lcg(seed);
  const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v.map(BigInt) });
  return create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: BigInt(opset) }],
    graph: {
      name: 'tiny',
      node: [
        { opType: 'Conv', name: 'conv', input: ['x', 'w_conv', 'b_conv'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])] },
        { opType: 'Relu', name: 'relu', input: ['c'], output: ['r'] },
        { opType: 'GlobalAveragePool', name: 'gap', input: ['r'], output: ['p'] },
        { opType: 'Flatten', name: 'flatten', input: ['p'], output: ['f'] },
        { opType: 'Gemm', name: 'gemm', input: ['f', 'w_gemm', 'b_gemm'], output: ['g'], attribute: [{ name: 'transB', type: 2, i: 1n }] },
        { opType: 'Erf', name: 'erf', input: ['g'], output: ['e'] },
        { opType: 'MatMul', name: 'matmul', input: ['e', 'w_mm'], output: ['y'] },
      ],
      initializer: [
        floats('w_conv', [4, 3, 3, 3], r, 0.5), floats('b_conv', [4], r, 0.1),
        floats('w_gemm', [10, 4], r), floats('b_gemm', [10], r, 0.1), floats('w_mm', [10, 6], r),
      ],
      input: [vi('x', [1, 3, 8, 8])],
      output: [vi('y', [1, 6])],
    },
  });
}

export const encode = (m: ModelProto): Uint8Array => toBinary(ModelProtoSchema, m);

/** Writes a C-ordered little-endian .npy file. */
export function writeNpy(file: string, descr: '<f4' | '<f8' | '<i8' | '|u1', shape: number[], data: ArrayBufferView): void {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

/** x[1,3,8,8] -> Conv(4, bias) -> BatchNormalization -> Relu -> y; and a second Conv -> BN whose Conv output is also read elsewhere (not foldable). */
export function bnModel(seed = 11): ModelProto {
  const r = lcg(seed);
  const pos = (name: string, dims: number[]) => {
    const t = floats(name, dims, r);
    const v = new Float32Array(t.rawData.buffer).map((x) => 0.5 + Math.abs(x));
    return { ...t, rawData: new Uint8Array(v.buffer) };
  };
  const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v.map(BigInt) });
  return opset17({
    name: 'bn',
    node: [
      { opType: 'Conv', name: 'conv1', input: ['x', 'w1', 'b1'], output: ['c1'], attribute: [ints('pads', [1, 1, 1, 1])] },
      { opType: 'BatchNormalization', name: 'bn1', input: ['c1', 's1', 'h1', 'm1', 'v1'], output: ['n1'], attribute: [{ name: 'epsilon', type: 1, f: 1e-3 }] },
      { opType: 'Relu', name: 'relu1', input: ['n1'], output: ['r1'] },
      { opType: 'Conv', name: 'conv2', input: ['r1', 'w2'], output: ['c2'] },
      { opType: 'BatchNormalization', name: 'bn2', input: ['c2', 's2', 'h2', 'm2', 'v2'], output: ['n2'] },
      { opType: 'Add', name: 'add', input: ['n2', 'c2'], output: ['y'] },
    ],
    initializer: [
      floats('w1', [4, 3, 3, 3], r), floats('b1', [4], r), pos('s1', [4]), floats('h1', [4], r), floats('m1', [4], r), pos('v1', [4]),
      floats('w2', [4, 4, 1, 1], r), pos('s2', [4]), floats('h2', [4], r), floats('m2', [4], r), pos('v2', [4]),
    ],
    input: [vi('x', [1, 3, 8, 8])],
    output: [vi('y', [1, 4, 8, 8])],
  });
}

/**
 * A float16 model, as a float16 export is: x float16 [1,3,8,8] -> Conv(8, float16 weights) -> Relu
 * -> Conv(8) -> Add (skip from relu) -> y float16 [1,8,8,8]. Node names: conv1, relu, conv2, add.
 */
export function halfModel(seed = 5): ModelProto {
  const r = lcg(seed);
  const half = (name: string, dims: number[], scale: number) => {
    const n = dims.reduce((a, b) => a * b, 1);
    const bits = Uint16Array.from({ length: n }, () => toHalfBits(r() * scale));
    return { name, dataType: 10, dims: dims.map(BigInt), rawData: new Uint8Array(bits.buffer) };
  };
  const pads = { name: 'pads', type: 7, ints: [1n, 1n, 1n, 1n] };
  return opset17({
    name: 'half',
    node: [
      { opType: 'Conv', name: 'conv1', input: ['x', 'w1'], output: ['c1'], attribute: [pads] },
      { opType: 'Relu', name: 'relu', input: ['c1'], output: ['r'] },
      { opType: 'Conv', name: 'conv2', input: ['r', 'w2'], output: ['c2'], attribute: [pads] },
      { opType: 'Add', name: 'add', input: ['c2', 'r'], output: ['y'] },
    ],
    initializer: [half('w1', [8, 3, 3, 3], 0.4), half('w2', [8, 8, 3, 3], 0.2)],
    input: [vi('x', [1, 3, 8, 8], 10)],
    output: [vi('y', [1, 8, 8, 8], 10)],
  });
}

/**
 * A decomposed RMS norm with a large activation, as exporters write layer norms: x[1,16] ->
 * Mul(x, 400) -> a -> Pow(a, 2.0) -> ReduceMean -> Add(1e-5) -> Sqrt -> Div(a, .) -> y[1,16]; and
 * beside it Pow(x, int64 2) -> z[1,16], an exponent of another type. Node names: scale, square,
 * mean, eps, root, div, square_int.
 */
export function normModel(): ModelProto {
  const scalar = (name: string, v: number) => ({ name, dataType: 1, dims: [], rawData: new Uint8Array(Float32Array.of(v).buffer) });
  return opset17({
    name: 'norm',
    node: [
      { opType: 'Mul', name: 'scale', input: ['x', 'k'], output: ['a'] },
      { opType: 'Pow', name: 'square', input: ['a', 'two'], output: ['sq'] },
      { opType: 'ReduceMean', name: 'mean', input: ['sq'], output: ['ms'], attribute: [{ name: 'axes', type: 7, ints: [-1n] }] },
      { opType: 'Add', name: 'eps', input: ['ms', 'e'], output: ['var'] },
      { opType: 'Sqrt', name: 'root', input: ['var'], output: ['rms'] },
      { opType: 'Div', name: 'div', input: ['a', 'rms'], output: ['y'] },
      { opType: 'Pow', name: 'square_int', input: ['x', 'two_int'], output: ['z'] },
    ],
    initializer: [scalar('k', 400), scalar('two', 2), scalar('e', 1e-5), { name: 'two_int', dataType: 7, dims: [], rawData: new Uint8Array(BigInt64Array.of(2n).buffer) }],
    input: [vi('x', [1, 16])],
    output: [vi('y', [1, 16]), vi('z', [1, 16])],
  });
}

/**
 * A segmentation head: x[1,3,8,8] -> Conv(8) -> Relu -> Conv(`classes`, 1x1) -> y[1,classes,8,8], a
 * score per class and pixel (one channel: a saliency map). Node names: conv, relu, head.
 */
export function segmentationModel(classes: number, seed = 13): ModelProto {
  const r = lcg(seed);
  const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v.map(BigInt) });
  return opset17({
    name: 'seg',
    node: [
      { opType: 'Conv', name: 'conv', input: ['x', 'w1'], output: ['c'], attribute: [ints('pads', [1, 1, 1, 1])] },
      { opType: 'Relu', name: 'relu', input: ['c'], output: ['r'] },
      { opType: 'Conv', name: 'head', input: ['r', 'w2'], output: ['y'] },
    ],
    initializer: [floats('w1', [8, 3, 3, 3], r, 0.5), floats('w2', [classes, 8, 1, 1], r)],
    input: [vi('x', [1, 3, 8, 8])],
    output: [vi('y', [1, classes, 8, 8])],
  });
}
