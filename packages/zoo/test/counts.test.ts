import { describe, expect, it } from 'vitest';
import { listZoo, zooModelInfo, zooNames, type ZooName } from '@dnnpart/zoo';

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
];

describe('torchvision figures', () => {
  const listed = new Map(listZoo().map((e) => [e.name, e]));

  it('lists every network once, in zooNames order', () => {
    expect(listZoo().map((e) => e.name)).toEqual([...zooNames]);
  });

  it.each(PUBLISHED)('%s has %i parameters and %f GMACs', (name, params, gmacs) => {
    const e = listed.get(name)!;
    expect(e.params).toBe(params);
    expect(Math.round(e.macs / 1e7) / 100).toBe(gmacs);
  });
});
