// Hugging Face transformers' BertModel without the pooler (the encoder's last_hidden_state):
// BERT-base (bert-base-uncased) and MiniLM-L6 (sentence-transformers/all-MiniLM-L6-v2), written as
// torch.onnx.export (TorchScript, opset 17) writes the eager attention: per-module Linear as MatMul
// + Add(bias, .), transpose_for_scores as Reshape + Transpose, scores Div by sqrt(head_size), the
// extended mask added, Softmax, LayerNormalization, and the exact GELU as its Erf decomposition.

import type { NetBuilder, Tensor } from './_builder.js';
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
  const forScores = (t: Tensor) => b.transpose(self, b.reshape(self, t, [n, l, c.heads, hd]), [0, 2, 1, 3]);
  const query = b.linear(`${self}/query`, x, e, LINEAR);
  const key = forScores(b.linear(`${self}/key`, x, e, LINEAR));
  const value = forScores(b.linear(`${self}/value`, x, e, LINEAR));
  const q = forScores(query);
  let scores = b.matmul(self, q, b.transpose(self, key, [0, 1, 3, 2]));
  scores = b.div(self, scores, b.constant(self, Math.sqrt(hd)));
  scores = b.add(self, scores, mask);
  const probs = b.softmax(self, scores);
  let ctx = b.matmul(self, probs, value);
  ctx = b.reshape(self, b.transpose(self, ctx, [0, 2, 1, 3]), [n, l, e]);
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

/** BertModel(add_pooling_layer=False): inputs input_ids, attention_mask, token_type_ids ([batch, sequence], int64). */
export function bert(b: NetBuilder, c: BertConfig): Tensor {
  const [ids, attentionMask, tokenTypes] = b.inputs as [Tensor, Tensor, Tensor];
  const l = ids.shape[1]!;
  // get_extended_attention_mask: mask[:, None, None, :], to float, (1.0 - mask) * finfo.min
  let mask = b.unsqueeze('', b.unsqueeze('', attentionMask, 1), 2);
  mask = b.cast('', mask, 'float32');
  mask = b.sub('', b.constant('', 1), mask);
  mask = b.mul('', mask, b.constant('', FLOAT32_MIN));
  // BertEmbeddings: words + token types, += positions, LayerNorm. Embedding tables near unit variance.
  const table = { bound: Math.sqrt(3), mean: 0 };
  let x = b.embedding('/embeddings/word_embeddings', ids, c.vocab, c.hidden, table);
  x = b.add('/embeddings', x, b.embedding('/embeddings/token_type_embeddings', tokenTypes, c.typeVocab, c.hidden, table));
  const positions = b.indices('embeddings.position_ids', Array.from({ length: l }, (_, i) => i), [1, l]);
  x = b.add('/embeddings', x, b.embedding('/embeddings/position_embeddings', positions, c.maxPositions, c.hidden, table));
  x = b.layerNorm('/embeddings/LayerNorm', x, EPS);
  for (let i = 0; i < c.layers; i++) x = layer(b, `/encoder/layer.${i}`, x, mask, c);
  return x;
}
