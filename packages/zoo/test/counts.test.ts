import { describe, expect, it } from 'vitest';
import { listZoo, zooModelInfo, zooNames, type ZooName } from '@dnnpart/zoo';
import { detectorNames } from './_nets.js';

/** torchvision VisionTransformer's parameters: conv_proj, class token, position embedding, blocks, ln, head. */
function vitParams(patch: number, layers: number, d: number, mlp: number, side = 224): number {
  const tokens = (side / patch) ** 2 + 1;
  const block = 2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * mlp + mlp) + (mlp * d + d);
  return d * 3 * patch * patch + d + d + tokens * d + layers * block + 2 * d + (d * 1000 + 1000);
}

/** Matrix-product MACs of a ViT at 224: patch conv, qkv/out/MLP linears, q k^T and attn v, head. */
function vitMacs(patch: number, layers: number, d: number, mlp: number): number {
  const n = (224 / patch) ** 2 + 1;
  return (n - 1) * d * 3 * patch * patch + layers * (n * d * (4 * d + 2 * mlp) + 2 * n * n * d) + d * 1000;
}

/** HF BertModel without the pooler: embeddings (words, positions, token types, LayerNorm) and layers. */
function bertParams(layers: number, d: number, ff: number, vocab = 30522, positions = 512, types = 2): number {
  const layer = 4 * (d * d + d) + 2 * d + (d * ff + ff) + (ff * d + d) + 2 * d;
  return (vocab + positions + types) * d + 2 * d + layers * layer;
}

/** BERT MACs for n tokens: q, k, v, output and two FFN linears per token, q k^T and probs v per head. */
function bertMacs(layers: number, d: number, ff: number, n: number): number {
  return layers * (n * d * (4 * d + 2 * ff) + 2 * n * n * d);
}

// Networks without a published GFLOPS figure in the same convention: counts derived from the
// reference definitions (torchvision's VisionTransformer, transformers' BertModel) by hand.
// Hugging Face BertModel with its pooler (the dense layer on [CLS], d*d + d) has 109,482,240
// parameters for bert-base-uncased and 22,713,216 for all-MiniLM-L6-v2; the zoo's encoders end at
// last_hidden_state, as the feature-extraction exports do.
const DERIVED: readonly (readonly [ZooName, number, number])[] = [
  ['vit_ti_16', vitParams(16, 12, 192, 768), vitMacs(16, 12, 192, 768)],
  ['bert_base', bertParams(12, 768, 3072), bertMacs(12, 768, 3072, 128)],
  ['minilm_l6', bertParams(6, 384, 1536), bertMacs(6, 384, 1536, 128)],
];

// torchvision's model documentation: num_params and GFLOPS (which count multiply-accumulates of
// Conv and Linear layers at 224x224; BatchNorm, pooling, activations and SE products not counted).
const PUBLISHED: readonly (readonly [ZooName, number, number])[] = [
  ['resnet18', 11_689_512, 1.81],
  ['resnet50', 25_557_032, 4.09],
  ['mobilenet_v2', 3_504_872, 0.3],
  ['efficientnet_b0', 5_288_548, 0.39],
  ['vgg16', 138_357_544, 15.47],
  ['squeezenet1_1', 1_235_496, 0.35],
  ['googlenet', 6_624_904, 1.5],
  ['alexnet', 61_100_840, 0.71],
  ['regnet_x_400mf', 5_495_976, 0.41],
  // torchvision counts the attention matrix products (q k^T and attn v) in its ViT GFLOPS.
  ['vit_b_16', 86_567_656, 17.56],
  ['vit_b_32', 88_224_232, 4.41],
];

describe('torchvision figures', () => {
  const listed = new Map(listZoo().map((e) => [e.name, e]));

  it('lists every network once, in zooNames order', () => {
    expect(listZoo().map((e) => e.name)).toEqual([...zooNames]);
  });

  it('has a published or derived figure for every network', () => {
    // The detectors' figures (Ultralytics' fused counts) are held in yolo.test.ts.
    const covered = new Set([...PUBLISHED.map(([n]) => n), ...DERIVED.map(([n]) => n), ...detectorNames]);
    expect([...covered].sort()).toEqual([...zooNames].sort());
  });

  it.each(PUBLISHED)('%s has %i parameters and %f GMACs', (name, params, gmacs) => {
    const e = listed.get(name)!;
    expect(e.params).toBe(params);
    expect(Math.round(e.macs / 1e7) / 100).toBe(gmacs);
  });
});

describe('transformer figures derived from the reference definitions', () => {
  it.each(DERIVED)('%s has %i parameters and %i MACs at its default input', (name, params, macs) => {
    const e = listZoo().find((x) => x.name === name)!;
    expect(e.params).toBe(params);
    expect(e.macs).toBe(macs);
  });

  it.each([
    // The formulas themselves against the published and the brief's figures.
    ['vit_b_16 formula', vitParams(16, 12, 768, 3072), 86_567_656],
    ['vit_b_32 formula', vitParams(32, 12, 768, 3072), 88_224_232],
    ['vit_b_16 MACs formula', Math.round(vitMacs(16, 12, 768, 3072) / 1e7), 1756],
    ['vit_ti_16 = DeiT-Tiny (timm deit_tiny_patch16_224)', vitParams(16, 12, 192, 768), 5_717_416],
    ['bert_base', bertParams(12, 768, 3072), 108_891_648],
    ['bert_base + pooler', bertParams(12, 768, 3072) + 768 * 768 + 768, 109_482_240],
    ['minilm_l6 + pooler', bertParams(6, 384, 1536) + 384 * 384 + 384, 22_713_216],
  ] as const)('%s = %i', (_, value, expected) => {
    expect(value).toBe(expected);
  });

  it.each([
    ['vit_b_16', [1, 3, 384, 384], vitParams(16, 12, 768, 3072, 384)],
    ['vit_ti_16', [1, 3, 64, 64], vitParams(16, 12, 192, 768, 64)],
    ['bert_base', [2, 512], bertParams(12, 768, 3072)],
    ['minilm_l6', [1, 16], bertParams(6, 384, 1536)],
  ] as const)('%s at %j: ViT position embeddings follow the image size, BERT counts do not follow the sequence', (name, shape, params) => {
    expect(zooModelInfo(name, { inputShape: shape }).params).toBe(params);
  });

  it('BERT MACs scale with batch and sequence as the formula says', () => {
    expect(zooModelInfo('minilm_l6', { inputShape: [3, 40] }).macs).toBe(3 * bertMacs(6, 384, 1536, 40));
  });
});
