// torchvision.models.vision_transformer: ViT-B/16, ViT-B/32 and a ViT-Ti/16-sized VisionTransformer
// (DeiT-Tiny's dimensions with torchvision's modules), written as torch.onnx.export (TorchScript,
// opset 17) writes them. nn.MultiheadAttention takes its slow path under export (parameters
// require grad), so F.multi_head_attention_forward appears op by op in the `self_attention` scope:
// the packed in-projection as MatMul + Add, unflatten/unsqueeze/transpose/squeeze and three Gathers
// for q, k and v, per-head Reshape/Transpose, then scaled_dot_product_attention as opset 14's
// symbolic writes it (q and k^T each multiplied by sqrt(1/sqrt(head_dim)), MatMul, Softmax, MatMul)
// and the out-projection as a Gemm on the flattened tokens.

import { attr, qualifiedName, type NetBuilder, type Tensor } from './_builder.js';
import { LINEAR, RESIDUAL } from './_gains.js';

/** One VisionTransformer configuration (torchvision's constructor arguments). */
export interface VitConfig {
  readonly patch: number;
  readonly layers: number;
  readonly heads: number;
  readonly hidden: number;
  readonly mlp: number;
}

export const VIT_B_16: VitConfig = { patch: 16, layers: 12, heads: 12, hidden: 768, mlp: 3072 };
export const VIT_B_32: VitConfig = { patch: 32, layers: 12, heads: 12, hidden: 768, mlp: 3072 };
export const VIT_TI_16: VitConfig = { patch: 16, layers: 12, heads: 3, hidden: 192, mlp: 768 };

// torchvision's ViT uses LayerNorm(eps=1e-6) throughout.
const EPS = 1e-6;
// GELU's output has about half the second moment of its input near unit variance.
const GELU_GAIN = Math.SQRT2;

const INT64_MAX = 9223372036854775807n;

/** The exporter's hoisted scalar index constants, shared by every layer's q/k/v Gathers and the head's. */
interface Indices {
  readonly zero: Tensor;
  readonly one: Tensor;
  readonly two: Tensor;
}

/**
 * F.multi_head_attention_forward for self-attention with batch_first, need_weights=False, no mask,
 * node for node as torch 2.13's TorchScript exporter writes it (shape arithmetic of `unflatten`
 * and of the SDPA scale included; no constant folding applies to them).
 */
function selfAttention(b: NetBuilder, s: string, x: Tensor, heads: number, idx: Indices): Tensor {
  const [n, l, e] = x.shape as [number, number, number];
  const hd = e / heads;
  const q = qualifiedName(s);
  const i64 = (values: readonly (number | bigint)[]) => b.constantTensor(s, 'int64', values, [values.length]);
  // batch_first: query = key = value = query.transpose(1, 0)
  const t = b.transpose(s, x, [1, 0, 2]);
  // _in_projection_packed: linear, then unflatten(-1, (3, E)) through Shape/Slice/Concat, unsqueeze(0), transpose(0, -2), squeeze(-2)
  const proj = b.linear(s, t, 3 * e, LINEAR, `${q}.in_proj_bias`);
  const sizes = i64([3, e]);
  const mod = b.op(s, 'Mod', [i64([2]), i64([3])], [1], [], 'int64');
  const shape = b.op(s, 'Shape', [proj], [3], [], 'int64');
  const start = i64([0]);
  const head = b.op(s, 'Slice', [shape, start, b.reshapeBy(s, mod, i64([1]), [1], false)], [2], [], 'int64');
  const after = b.add(s, mod, i64([1]));
  const tail = b.op(s, 'Slice', [shape, b.reshapeBy(s, after, i64([1]), [1], false), i64([INT64_MAX])], [0], [], 'int64');
  const target = b.op(s, 'Concat', [head, sizes, tail], [4], [attr.int('axis', 0)], 'int64');
  let p = b.reshapeBy(s, proj, target, [l, n, 3, e]);
  p = b.op(s, 'Unsqueeze', [p, i64([0])], [1, l, n, 3, e]);
  p = b.transpose(s, p, [3, 1, 2, 0, 4]);
  p = b.op(s, 'Squeeze', [p, i64([3])], [3, l, n, e]);
  const [pq, pk, pv] = [idx.zero, idx.one, idx.two].map((i) => b.gather(s, p, i, 0)) as [Tensor, Tensor, Tensor];
  // q/k/v.view(L, N * heads, head_dim).transpose(0, 1), then .view(N, heads, L, head_dim) for SDPA
  const [tq, tk, tv] = [pq, pk, pv].map((v) => b.transpose(s, b.reshapeBy(s, v, i64([l, n * heads, hd]), [l, n * heads, hd]), [1, 0, 2])) as [Tensor, Tensor, Tensor];
  const q4 = b.reshapeBy(s, tq, i64([n, heads, l, hd]), [n, heads, l, hd]);
  const kShape = i64([n, heads, l, hd]);
  const vShape = i64([n, heads, l, hd]);
  const k4 = b.reshapeBy(s, tk, kShape, [n, heads, l, hd]);
  const v4 = b.reshapeBy(s, tv, vShape, [n, heads, l, hd]);
  // scaled_dot_product_attention (opset 14 symbolic): scale = 1 / sqrt(q.shape[-1]), q and k^T each times sqrt(scale)
  const last = b.op(s, 'Slice', [b.op(s, 'Shape', [q4], [4], [], 'int64'), i64([-1]), i64([INT64_MAX])], [1], [], 'int64');
  const size = b.cast(s, last, 'float32');
  const root = b.op(s, 'Sqrt', [size], [1]);
  const scale = b.cast(s, b.div(s, b.constantTensor(s, 'float32', [1], [1]), root), 'float32');
  const kt = b.transpose(s, k4, [0, 1, 3, 2]);
  const qs = b.mul(s, q4, b.op(s, 'Sqrt', [scale], [1]));
  const ks = b.mul(s, kt, b.op(s, 'Sqrt', [scale], [1]));
  const probs = b.softmax(s, b.matmul(s, qs, ks));
  let out = b.matmul(s, probs, v4);
  // attn_output.permute(2, 0, 1, 3).contiguous().view(L * N, E), out_proj, view(L, N, E), transpose back
  out = b.transpose(s, out, [2, 0, 1, 3]);
  out = b.reshapeBy(s, out, i64([l * n, e]), [l * n, e]);
  out = b.gemm(s, out, e, RESIDUAL, `${q}.out_proj`);
  out = b.reshapeBy(s, out, i64([l, n, e]), [l, n, e]);
  return b.transpose(s, out, [1, 0, 2]);
}

