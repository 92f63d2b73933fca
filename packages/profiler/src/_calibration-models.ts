// Synthetic one-node models of known input and output sizes, for the boundary calibration.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType as DT } from 'onnx-buf';

/** What crosses the boundary: a large input (Slice keeps 1 element), a large output (Expand from 1), or both (Add). */
export type CalibrationKind = 'in' | 'out' | 'both';

export interface CalibrationModel {
  readonly kind: CalibrationKind;
  readonly inBytes: number;
  readonly outBytes: number;
  /** float32 element counts of the input x and output y. */
  readonly inElements: number;
  readonly outElements: number;
  readonly bytes: Uint8Array;
}

const valueInfo = (name: string, n: number) => ({
  name,
  type: { value: { case: 'tensorType', value: { elemType: DT.FLOAT, shape: { dim: [{ value: { case: 'dimValue', value: BigInt(n) } }] } } } },
});
const int64 = (name: string, v: number) => ({ name, dims: [1n], dataType: DT.INT64, int64Data: [BigInt(v)] });

/** A model x[float32 × in] -> y[float32 × out] whose one kernel does as little as the sizes allow. */
export function calibrationModel(kind: CalibrationKind, bytes: number): CalibrationModel {
  const n = Math.max(1, Math.round(bytes / 4));
  const inElements = kind === 'out' ? 1 : n;
  const outElements = kind === 'in' ? 1 : n;
  const graph =
    kind === 'in'
      ? { node: [{ opType: 'Slice', name: 'slice', input: ['x', 'starts', 'ends'], output: ['y'] }], initializer: [int64('starts', 0), int64('ends', 1)] }
      : kind === 'out'
        ? { node: [{ opType: 'Expand', name: 'expand', input: ['x', 'shape'], output: ['y'] }], initializer: [int64('shape', n)] }
        : { node: [{ opType: 'Add', name: 'add', input: ['x', 'one'], output: ['y'] }], initializer: [{ name: 'one', dims: [1n], dataType: DT.FLOAT, floatData: [1] }] };
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'dnnpart-boundary-calibration',
    opsetImport: [{ domain: '', version: 13n }],
    graph: { name: `boundary-${kind}-${n * 4}`, ...graph, input: [valueInfo('x', inElements)], output: [valueInfo('y', outElements)] },
  } as never);
  return { kind, inBytes: inElements * 4, outBytes: outElements * 4, inElements, outElements, bytes: toBinary(ModelProtoSchema, model) };
}

/** Which part of the two-convolution chain: all of it, or one side of the cut between the convolutions. */
export type ConvChainPart = 'whole' | 'first' | 'second';

export interface ConvChainModel {
  readonly part: ConvChainPart;
  /** [1, channels, size, size]: every tensor of the chain has this shape. */
  readonly shape: readonly number[];
  /** Bytes of the tensor the cut hands from the first convolution to the second. */
  readonly cutBytes: number;
  readonly bytes: Uint8Array;
}

const shapeInfo = (name: string, shape: readonly number[]) => ({
  name,
  type: { value: { case: 'tensorType', value: { elemType: DT.FLOAT, shape: { dim: shape.map((d) => ({ value: { case: 'dimValue', value: BigInt(d) } })) } } } },
});

/**
 * Two 1x1 convolutions with ReLUs, x -> mid -> y, all [1, channels, size, size]: whole, or cut at mid
 * into its first and second stage. What the two stages take beyond the whole is what a cut between
 * convolutions costs on this machine, blocked layouts left and re-entered included (ORT's NCHWc
 * reorders), which one-kernel models never show.
 */
