// Hugging Face transformers' BertModel without the pooler (the encoder's last_hidden_state):
// BERT-base (bert-base-uncased) and MiniLM-L6 (sentence-transformers/all-MiniLM-L6-v2), node for
// node as torch.onnx.export (TorchScript, opset 17) writes transformers 5's eager attention:
// Linear as MatMul + Add(bias, .), per-head Reshape + Transpose, scores times head_dim^-0.5, the
// additive mask, Softmax, LayerNormalization, and the exact GELU as its Erf decomposition
// (test/fixtures/minilm_l6-1x16.tsv is the real export these are checked against).

import { attr, type NetBuilder, type Tensor } from './_builder.js';
import { LINEAR, RESIDUAL } from './_gains.js';

/** One BertConfig (the fields that shape the graph and the parameter count). */
export interface BertConfig {
  readonly layers: number;
  readonly hidden: number;
  readonly heads: number;
  readonly intermediate: number;
  readonly vocab: number;
  readonly maxPositions: number;
  readonly typeVocab: number;
}

export const BERT_BASE: BertConfig = { layers: 12, hidden: 768, heads: 12, intermediate: 3072, vocab: 30522, maxPositions: 512, typeVocab: 2 };
export const MINILM_L6: BertConfig = { layers: 6, hidden: 384, heads: 12, intermediate: 1536, vocab: 30522, maxPositions: 512, typeVocab: 2 };

/** BertModel's inputs, in the order the Hugging Face exporters write them. */
export const BERT_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;

// BertConfig.layer_norm_eps.
const EPS = 1e-12;
const GELU_GAIN = Math.SQRT2;
// torch.finfo(torch.float32).min: get_extended_attention_mask's value for masked positions.
const FLOAT32_MIN = -3.4028234663852886e38;

/** BertSelfAttention (eager) and BertSelfOutput: the block's attention half, post-norm. */
function attention(b: NetBuilder, s: string, x: Tensor, mask: Tensor, c: BertConfig): Tensor {
  const [n, l, e] = x.shape as [number, number, number];
  const hd = e / c.heads;
  const self = `${s}/self`;
  const split = (t: Tensor, shape: Tensor) => b.reshapeBy(self, t, shape, [n, l, c.heads, hd]);
  // view(batch, seq, -1, head_dim): the three shapes are written before the first Reshape
  const query = b.linear(`${self}/query`, x, e, LINEAR);
  const shapes = [0, 1, 2].map(() => b.constantTensor(self, 'int64', [n, l, -1, hd], [4])) as [Tensor, Tensor, Tensor];
  const q = b.transpose(self, split(query, shapes[0]), [0, 2, 1, 3]);
  const k = split(b.linear(`${self}/key`, x, e, LINEAR), shapes[1]);
  const v = b.transpose(self, split(b.linear(`${self}/value`, x, e, LINEAR), shapes[2]), [0, 2, 1, 3]);
  // key.transpose(1, 2) then .transpose(2, 3): the exporter merges them into one Transpose
  let scores = b.matmul(self, q, b.transpose(self, k, [0, 2, 3, 1]));
  scores = b.mul(self, scores, b.constant(self, 1 / Math.sqrt(hd)));
  scores = b.add(self, scores, mask);
  const probs = b.softmax(self, scores);
  let ctx = b.transpose(self, b.matmul(self, probs, v), [0, 2, 1, 3]);
  ctx = b.reshapeBy(self, ctx, b.constantTensor(self, 'int64', [n, l, -1], [3]), [n, l, e]);
  const out = b.linear(`${s}/output/dense`, ctx, e, RESIDUAL);
  return b.layerNorm(`${s}/output/LayerNorm`, b.add(`${s}/output`, out, x), EPS);
}

/** BertLayer: attention, then BertIntermediate (dense + GELU) and BertOutput (dense, residual, LayerNorm). */
function layer(b: NetBuilder, s: string, x: Tensor, mask: Tensor, c: BertConfig): Tensor {
  const a = attention(b, `${s}/attention`, x, mask, c);
  let y = b.linear(`${s}/intermediate/dense`, a, c.intermediate, GELU_GAIN);
  y = b.gelu(`${s}/intermediate/intermediate_act_fn`, y);
  y = b.linear(`${s}/output/dense`, y, c.hidden, RESIDUAL);
  return b.layerNorm(`${s}/output/LayerNorm`, b.add(`${s}/output`, y, a), EPS);
}

