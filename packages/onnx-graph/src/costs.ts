// Per-node costs: parameters, output bytes, multiply-accumulates and element-wise FLOPs.
import { einsumIndices } from './_einsum.js';
import { numel } from './_proto.js';
import type { Graph, GraphNode, NodeCost } from './types.js';

// Ops that only move or describe data: known, 0 FLOPs.
const DATA_OPS = new Set([
  'Reshape', 'Flatten', 'Transpose', 'Concat', 'Split', 'Slice', 'Squeeze', 'Unsqueeze', 'Identity',
  'Dropout', 'Shape', 'Size', 'Gather', 'Constant', 'ConstantOfShape', 'Cast', 'Pad', 'Expand', 'Tile',
  'Range', 'Resize', 'Upsample', 'CastLike', 'GatherElements', 'GatherND', 'ScatterND', 'ScatterElements',
  'DepthToSpace', 'SpaceToDepth', 'OneHot', 'Trilu', 'NonZero', 'Compress', 'EyeLike',
  // onnxruntime's QOperator form (com.microsoft): concatenation of quantized tensors.
  'QLinearConcat',
  // ONNX sequences (inside a sequence block): lists of tensors made, read and joined.
  'SplitToSequence', 'SequenceConstruct', 'SequenceEmpty', 'SequenceInsert', 'SequenceErase', 'SequenceAt',
  'SequenceLength', 'ConcatFromSequence',
  // Reordering, cropping and sampling ops that compute nothing per element worth counting.
  'ReverseSequence', 'CenterCropPad', 'Col2Im', 'Unique', 'MaxUnpool', 'RandomNormal', 'RandomUniform',
  'Optional', 'OptionalGetElement', 'OptionalHasElement',
  // Scatter: ScatterElements before opset 11; StringNormalizer: strings, cased and filtered.
  'Scatter', 'StringNormalizer',
]);
// Ops costing about one FLOP per output element.
const ELEMENTWISE = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh',
  'Softplus', 'Softsign', 'Exp', 'Log', 'Sqrt', 'Neg', 'Abs', 'Reciprocal', 'Floor', 'Ceil', 'Round',
  'Erf', 'Gelu', 'Mish', 'Sin', 'Cos', 'Sign', 'Clip', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min',
  'Sum', 'Mean', 'Mod', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor',
  'Not', 'Where', 'ThresholdedRelu', 'Shrink', 'CumSum', 'ArgMax', 'ArgMin', 'IsNaN', 'IsInf', 'BitShift',
  'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor',
  'BitwiseNot', 'Bernoulli', 'RandomNormalLike', 'RandomUniformLike', 'HannWindow', 'HammingWindow', 'BlackmanWindow',
  // A mel filter bank's weights, a few FLOPs per element of the matrix it makes; Swish (opset 24), x sigmoid(a x).
  'MelWeightMatrix', 'Swish',
  // Quantization: a scale, a round and a clamp per element (QDQ models, dynamic quantization).
  'QuantizeLinear', 'DequantizeLinear', 'DynamicQuantizeLinear',
  // onnxruntime's fused activations and its QOperator element-wise ops (com.microsoft).
  'BiasGelu', 'FastGelu', 'QuickGelu', 'BiasAdd', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid', 'QLinearLeakyRelu',
]);
// Normalisations: scale and shift per element (plus the statistics for the instance/layer norms).
const NORMS: Record<string, number> = {
  BatchNormalization: 2, InstanceNormalization: 4, LayerNormalization: 4, MeanVarianceNormalization: 4, LRN: 4,
  Softmax: 3, LogSoftmax: 3, Hardmax: 1, GroupNormalization: 4, RMSNormalization: 3,
  // onnxruntime's fused normalisations (com.microsoft): a residual add before the layer norm.
  SkipLayerNormalization: 5, SimplifiedLayerNormalization: 3, SkipSimplifiedLayerNormalization: 4, QLinearSoftmax: 3,
  LpNormalization: 3, EmbedLayerNormalization: 6, BiasSoftmax: 4,
  // Not normalisations, but as many FLOPs per output element: rotary position embeddings (x cos -+ y sin,
  // ai.onnx 23 and com.microsoft), bilinear sampling (four taps) and ROI alignment (four samples of four taps).
  RotaryEmbedding: 3, GridSample: 8, AffineGrid: 6, RoiAlign: 32,
};
// The convolutions: where the weight [M, C/g, k...] sits among the inputs.
// DeformConv (opset 19, torchvision's deform_conv2d) as a Conv: its bilinear sampling of the offsets left out.
const CONV_WEIGHT: Record<string, number> = { Conv: 1, ConvInteger: 1, QLinearConv: 3, FusedConv: 1, NhwcConv: 1, DeformConv: 1 };
// The matrix products whose first input is A [..., M, K] (or [..., K, M] with transA).
const MATMULS = new Set(['MatMul', 'MatMulInteger', 'QLinearMatMul', 'FusedMatMul', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'MatMulNBits']);
const GEMMS = new Set(['Gemm', 'FusedGemm', 'QGemm']);
// onnxruntime's contrib ops (com.microsoft) that its optimiser and quantiser write into exported models.
const CONTRIB = new Set([
  'FusedConv', 'FusedMatMul', 'FusedGemm', 'QGemm', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'MatMulNBits',
  'QLinearConcat', 'BiasGelu', 'FastGelu', 'QuickGelu', 'BiasAdd', 'Gelu', 'QLinearAdd', 'QLinearMul', 'QLinearSigmoid',
  'QLinearLeakyRelu', 'QLinearSoftmax', 'QLinearAveragePool', 'QLinearGlobalAveragePool', 'QuantizeLinear', 'DequantizeLinear',
  'SkipLayerNormalization', 'SimplifiedLayerNormalization', 'SkipSimplifiedLayerNormalization', 'LayerNormalization',
  'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'RotaryEmbedding', 'EmbedLayerNormalization', 'BiasSoftmax',
  'NhwcConv', 'DynamicQuantizeLSTM',
]);
const REDUCE = /^Reduce/;
// Recurrent layers and their gate count.
const RECURRENT: Record<string, number> = { LSTM: 4, GRU: 3, RNN: 1 };

