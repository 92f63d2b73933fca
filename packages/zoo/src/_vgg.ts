// torchvision.models.vgg16 (configuration "D", no BatchNorm) and torchvision.models.alexnet:
// plain Conv + ReLU stacks with biased convs, an adaptive average pool and three Linear layers.

import type { NetBuilder, Tensor } from './_builder.js';
import { LINEAR, RELU } from './_gains.js';

const VGG16: readonly (number | 'M')[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/** VGG-16. */
export function vgg16(b: NetBuilder): Tensor {
  let x = b.input;
  let i = 0;
  for (const v of VGG16) {
    if (v === 'M') {
      x = b.maxPool(`/features/features.${i++}`, x, { k: 2, stride: 2 });
    } else {
      x = b.conv(`/features/features.${i++}`, x, { out: v, k: 3, pad: 1, bias: true, gain: RELU });
      x = b.relu(`/features/features.${i++}`, x);
    }
  }
  x = b.adaptiveAvgPool('/avgpool', x, 7);
  x = b.flatten('', x);
  x = b.relu('/classifier/classifier.1', b.gemm('/classifier/classifier.0', x, 4096, RELU));
  x = b.relu('/classifier/classifier.4', b.gemm('/classifier/classifier.3', x, 4096, RELU));
  return b.gemm('/classifier/classifier.6', x, 1000, LINEAR);
}

/** AlexNet (torchvision's one-tower variant). */
export function alexnet(b: NetBuilder): Tensor {
  const f = (i: number) => `/features/features.${i}`;
  let x = b.conv(f(0), b.input, { out: 64, k: 11, stride: 4, pad: 2, bias: true, gain: RELU });
  x = b.maxPool(f(2), b.relu(f(1), x), { k: 3, stride: 2 });
  x = b.conv(f(3), x, { out: 192, k: 5, pad: 2, bias: true, gain: RELU });
  x = b.maxPool(f(5), b.relu(f(4), x), { k: 3, stride: 2 });
  x = b.relu(f(7), b.conv(f(6), x, { out: 384, k: 3, pad: 1, bias: true, gain: RELU }));
  x = b.relu(f(9), b.conv(f(8), x, { out: 256, k: 3, pad: 1, bias: true, gain: RELU }));
  x = b.relu(f(11), b.conv(f(10), x, { out: 256, k: 3, pad: 1, bias: true, gain: RELU }));
  x = b.maxPool(f(12), x, { k: 3, stride: 2 });
  x = b.adaptiveAvgPool('/avgpool', x, 6);
  x = b.flatten('', x);
  x = b.relu('/classifier/classifier.2', b.gemm('/classifier/classifier.1', x, 4096, RELU));
  x = b.relu('/classifier/classifier.5', b.gemm('/classifier/classifier.4', x, 4096, RELU));
  return b.gemm('/classifier/classifier.6', x, 1000, LINEAR);
}
