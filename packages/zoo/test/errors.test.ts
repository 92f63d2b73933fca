import { describe, expect, it } from 'vitest';
import {
  buildZooModel,
  buildZooModelProto,
  isZooError,
  isZooName,
  zooModelInfo,
  zooNames,
  type ZooBuildOptions,
  type ZooErrorCode,
} from '@dnnpart/zoo';
import { cnnNames, textNames, vitNames } from './_nets.js';

function errorOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isZooError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error('expected a ZooError');
}

// [network, options, expected code, a fragment the one-line message must contain]
const BAD: readonly (readonly [string, ZooBuildOptions, ZooErrorCode, string])[] = [
  ['resnet', {}, 'ZOO_UNKNOWN_NETWORK', `valid names: ${zooNames.join(', ')}`],
  ['ResNet18', {}, 'ZOO_UNKNOWN_NETWORK', 'unknown zoo network "ResNet18"'],
  ['', {}, 'ZOO_UNKNOWN_NETWORK', 'unknown zoo network ""'],
  ['resnet18', { inputShape: [1, 3, 224] as never }, 'ZOO_BAD_INPUT_SHAPE', 'must be [batch, 3, height, width]'],
  ['resnet18', { inputShape: [1, 1, 224, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'has 1 channels; the network takes 3'],
  ['resnet18', { inputShape: [1, 4, 224, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'has 4 channels'],
  ['resnet18', { inputShape: [0, 3, 224, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'positive integers'],
  ['resnet18', { inputShape: [1, 3, 224.5, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'positive integers'],
  ['resnet18', { inputShape: [1, 3, -1, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'positive integers'],
  ['resnet18', { inputShape: [1, 3, Number.NaN, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'positive integers'],
  ['vgg16', { inputShape: [1, 3, 64, 64] }, 'ZOO_BAD_INPUT_SHAPE', 'the smallest square input is 224x224'],
  ['vgg16', { inputShape: [1, 3, 260, 260] }, 'ZOO_BAD_INPUT_SHAPE', 'gets a 8x8 map; ONNX export needs a multiple of 7'],
  ['alexnet', { inputShape: [1, 3, 160, 160] }, 'ZOO_BAD_INPUT_SHAPE', 'the smallest square input is 223x223'],
  ['squeezenet1_1', { inputShape: [1, 3, 8, 8] }, 'ZOO_BAD_INPUT_SHAPE', 'the smallest square input is 25x25'],
  ['googlenet', { inputShape: [1, 3, 30, 30] }, 'ZOO_BAD_INPUT_SHAPE', 'the smallest square input is 31x31'],
  ['googlenet', { inputShape: [1, 3, 224, 16] }, 'ZOO_BAD_INPUT_SHAPE', 'would output shape'],
  ['resnet18', { seed: -1 }, 'ZOO_BAD_SEED', 'got -1'],
  ['resnet18', { seed: 1.5 }, 'ZOO_BAD_SEED', 'integer in [0, 2^32)'],
  ['resnet18', { seed: 2 ** 32 }, 'ZOO_BAD_SEED', 'integer in [0, 2^32)'],
  ['resnet18', { seed: '7' as never }, 'ZOO_BAD_SEED', 'got 7'],
  ['vit_b_16', { inputShape: [1, 3, 100, 100] }, 'ZOO_BAD_INPUT_SHAPE', 'vit_b_16: input 1x3x100x100: height and width must be equal multiples of the patch size 16'],
  ['vit_b_16', { inputShape: [1, 3, 224, 160] }, 'ZOO_BAD_INPUT_SHAPE', 'equal multiples of the patch size 16'],
  ['vit_b_32', { inputShape: [1, 3, 48, 48] }, 'ZOO_BAD_INPUT_SHAPE', 'patch size 32'],
  ['vit_ti_16', { inputShape: [1, 1, 64, 64] }, 'ZOO_BAD_INPUT_SHAPE', 'has 1 channels'],
  ['vit_ti_16', { inputShape: [1, 128] }, 'ZOO_BAD_INPUT_SHAPE', 'must be [batch, 3, height, width]'],
  ['bert_base', { inputShape: [1, 3, 224, 224] }, 'ZOO_BAD_INPUT_SHAPE', 'bert_base: inputShape must be [batch, sequence] (the shape of input_ids, attention_mask and token_type_ids), got 1x3x224x224'],
  ['minilm_l6', { inputShape: [1, 513] }, 'ZOO_BAD_INPUT_SHAPE', 'minilm_l6: inputShape 1x513 has 513 tokens; the model has 512 positions'],
  ['minilm_l6', { inputShape: [0, 16] }, 'ZOO_BAD_INPUT_SHAPE', 'must hold positive integers'],
  ['minilm_l6', { inputShape: [1, 1.5] }, 'ZOO_BAD_INPUT_SHAPE', 'must hold positive integers'],
  ['bert_base', { inputShape: 128 as never }, 'ZOO_BAD_INPUT_SHAPE', 'got 128'],
  ['bert_base', { seed: -1 }, 'ZOO_BAD_SEED', 'got -1'],
];

describe('bad input gives a typed ZooError with a stable code', () => {
  it.each(BAD)('buildZooModel(%j, %j) -> %s', (name, options, code, fragment) => {
    const e = errorOf(() => buildZooModel(name, options));
    expect(e.code).toBe(code);
    expect(e.message).toContain(fragment);
    expect(e.message).not.toContain('\n');
  });

  it.each(BAD)('buildZooModelProto(%j, %j) -> %s', (name, options, code) => {
    expect(errorOf(() => buildZooModelProto(name, options)).code).toBe(code);
  });

  it.each(BAD.filter(([, o]) => o.seed === undefined))('zooModelInfo(%j, %j) -> %s', (name, options, code) => {
    expect(errorOf(() => zooModelInfo(name, options)).code).toBe(code);
  });

  it.each([
    ['resnet18', true],
    ['regnet_x_400mf', true],
    ['resnet', false],
    ['toString', false],
    ['', false],
  ] as const)('isZooName(%j) is %s', (s, expected) => {
    expect(isZooName(s)).toBe(expected);
  });
});

describe('any input size either builds a CNN or fails with ZOO_BAD_INPUT_SHAPE', () => {
  // 300 seeded random (network, height, width) draws in 1..600: nothing but a valid topology
  // with a [1, 1000] output or a typed error naming the smallest square input.
  let s = 12345;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const draws = Array.from({ length: 300 }, () => [cnnNames[next(cnnNames.length)]!, 1 + next(600), 1 + next(600)] as const);

  it('holds for 300 random draws', () => {
    let built = 0;
    for (const [net, h, w] of draws) {
      try {
        expect(zooModelInfo(net, { inputShape: [1, 3, h, w] }).outputShape).toEqual([1, 1000]);
        built++;
      } catch (e) {
        expect(isZooError(e, 'ZOO_BAD_INPUT_SHAPE'), `${net} ${h}x${w}: ${String(e)}`).toBe(true);
        expect((e as Error).message).toMatch(/the smallest square input is \d+x\d+$/);
      }
    }
    expect(built).toBeGreaterThan(150);
  });
});

describe('any input shape either builds a transformer or fails with ZOO_BAD_INPUT_SHAPE', () => {
  // 200 seeded draws: ViTs with random sides (valid only for equal multiples of the patch), text
  // encoders with random [batch, sequence] (valid up to 512 tokens).
  let s = 777;
  const next = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return (s >>> 8) % n;
  };
  const nets = [...vitNames, ...textNames];
  const draws = Array.from({ length: 200 }, () => {
    const net = nets[next(nets.length)]!;
    const side = 16 * (1 + next(40));
    const shape: number[] = textNames.includes(net)
      ? [1 + next(3), 1 + next(700)]
      : next(2) === 0 ? [1, 3, side, side] : [1, 3, 1 + next(600), 1 + next(600)];
    return [net, shape] as const;
  });

  it('holds for 200 random draws', () => {
    let built = 0;
    for (const [net, shape] of draws) {
      const patch = net === 'vit_b_32' ? 32 : 16;
      const valid = textNames.includes(net) ? shape[1]! <= 512 : shape[2] === shape[3] && shape[2]! % patch === 0;
      try {
        const info = zooModelInfo(net, { inputShape: shape });
        expect(valid, `${net} ${shape.join('x')} built`).toBe(true);
        expect(info.outputShape).toEqual(textNames.includes(net) ? [...shape, net === 'bert_base' ? 768 : 384] : [1, 1000]);
        built++;
      } catch (e) {
        expect(isZooError(e, 'ZOO_BAD_INPUT_SHAPE'), `${net} ${shape.join('x')}: ${String(e)}`).toBe(true);
        expect(valid, `${net} ${shape.join('x')}: ${String(e)}`).toBe(false);
      }
    }
    expect(built).toBeGreaterThan(60);
  });
});
