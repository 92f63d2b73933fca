// Int8 stage models in QDQ form: weights of Conv, Gemm and MatMul stored as int8 (symmetric, per
// output channel or per tensor) behind DequantizeLinear, and every float activation an int8 op
// reads passed through QuantizeLinear -> DequantizeLinear with a calibrated uint8 range. The model
// still runs in onnxruntime; the rounding and clipping are exactly those of int8 inference.
import { clone, create } from '@bufbuild/protobuf';
import { GraphProtoSchema, ModelProtoSchema, NodeProtoSchema, OperatorSetIdProtoSchema, type ModelProto, type NodeProto, type TensorProto } from 'onnx-buf';
import type { Graph } from '@dnnpart/onnx-graph';
import { dimsOf, floatTensor, int8Tensor, intAttr, node, opsetOf, readFloats, subgraphReads, uint8Tensor } from './_onnx.js';
import type { ActivationRange } from './calibrate.js';
import { foldBatchNorms } from './_fold.js';

/** Ops with weights quantized to int8, and which input holds the weight. */
const WEIGHT_INPUT: Readonly<Record<string, number>> = { Conv: 1, Gemm: 1, MatMul: 1 };

/** Ops an int8 accelerator runs on int8 activations: which inputs are activations ('all' or indices). */
const ACTIVATION_INPUTS: Readonly<Record<string, 'all' | readonly number[]>> = {
  Conv: [0], Gemm: [0, 1], MatMul: [0, 1],
  Add: 'all', Mul: 'all', Sub: 'all', Concat: 'all',
  MaxPool: [0], AveragePool: [0], GlobalAveragePool: [0], GlobalMaxPool: [0],
  Relu: [0], Clip: [0], LeakyRelu: [0], Sigmoid: [0], HardSigmoid: [0], HardSwish: [0], Tanh: [0],
  Resize: [0], Pad: [0], Softmax: [0],
};

/** Ops that only move or reshape data: no arithmetic to quantize, nothing to warn about. */
const DATA_MOVEMENT = new Set([
  'Reshape', 'Flatten', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'Shape', 'Gather', 'Slice', 'Split',
  'Cast', 'Constant', 'ConstantOfShape', 'Dropout', 'Expand', 'Tile', 'Size', 'Range', 'Unique', 'NonZero',
]);

/** Options of `quantizeInt8`. */
export interface QuantizeOptions {
  /** Per-output-channel weight scales (default true; below opset 13 onnxruntime's com.microsoft Q/DQ). */
  readonly perChannel?: boolean;
  /** Fold BatchNormalization into the Conv before it first, as int8 deployment does (default true). */
  readonly foldBatchNorm?: boolean;
}

/** One quantized weight: its initializer, the axis of its scales (null: per tensor) and how many scales. */
export interface QuantizedWeight {
  readonly initializer: string;
  readonly node: string;
  readonly axis: number | null;
  readonly scales: number;
}

/** What `quantizeInt8` did. */
export interface QuantizeReport {
  readonly weights: readonly QuantizedWeight[];
  /** Activation tensors given a QuantizeLinear/DequantizeLinear pair. */
  readonly activations: readonly string[];
  /** BatchNormalization nodes folded into the Conv before them. */
  readonly foldedBatchNorms: readonly string[];
  /** Float-computing nodes left in float32 (no int8 form here), as `node (Op)`. */
  readonly unquantized: readonly { readonly node: string; readonly op: string }[];
  readonly warnings: readonly string[];
}

/** A quantized model and what was done to it. */
export interface QuantizedModel {
  readonly proto: ModelProto;
  readonly report: QuantizeReport;
}

const isFloatTensor = (graph: Graph, name: string): boolean => graph.tensors.get(name)?.dtype === 'float32';