/**
 * Classical machine learning (ai.onnx.ml: scikit-learn through skl2onnx, XGBoost, LightGBM), whose
 * weights sit in the node's attributes, not in initializers. Per sample (a row of the input):
 * 'linear' a product of the features with the coefficients (C x F), 'svm' with every support vector,
 * 'tree' a comparison per level of every tree, 'elementwise' a FLOP per output element, 'data' none.
 */
const ML_OPS: Record<string, 'linear' | 'svm' | 'tree' | 'elementwise' | 'data'> = {
  LinearClassifier: 'linear', LinearRegressor: 'linear', SVMClassifier: 'svm', SVMRegressor: 'svm',
  TreeEnsembleClassifier: 'tree', TreeEnsembleRegressor: 'tree', TreeEnsemble: 'tree',
  Scaler: 'elementwise', Normalizer: 'elementwise', Binarizer: 'elementwise', Imputer: 'elementwise',
  LabelEncoder: 'data', ArrayFeatureExtractor: 'data', FeatureVectorizer: 'data', OneHotEncoder: 'data',
  CategoryMapper: 'data', ZipMap: 'data', CastMap: 'data', DictVectorizer: 'data',
};

/** Parameters held in an ai.onnx.ml node's numeric list attributes (coefficients, support vectors, tree nodes), as 4-byte values. */
function mlAttributeParams(node: GraphNode): number {
  let n = 0;
  for (const v of Object.values(node.attributes)) if (Array.isArray(v) && typeof v[0] === 'number') n += v.length;
  return n;
}

/** MACs and FLOPs of an ai.onnx.ml node over `rows` samples of `features` features (ML_OPS). */
function mlCost(node: GraphNode, kind: (typeof ML_OPS)[string], rows: number, features: number, out: number): { macs: number; flops: number } {
  const list = (name: string) => (Array.isArray(node.attributes[name]) ? (node.attributes[name] as readonly unknown[]).length : 0);
  if (kind === 'linear') return { macs: rows * list('coefficients'), flops: 0 };
  if (kind === 'svm') return { macs: rows * (list('support_vectors') || list('coefficients')), flops: rows * list('coefficients') };
  if (kind === 'tree') {
    const ids = node.attributes['nodes_treeids'];
    const treeNodes = Array.isArray(ids) ? ids.length : list('nodes_featureids');
    const trees = Array.isArray(ids) ? new Set(ids as readonly number[]).size : 1;
    // A sample walks one path per tree: about log2 of a tree's nodes comparisons.
    return { macs: 0, flops: trees > 0 && treeNodes > 0 ? rows * trees * Math.max(1, Math.log2(treeNodes / trees + 1)) : 0 };
  }
  return { macs: 0, flops: kind === 'elementwise' ? Math.max(out, rows * features) : 0 };
}

/** The op as the cost model reads it: standard ops and the contrib ops it knows; '' for any other domain. */
function costedOp(node: GraphNode): string {
  const known = node.domain === '' || node.domain === 'ai.onnx' || (node.domain === 'com.microsoft' && CONTRIB.has(node.op));
  return known ? node.op : '';
}

