// torchvision.models.squeezenet1_1: Fire modules (squeeze 1x1, expand 1x1 + 3x3, concatenated).

import type { NetBuilder, Tensor } from './_builder.js';
import { RELU } from './_gains.js';

function fire(b: NetBuilder, s: string, x: Tensor, squeeze: number, e1: number, e3: number): Tensor {
  const sq = b.relu(`${s}/squeeze_activation`, b.conv(`${s}/squeeze`, x, { out: squeeze, k: 1, bias: true, gain: RELU }));
  const a = b.relu(`${s}/expand1x1_activation`, b.conv(`${s}/expand1x1`, sq, { out: e1, k: 1, bias: true, gain: RELU }));
  const c = b.relu(`${s}/expand3x3_activation`, b.conv(`${s}/expand3x3`, sq, { out: e3, k: 3, pad: 1, bias: true, gain: RELU }));
  return b.concat(s, [a, c]);
}

/** SqueezeNet 1.1. */
export function squeezenet11(b: NetBuilder): Tensor {
  const f = (i: number) => `/features/features.${i}`;
  let x = b.relu(f(1), b.conv(f(0), b.input, { out: 64, k: 3, stride: 2, bias: true, gain: RELU }));
  x = b.maxPool(f(2), x, { k: 3, stride: 2, ceil: true });
  x = fire(b, f(3), x, 16, 64, 64);
  x = fire(b, f(4), x, 16, 64, 64);
  x = b.maxPool(f(5), x, { k: 3, stride: 2, ceil: true });
  x = fire(b, f(6), x, 32, 128, 128);
  x = fire(b, f(7), x, 32, 128, 128);
  x = b.maxPool(f(8), x, { k: 3, stride: 2, ceil: true });
  x = fire(b, f(9), x, 48, 192, 192);
  x = fire(b, f(10), x, 48, 192, 192);
  x = fire(b, f(11), x, 64, 256, 256);
  x = fire(b, f(12), x, 64, 256, 256);
  // The classifier is Dropout, a 1x1 Conv to 1000 classes, ReLU, AdaptiveAvgPool2d(1).
  x = b.conv('/classifier/classifier.1', x, { out: 1000, k: 1, bias: true, gain: RELU });
  x = b.relu('/classifier/classifier.2', x);
  x = b.adaptiveAvgPool('/classifier/classifier.3', x, 1);
  return b.flatten('', x);
}