/** EncoderBlock: pre-norm attention and MLP, each with a residual Add. */
function encoderBlock(b: NetBuilder, s: string, input: Tensor, c: VitConfig, idx: Indices): Tensor {
  let x = b.layerNorm(`${s}/ln_1`, input, EPS);
  x = selfAttention(b, `${s}/self_attention`, x, c.heads, idx);
  x = b.add(s, x, input);
  // MLPBlock is a Sequential: 0 Linear, 1 GELU, 2 Dropout, 3 Linear, 4 Dropout (dropouts vanish in eval).
  let y = b.layerNorm(`${s}/ln_2`, x, EPS);
  y = b.linear(`${s}/mlp/mlp.0`, y, c.mlp, GELU_GAIN);
  y = b.gelu(`${s}/mlp/mlp.1`, y);
  y = b.linear(`${s}/mlp/mlp.3`, y, c.hidden, RESIDUAL);
  return b.add(s, x, y);
}

/** VisionTransformer(image_size = the input's side, ...) with its classification head. */
export function vit(b: NetBuilder, c: VitConfig): Tensor {
  const [n, , h, w] = b.input.shape as [number, number, number, number];
  const tokens = (h / c.patch) * (w / c.patch);
  // The exporter hoists the scalar indices 0, 1, 2 to the top (one of them lands in conv_proj's scope).
  const idx: Indices = {
    zero: b.constantTensor('', 'int64', [0], []),
    two: b.constantTensor('', 'int64', [2], []),
    one: b.constantTensor('/conv_proj', 'int64', [1], []),
  };
  // _process_input: conv_proj, reshape(n, hidden, n_h * n_w), permute(0, 2, 1)
  let x = b.conv('/conv_proj', b.input, { out: c.hidden, k: c.patch, stride: c.patch, bias: true, gain: LINEAR });
  x = b.reshapeBy('', x, b.constantTensor('', 'int64', [n, c.hidden, tokens], [3]), [n, c.hidden, tokens]);
  x = b.transpose('', x, [0, 2, 1]);
  // class_token.expand(n, -1, -1): torch's expand symbolic replaces the -1s by 1 with Where
  const sizes = b.constantTensor('', 'int64', [n, -1, -1], [3]);
  const ones = b.op('', 'ConstantOfShape', [b.constantTensor('', 'int64', [3], [1])], [3], [attr.tensor('value', 'int64', [1], [1])], 'int64');
  const minus = b.mul('', ones, b.constantTensor('', 'int64', [-1], []));
  const isMinus = b.op('', 'Equal', [sizes, minus], [3], [], 'bool');
  const target = b.op('', 'Where', [isMinus, ones, sizes], [3], [], 'int64');
  const cls = b.parameter('class_token', [1, 1, c.hidden], { bound: 0.5, mean: 0 });
  x = b.concatAxis('', [b.op('', 'Expand', [cls, target], [n, 1, c.hidden]), x], 1);
  const pos = b.parameter('encoder.pos_embedding', [1, tokens + 1, c.hidden], { bound: 0.5, mean: 0 });
  x = b.add('/encoder', x, pos);
  for (let i = 0; i < c.layers; i++) x = encoderBlock(b, `/encoder/layers/encoder_layer_${i}`, x, c, idx);
  x = b.layerNorm('/encoder/ln', x, EPS);
  x = b.gather('', x, idx.zero, 1);
  return b.gemm('/heads/head', x, 1000, LINEAR);
}