/** The weight input of a convolution node (Conv, ConvTranspose and their quantized and fused forms), else undefined. */
export function convWeight(node: GraphNode): string | undefined {
  const op = costedOp(node);
  if (op === 'ConvTranspose') return node.inputs[1];
  return op in CONV_WEIGHT ? node.inputs[CONV_WEIGHT[op]!] : undefined;
}

function shapeOf(graph: Graph, name: string | undefined): readonly number[] {
  return (name ? graph.tensors.get(name)?.shape : undefined) ?? [];
}

/** Cost of one node; an op the model does not know costs 0 and has `known: false`. */
export function nodeCost(graph: Graph, node: GraphNode): NodeCost {
  let params = 0;
  let paramBytes = 0;
  for (const x of new Set(node.inputs)) {
    const t = x ? graph.tensors.get(x) : undefined;
    if (t?.isInitializer) {
      params += numel(t.shape);
      paramBytes += t.bytes;
    }
  }
  let outputBytes = 0;
  for (const o of node.outputs) if (o) outputBytes += graph.tensors.get(o)?.bytes ?? 0;
  const out = numel(shapeOf(graph, node.outputs[0]));
  const inp = numel(shapeOf(graph, node.inputs[0]));
  let macs = 0;
  let flops = 0;
  let known = true;
  const op = costedOp(node);
  const ml = node.domain === 'ai.onnx.ml' ? ML_OPS[node.op] : undefined;
  if (ml !== undefined) {
    const x = shapeOf(graph, node.inputs[0]);
    const features = x.length > 1 ? x[x.length - 1]! : 1;
    ({ macs, flops } = mlCost(node, ml, features > 0 ? inp / features : 0, features, out));
    const held = mlAttributeParams(node);
    params += held;
    paramBytes += 4 * held;
  } else if (node.subgraphCost) {
    macs = node.subgraphCost.macs;
    flops = node.subgraphCost.flops;
  } else if (op in CONV_WEIGHT) {
    // Each output element sums over its group's input channels and the kernel window: W is [M, C/g, k...].
    macs = out * numel(shapeOf(graph, node.inputs[CONV_WEIGHT[op]!]).slice(1));
  } else if (op === 'ConvTranspose') {
    // Each input element scatters into (M/g) * kernel outputs: W is [C, M/g, k...].
    macs = inp * numel(shapeOf(graph, node.inputs[1]).slice(1));
  } else if (GEMMS.has(op)) {
    const a = shapeOf(graph, node.inputs[0]);
    const k = node.attributes['transA'] === 1 ? a[0] ?? 0 : a[1] ?? 0;
    macs = out * k;
  } else if (MATMULS.has(op)) {
    const a = shapeOf(graph, node.inputs[0]);
    macs = out * (node.attributes['transA'] === 1 ? a[a.length - 2] ?? 0 : a[a.length - 1] ?? 0);
  } else if (op === 'Einsum') {
    ({ macs, flops } = einsumCost(graph, node));
  } else if (op === 'Attention' && node.domain !== 'com.microsoft') {
    ({ macs, flops } = onnxAttentionCost(graph, node));
  } else if (op === 'GroupQueryAttention') {
    ({ macs, flops } = groupQueryAttentionCost(graph, node));
  } else if (op === 'Attention' || op === 'MultiHeadAttention') {
    macs = attentionMacs(graph, node, op);
    flops = out * 3;
  } else if (op === 'TopK') {
    flops = inp;
  } else if (op === 'Det') {
    // An LU factorisation per matrix [..., n, n]: about 2/3 n^3 FLOPs.
    const n = shapeOf(graph, node.inputs[0]).at(-1) ?? 0;
    flops = n > 0 ? ((inp / (n * n)) * 2 * n ** 3) / 3 : 0;
  } else if (op === 'NegativeLogLikelihoodLoss' || op === 'SoftmaxCrossEntropyLoss') {
    // A weighted pick per target element, after a log-softmax over the scores for the cross-entropy.
    flops = 2 * numel(shapeOf(graph, node.inputs[1])) + (op === 'SoftmaxCrossEntropyLoss' ? 3 * inp : 0);
  } else if (op === 'TfIdfVectorizer') {
    // An n-gram lookup per input element and n-gram length.
    const maxN = node.attributes['max_gram_length'];
    flops = inp * (typeof maxN === 'number' && maxN > 0 ? maxN : 1);
  } else if (op === 'NonMaxSuppression') {
    // Data-dependent: the score scan and sort dominate once the score threshold drops most boxes.
    flops = numel(shapeOf(graph, node.inputs[1]));
  } else if (op === 'DFT' || op === 'STFT') {
    // A fast transform: about 5 n log2 n FLOPs per signal of n samples, so 5 log2 n per output element.
    const x = shapeOf(graph, node.inputs[0]);
    const n = op === 'STFT' ? numel(shapeOf(graph, node.inputs[3])) || (x[1] ?? 0) : x[x.length - 2] ?? 0;
    flops = n > 1 ? out * 5 * Math.log2(n) : out;
  } else if (op === 'MaxPool' || op === 'AveragePool' || op === 'LpPool' || op === 'QLinearAveragePool') {
    const k = node.attributes['kernel_shape'];
    flops = out * (Array.isArray(k) ? numel(k as number[]) : 1);
  } else if (op === 'GlobalAveragePool' || op === 'GlobalMaxPool' || op === 'GlobalLpPool' || op === 'QLinearGlobalAveragePool' || REDUCE.test(op)) {
    flops = inp;
  } else if (op in RECURRENT) {
    // Per step and direction: every gate multiplies the input and the hidden state (W is [dirs, gates*H, I]).
    const x = shapeOf(graph, node.inputs[0]);
    const w = shapeOf(graph, node.inputs[1]);
    const steps = (x[0] ?? 0) * (x[1] ?? 0); // sequence x batch, in either layout
    const hidden = (w[1] ?? 0) / RECURRENT[op]!;
    macs = steps * (w[0] ?? 0) * (w[1] ?? 0) * ((w[2] ?? 0) + hidden);
    flops = out * RECURRENT[op]! * 3;
  } else if (op === 'DynamicQuantizeLSTM') {
    // onnxruntime's int8 LSTM (com.microsoft): the same products, W stored transposed as [dirs, I, 4H].
    const x = shapeOf(graph, node.inputs[0]);
    const w = shapeOf(graph, node.inputs[1]);
    const steps = (x[0] ?? 0) * (x[1] ?? 0);
    macs = steps * (w[0] ?? 0) * (w[2] ?? 0) * ((w[1] ?? 0) + (w[2] ?? 0) / 4);
    flops = out * 4 * 3;
  } else if (op in NORMS) {
    flops = out * NORMS[op]!;
  } else if (ELEMENTWISE.has(op)) {
    flops = out;
  } else if (!DATA_OPS.has(op)) {
    known = false;
  }
  return { params, paramBytes, outputBytes, macs, flops, known };
}

