// torchvision.models.mobilenet_v2 (width 1.0): inverted residuals with ReLU6 and linear bottlenecks.

import type { NetBuilder, Tensor } from './_builder.js';
import { LINEAR, RELU, RESIDUAL } from './_gains.js';

// t (expansion), c (out channels), n (repeats), s (first stride)
const SETTINGS: readonly (readonly [number, number, number, number])[] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

/** Conv2dNormActivation with ReLU6: `<s>/<s>.0/Conv`, `<s>/<s>.2/Clip`. */
function convBnRelu6(b: NetBuilder, s: string, x: Tensor, out: number, k: number, stride: number, groups: number): Tensor {
  const leaf = s.slice(s.lastIndexOf('/') + 1);
  const y = b.conv(`${s}/${leaf}.0`, x, { out, k, stride, pad: (k - 1) / 2, groups, bn: true, gain: RELU });
  return b.relu6(`${s}/${leaf}.2`, y);
}

function invertedResidual(b: NetBuilder, s: string, x: Tensor, out: number, stride: number, t: number): Tensor {
  const inp = x.shape[1]!;
  const hidden = Math.round(inp * t);
  const useRes = stride === 1 && inp === out;
  let y = x;
  let i = 0;
  if (t !== 1) y = convBnRelu6(b, `${s}/conv/conv.${i++}`, y, hidden, 1, 1, 1);
  y = convBnRelu6(b, `${s}/conv/conv.${i++}`, y, hidden, 3, stride, hidden);
  y = b.conv(`${s}/conv/conv.${i}`, y, { out, k: 1, bn: true, gain: useRes ? RESIDUAL : LINEAR });
  return useRes ? b.add(s, x, y) : y;
}

/** MobileNetV2. */
export function mobilenetV2(b: NetBuilder): Tensor {
  let x = convBnRelu6(b, '/features/features.0', b.input, 32, 3, 2, 1);
  let idx = 1;
  for (const [t, c, n, s] of SETTINGS) {
    for (let i = 0; i < n; i++) {
      x = invertedResidual(b, `/features/features.${idx++}`, x, c, i === 0 ? s : 1, t);
    }
  }
  x = convBnRelu6(b, `/features/features.${idx}`, x, 1280, 1, 1, 1);
  // MobileNetV2.forward calls F.adaptive_avg_pool2d and torch.flatten at top level.
  x = b.adaptiveAvgPool('', x, 1);
  x = b.flatten('', x);
  return b.gemm('/classifier/classifier.1', x, 1000, LINEAR);
}