/** Symmetric int8 of `w` along `axis` (null: one scale); zero points are 0. */
export function quantizeWeight(w: Float32Array, dims: readonly number[], axis: number | null): { q: Int8Array; scales: Float32Array } {
  const channels = axis === null ? 1 : dims[axis]!;
  const inner = axis === null ? w.length : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const chanOf = (i: number) => (axis === null ? 0 : Math.floor(i / inner) % channels);
  const maxAbs = new Float32Array(channels);
  for (let i = 0; i < w.length; i++) maxAbs[chanOf(i)] = Math.max(maxAbs[chanOf(i)]!, Math.abs(w[i]!));
  const scales = new Float32Array(channels);
  for (let c = 0; c < channels; c++) scales[c] = maxAbs[c]! > 0 ? maxAbs[c]! / 127 : 1;
  const q = new Int8Array(w.length);
  for (let i = 0; i < w.length; i++) q[i] = Math.max(-127, Math.min(127, Math.round(w[i]! / scales[chanOf(i)]!)));
  return { q, scales };
}

/** The uint8 scale and zero point of an activation range (widened to hold 0 exactly). */
export function activationParams(r: ActivationRange): { scale: number; zeroPoint: number } {
  const lo = Math.min(0, r.min);
  const hi = Math.max(0, r.max);
  const scale = Math.fround(hi > lo ? (hi - lo) / 255 : 1);
  return { scale, zeroPoint: Math.max(0, Math.min(255, Math.round(-lo / scale))) };
}

/**
 * The int8 (QDQ) form of a model or stage model. `graph` gives the float tensors (a stage of a split
 * keeps the source model's tensor names); `ranges` holds calibrated activation ranges by tensor name.
 * The source proto is not modified (initializers are shared, never written).
 */
