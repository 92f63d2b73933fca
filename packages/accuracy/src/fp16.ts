// Float16 stage models: float32 weights and activations become float16, with Cast at the model's
// float32 boundary so stages still exchange float32 (the transfer encoding is a separate choice).
// Ops that must stay float32 (index- or range-computing ops, ops without float16 kernels) keep
// float32 with Casts around them, and are listed.
import { clone, create } from '@bufbuild/protobuf';
import {
  GraphProtoSchema, ModelProtoSchema, NodeProtoSchema,
  type ModelProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';
import { toHalfBits, type Graph } from '@dnnpart/onnx-graph';
import { halfTensor, node, readFloats, renameSubgraphReads, subgraphReads, T_FLOAT, T_FLOAT16 } from './_onnx.js';
import { AccuracyError } from './errors.js';

/** Ops kept in float32: their float inputs are index/range data or they lose too much in float16. */
const KEEP_FP32 = new Set([
  'Resize', 'Upsample', 'Range', 'CumSum', 'TopK', 'NonMaxSuppression', 'RoiAlign', 'AffineGrid', 'RandomUniformLike',
  'RandomNormalLike', 'ConstantOfShape', 'Shape', 'Size',
  // Spectral ops: onnxruntime has no float16 STFT or DFT, and the windows and mel matrix they read
  // are made in float32 (their output_datatype) in torch.stft's and torchaudio's exports.
  'STFT', 'DFT', 'HannWindow', 'HammingWindow', 'BlackmanWindow', 'MelWeightMatrix',
  // Quantization ops whose float inputs or outputs are float32 only in every opset (scales, or the
  // tensor DynamicQuantizeLinear quantizes). MatMulInteger and ConvInteger read no floats at all.
  'DynamicQuantizeLinear', 'QLinearConv', 'QLinearMatMul',
  // No float16 in their schema (Celu), or an onnxruntime expansion that mixes float32 constants into
  // a float16 body (MeanVarianceNormalization): ONNX's backend test models of both failed to load.
  'Celu', 'MeanVarianceNormalization',
]);

/** Ops that take or give float16 only from an opset of the default domain on (QuantizeLinear's input, DequantizeLinear's output; IsInf's input). */
const FP16_FROM_OPSET: Readonly<Record<string, number>> = { QuantizeLinear: 19, DequantizeLinear: 19, IsInf: 20 };
/** Scatters that reduce into their data (add, mul, min, max) have no float16 kernel in onnxruntime's CPU provider. */
const REDUCING_SCATTERS = new Set(['ScatterND', 'ScatterElements']);
const utf8 = new TextDecoder();

/** Largest finite float16. */
const HALF_MAX = 65504;
/**
 * Constants this large stand for minus (or plus) infinity: attention masks as exporters write them
 * (float32's minimum -3.4e38, or -1e9). Stored as +-65504 they still mask, where -Inf times a zero
 * of the mask would be NaN. A smaller constant past 65504 is a real value float16 cannot hold.
 */
const SENTINEL = 1e9;

/** What `convertFp16` did. */
export interface Fp16Report {
  /** Float-computing nodes kept in float32, as `{ node, op }`. */
  readonly keptFp32: readonly { readonly node: string; readonly op: string }[];
  /** Initializers stored as float16. */
  readonly convertedInitializers: number;
  /**
   * Constant values of magnitude 1e9 or more (an attention mask's float32 minimum, -3.4e38) stored
   * as +-65504 instead of +-Inf, as float16 converters do: -Inf times a zero of the mask is NaN.
   */
  readonly clampedValues: number;
  /**
   * Constant values between 65504 and 1e9 in magnitude that reached float16, as +-Inf (warned): a
   * Constant node's. A weight (initializer) that large keeps its readers in float32 instead.
   */
  readonly overflowValues: number;
  readonly warnings: readonly string[];
}

export interface Fp16Model {
  readonly proto: ModelProto;
  readonly report: Fp16Report;
}

/**
 * The float16 form of a model or stage model. `graph` gives tensor dtypes by name. The source proto
 * is not modified; graph inputs and outputs keep float32 (a Cast inside the model converts).
 */
export function convertFp16(proto: ModelProto, graph: Graph): Fp16Model {
  const g = proto.graph!;
  const inits = new Map<string, TensorProto>(g.initializer.map((t) => [t.name, t]));
  const isFloat = (x: string) => x !== '' && (inits.get(x)?.dataType === T_FLOAT || (!inits.has(x) && graph.tensors.get(x)?.dtype === 'float32'));
  const graphInputs = new Set(g.input.map((i) => i.name).filter((n) => !inits.has(n)));
  const graphOutputs = new Set(g.output.map((o) => o.name));
  const opset = Number(proto.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0);
  // Cast from opset 6 on: before it, its `to` was a string, and onnxruntime runs no Cast of opset 1.
  const cast = (name: string, x: string, y: string, to: number): NodeProto => {
    if (opset < 6) {
      throw new AccuracyError('ACCURACY_BAD_OPTION', `${graph.name}: a float16 stage needs Cast of opset 6 or later, and the model has opset ${opset}: convert it to a newer opset (onnx.version_converter) or keep the stage fp32`);
    }
    return node('Cast', name, [x], [y], { to });
  };
  const keep = (n: NodeProto) => KEEP_FP32.has(n.opType) || opset < (FP16_FROM_OPSET[n.opType] ?? 0)
    || (REDUCING_SCATTERS.has(n.opType) && n.attribute.some((a) => a.name === 'reduction' && utf8.decode(a.s) !== 'none'));
  const nodes: NodeProto[] = [];
  const newInits: TensorProto[] = [];
  const half = new Map<string, string>(); // float32 name -> its float16 name
  const single = new Map<string, string>(); // float16 tensor produced in the graph -> its float32 copy
  const keptFp32: { node: string; op: string }[] = [];
  let convertedInitializers = 0;
  let clampedValues = 0;
  let firstClamped = '';
  let overflowValues = 0;
  let firstOverflow = '';
  // float16 bits of float32 constants: mask sentinels clamp to +-65504, other values past it are Inf.
  const halfBits = (v: Float32Array | number[], name: string): Uint16Array => {
    const bits = new Uint16Array(v.length);
    for (let i = 0; i < v.length; i++) {
      let x = v[i]!;
      if (Number.isFinite(x) && Math.abs(x) > HALF_MAX) {
        if (Math.abs(x) >= SENTINEL) {
          x = Math.sign(x) * HALF_MAX;
          clampedValues++;
          firstClamped ||= name;
        } else {
          overflowValues++;
          firstOverflow ||= name;
        }
      }
      bits[i] = toHalfBits(x);
    }
    return bits;
  };

  // float16 name of a float32 tensor: graph inputs get a Cast, initializers a float16 copy.
  const asHalf = (x: string): string => {
    const done = half.get(x);
    if (done) return done;
    const name = `${x}__fp16`;
    const t = inits.get(x);
    if (t) {
      newInits.push(halfTensor(name, t.dims.map(Number), halfBits(readFloats(t), x)));
      convertedInitializers++;
    } else nodes.push(cast(`${x}__CastToFp16`, x, name, T_FLOAT16));
    half.set(x, name);
    return name;
  };
  // float32 name of a tensor computed in float16 inside the graph.
  const asSingle = (x: string): string => {
    if (inits.has(x) || graphInputs.has(x)) return x;
    const done = single.get(x);
    if (done) return done;
    const name = `${x}__fp32`;
    nodes.push(cast(`${x}__CastToFp32`, x, name, T_FLOAT));
    single.set(x, name);
    return name;
  };
  // Tensors produced in the graph carry their own name in float16, except graph outputs.
  const producedHalf = new Set<string>();
  // A float32 weight float16 cannot hold (a value past 65504 that is no mask sentinel: PaddleOCR
  // det's BatchNorm variances of 1e5, Silero v4's 2^20 gain): the nodes reading it stay float32, so
  // the weight keeps its value instead of becoming Inf.
  const overflowing = new Map<string, boolean>();
  const overflows = (x: string): boolean => {
    let o = overflowing.get(x);
    if (o === undefined) {
      const t = inits.get(x);
      o = t !== undefined && t.dataType === T_FLOAT && readFloats(t).some((v) => Number.isFinite(v) && Math.abs(v) > HALF_MAX && Math.abs(v) < SENTINEL);
      overflowing.set(x, o);
    }
    return o;
  };
  const keptForRange: { node: string; weight: string }[] = [];
  // An integer product's int32 accumulator made float (onnxruntime's dynamic quantization:
  // MatMulInteger or ConvInteger, Cast, Mul by the scales) runs past 65504 (Moonshine's encoder:
  // 1e5) though the scaled result is small: the Cast and the Mul that scales it stay float32.
  const accumulators = new Set(g.node.filter((n) => n.opType === 'Cast' && (n.domain === '' || n.domain === 'ai.onnx') && intAttrValue(n, 'to') === T_FLOAT && graph.tensors.get(n.input[0] ?? '')?.dtype === 'int32').map((n) => n.output[0]!));
  const scalesAccumulator = (n: NodeProto) => accumulators.has(n.output[0] ?? '') || (n.opType === 'Mul' && (n.domain === '' || n.domain === 'ai.onnx') && n.input.some((x) => accumulators.has(x)));
  // A decomposed layer norm's variance: (x - mean)^2 passes 65504 once |x - mean| passes 256 (the
  // residual stream of Moonshine's later layers), so the square, its mean, the epsilon and the square
  // root stay float32; the root is back in float16's range.
  const isSquare = (n: NodeProto) => {
    const e = n.opType === 'Pow' && (n.domain === '' || n.domain === 'ai.onnx') ? inits.get(n.input[1] ?? '') : undefined;
    // A float32 exponent of 2 (an integer or double exponent is read as no square: rare in exports).
    return e !== undefined && e.dataType === T_FLOAT && readFloats(e).every((v) => v === 2);
  };
  const variance = new Set<string>();
  const producedBy = new Map(g.node.flatMap((n) => n.output.map((y) => [y, n] as const)));
  for (const n of g.node) {
    const fromSquare = n.input.some((x) => variance.has(producedBy.get(x)?.name ?? '') && producedBy.get(x)?.opType !== 'Sqrt');
    if (isSquare(n) || (fromSquare && ['ReduceMean', 'ReduceSum', 'Add', 'Sqrt'].includes(n.opType))) variance.add(n.name);
  }
  /** Nodes that run in float32 in the float16 model. */
  const staysFp32 = (n: NodeProto): boolean => !(n.domain === '' || n.domain === 'ai.onnx') || keep(n) || subgraphReads(n).length > 0
    || n.input.some(overflows) || scalesAccumulator(n) || variance.has(n.name);
  // A float32 result that only float32 nodes read needs no float16 copy (an accumulator's or a
  // square's would be Inf in float16).
  const readers = new Map<string, NodeProto[]>();
  for (const n of g.node) for (const x of n.input) (readers.get(x) ?? readers.set(x, []).get(x)!).push(n);
  const noHalfCopy = (y: string) => (readers.get(y) ?? []).length > 0 && readers.get(y)!.every(staysFp32);

  for (const n of g.node) {
    const q = clone(NodeProtoSchema, n);
    // A node with subgraphs (If, Loop, Scan) runs them as the file has them, in float32: its inputs
    // and the outer tensors its subgraphs read come back to float32 (openWakeWord's verifier If).
    const reads = subgraphReads(n);
    const wide = n.input.find(overflows);
    if (wide !== undefined) keptForRange.push({ node: n.name, weight: wide });
    if (staysFp32(n)) {
      if (n.input.some(isFloat) || n.output.some(isFloat) || reads.some(isFloat)) keptFp32.push({ node: n.name, op: n.opType });
      q.input = n.input.map((x) => (producedHalf.has(x) ? asSingle(x) : x));
      renameSubgraphReads(q, (x) => (producedHalf.has(x) ? asSingle(x) : undefined));
      q.output = n.output.map((y) => (isFloat(y) && !graphOutputs.has(y) ? `${y}__kept_fp32` : y));
      nodes.push(q);
      n.output.forEach((y, i) => {
        if (isFloat(y) && !graphOutputs.has(y)) {
          if (!noHalfCopy(y)) nodes.push(cast(`${y}__CastToFp16`, q.output[i]!, y, T_FLOAT16));
          producedHalf.add(y);
          single.set(y, q.output[i]!);
        }
      });
      continue;
    }
    q.input = n.input.map((x) => (!isFloat(x) || producedHalf.has(x) ? x : asHalf(x)));
    if (n.opType === 'Constant') {
      const a = q.attribute.find((x) => x.name === 'value' && x.t?.dataType === T_FLOAT);
      if (a?.t) a.t = halfTensor(a.t.name, a.t.dims.map(Number), halfBits(readFloats(a.t), n.name));
    }
    // A Cast to float32 makes float16 instead, unless the model's float32 is not a float tensor of the
    // graph's: a bfloat16 tensor a stage sends on as float32 (splitModel's cast) leaves as float32.
    if (n.opType === 'Cast' && intAttrValue(n, 'to') === T_FLOAT && isFloat(n.output[0] ?? '')) {
      setIntAttr(q, 'to', T_FLOAT16);
      // From float32 to float32 (an expanded LayerNormalization's cast to its stash type): float16 to
      // float16 now, which onnxruntime's cast insertion mistypes (the model fails to load). An Identity.
      if (isFloat(n.input[0] ?? '')) {
        q.opType = 'Identity';
        q.attribute = [];
      }
    }
    q.output = n.output.map((y) => (isFloat(y) && graphOutputs.has(y) ? `${y}__fp16` : y));
    nodes.push(q);
    n.output.forEach((y, i) => {
      if (!isFloat(y)) return;
      if (graphOutputs.has(y)) {
        nodes.push(cast(`${y}__CastToFp32`, q.output[i]!, y, T_FLOAT));
        // A stage output that later nodes of the stage read too: they read the float16 original.
        half.set(y, q.output[i]!);
      } else producedHalf.add(y);
    });
  }
  // A weight the model lists as an output stays a float32 output.
  const used = new Set([...nodes.flatMap((n) => [...n.input, ...subgraphReads(n)]), ...g.output.map((o) => o.name)]);
  // Inner value_info would still say float32 for tensors that are now float16.
  const valueInfo: ValueInfoProto[] = g.valueInfo.filter((vi) => !producedHalf.has(vi.name));
  const warnings = keptFp32.length
    ? [`${graph.name}: ${keptFp32.length} node(s) stay float32 in the float16 model (${[...new Set(keptFp32.map((k) => k.op))].sort().join(', ')}; first ${keptFp32[0]!.node})`]
    : [];
  if (clampedValues > 0) warnings.push(`${graph.name}: ${clampedValues} constant value(s) of magnitude 1e9 or more (mask values) stored as +-65504 in float16 (first in ${firstClamped})`);
  if (keptForRange.length > 0) warnings.push(`${graph.name}: ${keptForRange.length} node(s) read weights past float16's 65504 and stay float32 (first ${keptForRange[0]!.node}, reading ${keptForRange[0]!.weight})`);
  if (overflowValues > 0) warnings.push(`${graph.name}: ${overflowValues} constant value(s) past float16's 65504 become +-Inf in float16 (first in ${firstOverflow})`);
  const graphOut = create(GraphProtoSchema, {
    ...g,
    node: nodes,
    initializer: [...g.initializer.filter((t) => used.has(t.name)), ...newInits],
    input: g.input.filter((vi) => !inits.has(vi.name) || used.has(vi.name)),
    valueInfo,
  });
  return { proto: create(ModelProtoSchema, { ...proto, graph: graphOut }), report: { keptFp32, convertedInitializers, clampedValues, overflowValues, warnings } };
}

function intAttrValue(n: NodeProto, name: string): number | undefined {
  const a = n.attribute.find((x) => x.name === name);
  return a ? Number(a.i) : undefined;
}

function setIntAttr(n: NodeProto, name: string, v: number): void {
  const a = n.attribute.find((x) => x.name === name);
  if (a) a.i = BigInt(v);
}