export function convChainModel(part: ConvChainPart, channels: number, size: number, kernel = 1): ConvChainModel {
  const shape = [1, channels, size, size];
  const weight = (name: string, seed: number) => ({
    name, dims: [BigInt(channels), BigInt(channels), BigInt(kernel), BigInt(kernel)], dataType: DT.FLOAT,
    floatData: Array.from({ length: channels * channels * kernel * kernel }, (_, i) => (((i * 7919 + seed) % 200) - 100) / (100 * channels * kernel * kernel)),
  });
  const half = BigInt(kernel >> 1);
  const pads = [{ name: 'pads', type: 7, ints: [half, half, half, half] }];
  const bias = (name: string) => ({ name, dims: [BigInt(channels)], dataType: DT.FLOAT, floatData: Array.from({ length: channels }, () => 0.01) });
  const first = [
    { opType: 'Conv', name: 'conv1', input: ['x', 'w1', 'b1'], output: ['c1'], attribute: pads },
    { opType: 'Relu', name: 'relu1', input: ['c1'], output: ['mid'] },
  ];
  const second = [
    { opType: 'Conv', name: 'conv2', input: ['mid', 'w2', 'b2'], output: ['c2'], attribute: pads },
    { opType: 'Relu', name: 'relu2', input: ['c2'], output: ['y'] },
  ];
  const nodes = part === 'whole' ? [...first, ...second] : part === 'first' ? first : second;
  const init = part === 'whole' ? [weight('w1', 1), bias('b1'), weight('w2', 2), bias('b2')] : part === 'first' ? [weight('w1', 1), bias('b1')] : [weight('w2', 2), bias('b2')];
  const input = part === 'second' ? 'mid' : 'x';
  const output = part === 'first' ? 'mid' : 'y';
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'dnnpart-boundary-calibration',
    opsetImport: [{ domain: '', version: 13n }],
    graph: { name: `boundary-conv-${part}-${channels}x${size}`, node: nodes, initializer: init, input: [shapeInfo(input, shape)], output: [shapeInfo(output, shape)] },
  } as never);
  return { part, shape, cutBytes: channels * size * size * 4, bytes: toBinary(ModelProtoSchema, model) };
}

/** The small ops of the glue chain, in turn: each keeps x's shape [1, 64] after its pair. */
const GLUE = ['Add', 'Mul', 'Slice', 'Concat', 'Reshape', 'Reshape'] as const;

export interface GlueChainModel {
  readonly nodes: number;
  readonly bytes: Uint8Array;
}

/**
 * A chain of `nodes` small kernels on a [1, 64] float tensor, the glue exported graphs are full of
 * (Add and Mul by a constant, Slice to half and Concat back, Reshape out and back), each too small to
 * compute anything worth timing: what a chain takes per node is what dispatching a kernel costs.
 * `nodes` is rounded up to a multiple of six, so the chain ends in x's shape.
 */
export function glueChainModel(nodes: number): GlueChainModel {
  const n = Math.max(1, Math.ceil(nodes / GLUE.length)) * GLUE.length;
  const node: { opType: string; name: string; input: string[]; output: string[]; attribute?: unknown[] }[] = [];
  let prev = 'x';
  for (let i = 0; i < n; i++) {
    const op = GLUE[i % GLUE.length]!;
    const out = i === n - 1 ? 'y' : `t${i}`;
    const input = op === 'Add' || op === 'Mul' ? [prev, 'half']
      : op === 'Slice' ? [prev, 'starts', 'ends', 'axes']
        : op === 'Concat' ? [prev, prev]
          : [prev, i % GLUE.length === 4 ? 'flat' : 'row'];
    node.push({ opType: op, name: `${op.toLowerCase()}${i}`, input, output: [out], ...(op === 'Concat' ? { attribute: [{ name: 'axis', type: 2, i: 1n }] } : {}) });
    prev = out;
  }
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'dnnpart-dispatch-calibration',
    opsetImport: [{ domain: '', version: 13n }],
    graph: {
      name: `dispatch-glue-${n}`,
      node,
      initializer: [
        { name: 'half', dims: [1n], dataType: DT.FLOAT, floatData: [0.5] },
        int64('starts', 0), int64('ends', 32), int64('axes', 1),
        { name: 'flat', dims: [1n], dataType: DT.INT64, int64Data: [64n] },
        { name: 'row', dims: [2n], dataType: DT.INT64, int64Data: [1n, 64n] },
      ],
      input: [shapeInfo('x', [1, 64])],
      output: [shapeInfo('y', [1, 64])],
    },
  } as never);
  return { nodes: n, bytes: toBinary(ModelProtoSchema, model) };
}