export function quantizeInt8(proto: ModelProto, graph: Graph, ranges: ReadonlyMap<string, ActivationRange>, options: QuantizeOptions = {}): QuantizedModel {
  const g = proto.graph!;
  const opset = opsetOf(proto);
  const warnings: string[] = [];
  const perChannel = options.perChannel ?? true;
  // Below opset 13 the standard ops lack per-channel scales (below 10 they do not exist): use
  // onnxruntime's contrib QuantizeLinear/DequantizeLinear, which have both, and say so.
  const domain = opset < (perChannel ? 13 : 10) ? 'com.microsoft' : '';
  if (domain) {
    warnings.push(`${graph.name}: opset ${opset} has no ${opset < 10 ? '' : 'per-channel '}QuantizeLinear/DequantizeLinear; the int8 model uses onnxruntime's com.microsoft ones (other runtimes need opset 13)`);
  }
  const fold = (options.foldBatchNorm ?? true) ? foldBatchNorms(g) : { nodes: g.node, initializers: g.initializer, folded: [] };
  const inits = new Map<string, TensorProto>(fold.initializers.map((t) => [t.name, t]));
  const newInits: TensorProto[] = [];
  const nodes: NodeProto[] = [];
  const weights: QuantizedWeight[] = [];
  const weightDq = new Map<string, string>();
  const actDq = new Map<string, string>();
  const unquantized: { node: string; op: string }[] = [];
  const uncalibrated = new Set<string>();

  const dequantizedWeight = (n: NodeProto, name: string): string => {
    const done = weightDq.get(name);
    if (done) return done;
    const t = inits.get(name)!;
    const dims = dimsOf(t);
    let axis: number | null = null;
    if (perChannel) {
      if (n.opType === 'Conv') axis = 0;
      else if (n.opType === 'Gemm') axis = intAttr(n, 'transB', 0) ? 0 : 1;
      else axis = dims.length - 1; // MatMul: [.., K, N], one scale per output column
    }
    const { q, scales } = quantizeWeight(readFloats(t), dims, axis);
    const scaleDims = axis === null ? [] : [dims[axis]!];
    newInits.push(
      int8Tensor(`${name}__int8`, dims, q),
      floatTensor(`${name}__scale`, scaleDims, scales),
      int8Tensor(`${name}__zero_point`, scaleDims, new Int8Array(scales.length)),
    );
    nodes.push(node('DequantizeLinear', `${name}__DequantizeLinear`, [`${name}__int8`, `${name}__scale`, `${name}__zero_point`], [`${name}__dq`], axis === null ? {} : { axis }, domain));
    weights.push({ initializer: name, node: n.name, axis, scales: scales.length });
    weightDq.set(name, `${name}__dq`);
    return `${name}__dq`;
  };

  const dequantizedActivation = (name: string): string => {
    const done = actDq.get(name);
    if (done) return done;
    const r = ranges.get(name);
    if (!r) {
      uncalibrated.add(name);
      return name;
    }
    const { scale, zeroPoint } = activationParams(r);
    newInits.push(floatTensor(`${name}__act_scale`, [], Float32Array.of(scale)), uint8Tensor(`${name}__act_zero_point`, [], Uint8Array.of(zeroPoint)));
    const qp = [`${name}__act_scale`, `${name}__act_zero_point`];
    nodes.push(
      node('QuantizeLinear', `${name}__QuantizeLinear`, [name, ...qp], [`${name}__q`], {}, domain),
      node('DequantizeLinear', `${name}__act_DequantizeLinear`, [`${name}__q`, ...qp], [`${name}__act_dq`], {}, domain),
    );
    actDq.set(name, `${name}__act_dq`);
    return `${name}__act_dq`;
  };

  for (const n of fold.nodes) {
    const which = n.domain === '' || n.domain === 'ai.onnx' ? ACTIVATION_INPUTS[n.opType] : undefined;
    if (!which) {
      const floatWork = [...n.input, ...n.output].some((x) => x !== '' && isFloatTensor(graph, x) && !inits.has(x));
      if (floatWork && !DATA_MOVEMENT.has(n.opType)) unquantized.push({ node: n.name, op: n.opType });
      nodes.push(n);
      continue;
    }
    const input = n.input.map((x, i) => {
      if (x === '') return x;
      const wIndex = WEIGHT_INPUT[n.opType];
      if (inits.has(x)) {
        const t = inits.get(x)!;
        return i === wIndex && t.dataType === 1 && t.dims.length >= 2 ? dequantizedWeight(n, x) : x;
      }
      const isAct = which === 'all' || which.includes(i);
      return isAct && isFloatTensor(graph, x) ? dequantizedActivation(x) : x;
    });
    const q = clone(NodeProtoSchema, n);
    q.input = input;
    nodes.push(q);
  }
  if (uncalibrated.size > 0) {
    const list = [...uncalibrated];
    warnings.push(`${graph.name}: no calibrated range for ${list.length} activation tensor(s) (${list.slice(0, 3).join(', ')}${list.length > 3 ? ', ...' : ''}); they stay float32`);
  }
  if (weights.length === 0 && actDq.size === 0) {
    warnings.push(`${graph.name}: no float32 weight or activation of an op with an int8 form (a float16 or integer model, or only data movement); the stage runs unchanged`);
  } else if (unquantized.length > 0) {
    const ops = [...new Set(unquantized.map((u) => u.op))].sort();
    warnings.push(`${graph.name}: ${unquantized.length} node(s) have no int8 form here and stay float32 (${ops.join(', ')}; first ${unquantized[0]!.node})`);
  }
  // An If branch or Loop body reads outer initializers by name (openWakeWord's verifier weights); a
  // weight the model lists as an output (a detector's anchors) stays as it is.
  const used = new Set([...nodes.flatMap((n) => [...n.input, ...subgraphReads(n)]), ...g.output.map((o) => o.name)]);
  const graphOut = create(GraphProtoSchema, {
    ...g,
    node: nodes,
    // Quantized weights replace their float originals unless a non-weight input still reads them.
    initializer: [...fold.initializers.filter((t) => used.has(t.name)), ...newInits],
    input: g.input.filter((vi) => !inits.has(vi.name) || used.has(vi.name)),
  });
  const opsetImport = domain && !proto.opsetImport.some((o) => o.domain === domain)
    ? [...proto.opsetImport, create(OperatorSetIdProtoSchema, { domain, version: 1n })]
    : proto.opsetImport;
  return {
    proto: create(ModelProtoSchema, { ...proto, opsetImport, graph: graphOut }),
    report: { weights, activations: [...actDq.keys()], foldedBatchNorms: fold.folded, unquantized, warnings },
  };
}
