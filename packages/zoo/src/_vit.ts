// torchvision.models.vision_transformer: ViT-B/16, ViT-B/32 and a ViT-Ti/16-sized VisionTransformer
// (DeiT-Tiny's dimensions with torchvision's modules), written as torch.onnx.export (TorchScript,
// opset 17) writes them. nn.MultiheadAttention takes its slow path under export (parameters
// require grad), so F.multi_head_attention_forward appears op by op in the `self_attention` scope:
// the packed in-projection as MatMul + Add, unflatten/unsqueeze/transpose/squeeze and three Gathers
// for q, k and v, per-head Reshape/Transpose, then scaled_dot_product_attention as opset 14's
// symbolic writes it (q and k^T each multiplied by sqrt(1/sqrt(head_dim)), MatMul, Softmax, MatMul)
// and the out-projection as a Gemm on the flattened tokens.

import { qualifiedName, type NetBuilder, type Tensor } from './_builder.js';
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

/** F.multi_head_attention_forward for self-attention with batch_first, need_weights=False, no mask. */
function selfAttention(b: NetBuilder, s: string, x: Tensor, heads: number): Tensor {
  const [n, l, e] = x.shape as [number, number, number];
  const hd = e / heads;
  const q = qualifiedName(s);
  // batch_first: query = key = value = query.transpose(1, 0)
  const t = b.transpose(s, x, [1, 0, 2]);
  // _in_projection_packed: one linear, then unflatten(-1, (3, E)).unsqueeze(0).transpose(0, -2).squeeze(-2)
  let proj = b.linear(s, t, 3 * e, LINEAR, `${q}.in_proj_bias`);
  proj = b.reshape(s, proj, [l, n, 3, e]);
  proj = b.unsqueeze(s, proj, 0);
  proj = b.transpose(s, proj, [3, 1, 2, 0, 4]);
  proj = b.squeeze(s, proj, -2);
  const parts = [0, 1, 2].map((i) => b.select(s, proj, 0, i));
  // q/k/v.view(L, N * heads, head_dim).transpose(0, 1), then .view(N, heads, L, head_dim) for SDPA
  const heads3 = parts.map((p) => b.transpose(s, b.reshape(s, p, [l, n * heads, hd]), [1, 0, 2]));
  const [q4, k4, v4] = heads3.map((h) => b.reshape(s, h, [n, heads, l, hd])) as [Tensor, Tensor, Tensor];
  // scaled_dot_product_attention (opset 14 symbolic): both q and k^T scaled by sqrt(scale)
  const kt = b.transpose(s, k4, [0, 1, 3, 2]);
  const sqrtScale = Math.sqrt(1 / Math.sqrt(hd));
  const qs = b.mul(s, q4, b.constant(s, sqrtScale));
  const ks = b.mul(s, kt, b.constant(s, sqrtScale));
  const attn = b.softmax(s, b.matmul(s, qs, ks));
  let out = b.matmul(s, attn, v4);
  // attn_output.permute(2, 0, 1, 3).contiguous().view(N * L, E), out_proj, view(L, N, E), transpose back
  out = b.reshape(s, b.transpose(s, out, [2, 0, 1, 3]), [l * n, e]);
  out = b.gemm(s, out, e, RESIDUAL, `${q}.out_proj`);
  out = b.reshape(s, out, [l, n, e]);
  return b.transpose(s, out, [1, 0, 2]);
}

/** EncoderBlock: pre-norm attention and MLP, each with a residual Add. */
function encoderBlock(b: NetBuilder, s: string, input: Tensor, c: VitConfig): Tensor {
  let x = b.layerNorm(`${s}/ln_1`, input, EPS);
  x = selfAttention(b, `${s}/self_attention`, x, c.heads);
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
  // _process_input: conv_proj, reshape(n, hidden, n_h * n_w), permute(0, 2, 1)
  let x = b.conv('/conv_proj', b.input, { out: c.hidden, k: c.patch, stride: c.patch, bias: true, gain: LINEAR });
  x = b.reshape('', x, [n, c.hidden, tokens]);
  x = b.transpose('', x, [0, 2, 1]);
  const cls = b.parameter('class_token', [1, 1, c.hidden], { bound: 0.5, mean: 0 });
  x = b.concatAxis('', [b.expand('', cls, [n, 1, c.hidden]), x], 1);
  const pos = b.parameter('encoder.pos_embedding', [1, tokens + 1, c.hidden], { bound: 0.5, mean: 0 });
  x = b.add('/encoder', x, pos);
  for (let i = 0; i < c.layers; i++) x = encoderBlock(b, `/encoder/layers/encoder_layer_${i}`, x, c);
  x = b.layerNorm('/encoder/ln', x, EPS);
  x = b.select('', x, 1, 0);
  return b.gemm('/heads/head', x, 1000, LINEAR);
}