/**
 * MACs of onnxruntime's fused attention (com.microsoft). Attention: input [B, S, D] times the packed
 * Q, K, V weights [D, 3H], then Q K^T and the weighted sum of V (S x S per head, H wide in all).
 * MultiHeadAttention: Q [B, S, D] against K, V [B, L, D] (L = S when K and V are packed with Q).
 */
function attentionMacs(graph: Graph, node: GraphNode, op: string): number {
  const x = shapeOf(graph, node.inputs[0]);
  const [b = 0, s = 0] = x;
  if (op === 'Attention') {
    const w = shapeOf(graph, node.inputs[1]);
    const packed = w[1] ?? 0;
    const sizes = node.attributes['qkv_hidden_sizes'];
    const [hq = 0, , hv = 0] = Array.isArray(sizes) && sizes.length === 3 ? (sizes as number[]) : [packed / 3, packed / 3, packed / 3];
    return b * s * (w[0] ?? 0) * packed + b * s * s * (hq + hv);
  }
  const k = shapeOf(graph, node.inputs[1]);
  const d = x.length === 3 ? x[2] ?? 0 : (x[2] ?? 0) * (x[4] ?? 0); // [B, S, D] or packed [B, S, N, 3, H]
  const l = k.length === 3 ? k[1] ?? 0 : s;
  return 2 * b * s * l * d;
}

/**
 * Einsum: each output element sums over the contracted indices, so two operands cost the product of
 * every index's size (broadcast "..." dimensions included) in MACs, and each further operand one
 * more such pass. One operand (a transpose, a diagonal, a sum) is counted as that many FLOPs.
 */
function einsumCost(graph: Graph, node: GraphNode): { macs: number; flops: number } {
  const e = einsumIndices(String(node.attributes['equation'] ?? ''), node.inputs.map((x) => shapeOf(graph, x)));
  if (!e) return { macs: 0, flops: 0 };
  const all = [...e.size.values()].reduce((a, b) => a * b, 1) * numel(e.ellipsis ?? []);
  return e.terms.length > 1 ? { macs: all * (e.terms.length - 1), flops: 0 } : { macs: 0, flops: all };
}