/**
 * The additive attention mask of transformers 5 (masking_utils, eager): a padding mask looked up
 * per (batch, key) with the exporter's advanced-indexing ops, combined with an all-true causal
 * part, expanded to [batch, 1, seq, seq] and turned into 0 / float32 min by Where.
 */
function extendedMask(b: NetBuilder, attentionMask: Tensor): Tensor {
  const [n, l] = attentionMask.shape as [number, number];
  const i64 = (values: readonly number[], dims: readonly number[]) => b.constantTensor('', 'int64', values, dims);
  const range = Array.from({ length: l }, (_, i) => i);
  const valid = b.cast('', attentionMask, 'bool');
  const all = b.op('', 'ConstantOfShape', [i64([], [0])], [], [attr.tensor('value', 'bool', [1], [1])], 'bool');
  const queries = b.op('', 'GreaterOrEqual', [i64(range, [1, 1, l, 1]), i64([0], [])], [1, 1, l, 1], [], 'bool');
  const causal = b.op('', 'And', [all, b.cast('', queries, 'bool')], [1, 1, l, 1], [], 'bool');
  // attention_mask[batch_idx, kv_idx] as Gather on the flattened mask at batch * seq + kv
  const seq = b.gather('', b.op('', 'Shape', [valid], [2], [], 'int64'), i64([1], [1]), 0);
  const flat = b.op('', 'Flatten', [valid], [n * l, 1], [attr.int('axis', 2)], 'bool');
  const base = b.mul('', i64(Array.from({ length: n }, (_, i) => i), [n, 1, 1, 1]), seq);
  const index = b.add('', i64(range, [1, 1, 1, l]), base);
  const picked = b.gather('', flat, index, 0);
  const indexShape = b.op('', 'Shape', [index], [4], [], 'int64');
  const rows = b.reshapeBy('', picked, i64([-1], [1]), [n * l]);
  const padding = b.reshapeBy('', rows, b.op('', 'Concat', [indexShape], [4], [attr.int('axis', 0)], 'int64'), [n, 1, 1, l]);
  const both = b.op('', 'And', [causal, b.cast('', padding, 'bool')], [n, 1, l, l], [], 'bool');
  // .expand(batch, -1, seq, seq): the -1 becomes 1 through Where, as in torch's expand symbolic
  const sizes = i64([n, -1, l, l], [4]);
  const ones = b.op('', 'ConstantOfShape', [i64([4], [1])], [4], [attr.tensor('value', 'int64', [1], [1])], 'int64');
  const minus = b.mul('', ones, i64([-1], []));
  const target = b.op('', 'Where', [b.op('', 'Equal', [sizes, minus], [4], [], 'bool'), ones, sizes], [4], [], 'int64');
  const expanded = b.op('', 'Expand', [both, target], [n, 1, l, l], [], 'bool');
  const zero = b.constant('', 0);
  return b.op('', 'Where', [expanded, zero, b.constant('', FLOAT32_MIN)], [n, 1, l, l]);
}

/** BertModel(add_pooling_layer=False): inputs input_ids, attention_mask, token_type_ids ([batch, sequence], int64). */
export function bert(b: NetBuilder, c: BertConfig): Tensor {
  const [ids, attentionMask, tokenTypes] = b.inputs as [Tensor, Tensor, Tensor];
  const l = ids.shape[1]!;
  // BertEmbeddings: words + token types, += positions (position_ids[:, :seq], a folded Constant), LayerNorm.
  const table = { bound: Math.sqrt(3), mean: 0 };
  const positions = b.constantTensor('/embeddings', 'int64', Array.from({ length: l }, (_, i) => i), [1, l]);
  let x = b.embedding('/embeddings/word_embeddings', ids, c.vocab, c.hidden, table);
  x = b.add('/embeddings', x, b.embedding('/embeddings/token_type_embeddings', tokenTypes, c.typeVocab, c.hidden, table));
  x = b.add('/embeddings', x, b.embedding('/embeddings/position_embeddings', positions, c.maxPositions, c.hidden, table));
  x = b.layerNorm('/embeddings/LayerNorm', x, EPS);
  const mask = extendedMask(b, attentionMask);
  for (let i = 0; i < c.layers; i++) x = layer(b, `/encoder/layer.${i}`, x, mask, c);
  return x;
}
