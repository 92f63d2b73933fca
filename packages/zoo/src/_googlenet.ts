// torchvision.models.googlenet as shipped (aux classifiers removed, transform_input off, which
// is what the reference schedule's node list shows). BasicConv2d = Conv (no bias) + BN + F.relu.

import type { NetBuilder, Tensor } from './_builder.js';
import { LINEAR, RELU } from './_gains.js';

function basicConv(b: NetBuilder, s: string, x: Tensor, out: number, k: number, stride = 1, pad = 0): Tensor {
  return b.relu(s, b.conv(`${s}/conv`, x, { out, k, stride, pad, bn: true, gain: RELU }));
}

// ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj
type InceptionCfg = readonly [number, number, number, number, number, number];

function inception(b: NetBuilder, s: string, x: Tensor, c: InceptionCfg): Tensor {
  const b1 = basicConv(b, `${s}/branch1`, x, c[0], 1);
  const b2 = basicConv(b, `${s}/branch2/branch2.1`, basicConv(b, `${s}/branch2/branch2.0`, x, c[1], 1), c[2], 3, 1, 1);
  // torchvision's "5x5" branch really uses a 3x3 kernel (a known quirk kept for its weights).
  const b3 = basicConv(b, `${s}/branch3/branch3.1`, basicConv(b, `${s}/branch3/branch3.0`, x, c[3], 1), c[4], 3, 1, 1);
  const pooled = b.maxPool(`${s}/branch4/branch4.0`, x, { k: 3, stride: 1, pad: 1, ceil: true });
  const b4 = basicConv(b, `${s}/branch4/branch4.1`, pooled, c[5], 1);
  return b.concat(s, [b1, b2, b3, b4]);
}

/** GoogLeNet (Inception v1). */
export function googlenet(b: NetBuilder): Tensor {
  let x = basicConv(b, '/conv1', b.input, 64, 7, 2, 3);
  x = b.maxPool('/maxpool1', x, { k: 3, stride: 2, ceil: true });
  x = basicConv(b, '/conv2', x, 64, 1);
  x = basicConv(b, '/conv3', x, 192, 3, 1, 1);
  x = b.maxPool('/maxpool2', x, { k: 3, stride: 2, ceil: true });
  x = inception(b, '/inception3a', x, [64, 96, 128, 16, 32, 32]);
  x = inception(b, '/inception3b', x, [128, 128, 192, 32, 96, 64]);
  x = b.maxPool('/maxpool3', x, { k: 3, stride: 2, ceil: true });
  x = inception(b, '/inception4a', x, [192, 96, 208, 16, 48, 64]);
  x = inception(b, '/inception4b', x, [160, 112, 224, 24, 64, 64]);
  x = inception(b, '/inception4c', x, [128, 128, 256, 24, 64, 64]);
  x = inception(b, '/inception4d', x, [112, 144, 288, 32, 64, 64]);
  x = inception(b, '/inception4e', x, [256, 160, 320, 32, 128, 128]);
  x = b.maxPool('/maxpool4', x, { k: 2, stride: 2, ceil: true });
  x = inception(b, '/inception5a', x, [256, 160, 320, 32, 128, 128]);
  x = inception(b, '/inception5b', x, [384, 192, 384, 48, 128, 128]);
  x = b.adaptiveAvgPool('/avgpool', x, 1);
  x = b.flatten('', x);
  return b.gemm('/fc', x, 1000, LINEAR);
}