/**
 * ONNX Attention (ai.onnx opset 23): Q [B, Hq, S, Dh] or [B, S, Hq*Dh] against K, V over T = the
 * past (past_key [B, Hkv, P, Dh]) plus the new keys; each query head multiplies Q K^T (Dh per score)
 * and the scores by V (Dv per score): B Hq S T (Dh + Dv) MACs, and a scale and softmax per score.
 */
function onnxAttentionCost(graph: Graph, node: GraphNode): { macs: number; flops: number } {
  const q = shapeOf(graph, node.inputs[0]);
  const k = shapeOf(graph, node.inputs[1]);
  const v = shapeOf(graph, node.inputs[2]);
  const past = shapeOf(graph, node.inputs[4]);
  const attr = (name: string) => (typeof node.attributes[name] === 'number' ? (node.attributes[name] as number) : 0);
  const four = q.length === 4;
  const b = q[0] ?? 0;
  const s = (four ? q[2] : q[1]) ?? 0;
  const hq = four ? q[1] ?? 0 : attr('q_num_heads');
  const hkv = k.length === 4 ? k[1] ?? 0 : attr('kv_num_heads');
  const dh = four ? q[3] ?? 0 : hq > 0 ? (q[2] ?? 0) / hq : 0;
  const dv = v.length === 4 ? v[3] ?? 0 : hkv > 0 ? (v[2] ?? 0) / hkv : 0;
  const t = ((k.length === 4 ? k[2] : k[1]) ?? 0) + (past[2] ?? 0);
  return { macs: b * hq * s * t * (dh + dv), flops: 3 * b * hq * s * t };
}

/**
 * onnxruntime's GroupQueryAttention (com.microsoft; what onnxruntime-genai's model builder writes for
 * Llama, Phi, Qwen): query [B, S, Hq*D] (Q, K and V packed when key is absent), keys and values
 * shared by groups of heads, the cache present_key [B, Hkv, T, D]: 2 B S T Hq D MACs, a softmax per
 * score, and the rotary embedding of Q and K when do_rotary is set.
 */
function groupQueryAttentionCost(graph: Graph, node: GraphNode): { macs: number; flops: number } {
  const q = shapeOf(graph, node.inputs[0]);
  const y = shapeOf(graph, node.outputs[0]);
  const present = shapeOf(graph, node.outputs[1]);
  const past = shapeOf(graph, node.inputs[3]);
  const hq = typeof node.attributes['num_heads'] === 'number' ? (node.attributes['num_heads'] as number) : 0;
  const [b = 0, s = 0] = q;
  const width = y[2] ?? 0; // Hq * D
  const t = present[2] ?? (past[2] ?? 0) + s;
  const rotary = node.attributes['do_rotary'] === 1 ? 3 * b * s * (q[2] ?? 0) : 0;
  return { macs: 2 * b * s * t * width, flops: 3 * b * hq * s * t + rotary };
}

/** Costs of the whole graph; `params` counts each initializer's elements once. */
export interface GraphCosts {
  readonly nodes: ReadonlyMap<string, NodeCost>;
  readonly macs: number;
  readonly flops: number;
  /** Elements of all initializers (BatchNorm running statistics and shape constants included), and the weights ai.onnx.ml nodes hold in attributes. */
  readonly params: number;
  readonly paramBytes: number;
  /** Op types the cost model does not know (counted as 0), sorted. */
  readonly unknownOps: string[];
}

/** Per-node and total costs of a graph. */
export function graphCosts(graph: Graph): GraphCosts {
  const nodes = new Map<string, NodeCost>();
  let macs = 0;
  let flops = 0;
  const unknown = new Set<string>();
  // ai.onnx.ml nodes hold their weights in attributes (each node its own).
  let held = 0;
  for (const n of graph.nodes) {
    const c = nodeCost(graph, n);
    nodes.set(n.name, c);
    if (n.domain === 'ai.onnx.ml' && ML_OPS[n.op] !== undefined) held += mlAttributeParams(n);
    macs += c.macs;
    flops += c.flops;
    if (!c.known) unknown.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.op}` : n.op);
    for (const op of n.subgraphCost?.unknownOps ?? []) unknown.add(op);
  }
  let params = held;
  let paramBytes = 4 * held;
  for (const name of graph.initializers) {
    const t = graph.tensors.get(name)!;
    params += numel(t.shape);
    paramBytes += t.bytes;
  }
  return { nodes, macs, flops, params, paramBytes, unknownOps: [...unknown].sort() };
}
