// torchvision.models.efficientnet_b0: MBConv blocks with SiLU and squeeze-and-excitation.

import type { NetBuilder, Tensor } from './_builder.js';
import { LINEAR, RESIDUAL, SILU } from './_gains.js';

// expand ratio, kernel, first stride, out channels, layers (width and depth multipliers 1.0)
const STAGES: readonly (readonly [number, number, number, number, number])[] = [
  [1, 3, 1, 16, 1],
  [6, 3, 2, 24, 2],
  [6, 5, 2, 40, 2],
  [6, 3, 2, 80, 3],
  [6, 5, 1, 112, 3],
  [6, 5, 2, 192, 4],
  [6, 3, 1, 320, 1],
];

/** Conv2dNormActivation: `<s>/<leaf>.0/Conv` then SiLU in `<s>/<leaf>.2` (or no activation). */
function convBn(
  b: NetBuilder, s: string, x: Tensor, out: number, k: number, stride: number, groups: number, act: boolean, gain: number,
): Tensor {
  const leaf = s.slice(s.lastIndexOf('/') + 1);
  const y = b.conv(`${s}/${leaf}.0`, x, { out, k, stride, pad: (k - 1) / 2, groups, bn: true, gain });
  return act ? b.silu(`${s}/${leaf}.2`, y) : y;
}

/** torchvision.ops.SqueezeExcitation with SiLU inside and Sigmoid as the scale activation. */
function squeezeExcitation(b: NetBuilder, s: string, x: Tensor, squeeze: number): Tensor {
  const c = x.shape[1]!;
  let scale = b.adaptiveAvgPool(`${s}/avgpool`, x, 1);
  scale = b.conv(`${s}/fc1`, scale, { out: squeeze, k: 1, bias: true, gain: SILU });
  scale = b.silu(`${s}/activation`, scale);
  // A positive bias keeps the gates near 0.9, so stacked SE blocks do not shrink activations.
  scale = b.conv(`${s}/fc2`, scale, { out: c, k: 1, bias: true, gain: 0.5, biasMean: 2, biasBound: 0.5 });
  scale = b.sigmoid(`${s}/scale_activation`, scale);
  return b.mul(s, scale, x);
}

function mbconv(b: NetBuilder, s: string, x: Tensor, expand: number, k: number, stride: number, out: number): Tensor {
  const inp = x.shape[1]!;
  const expanded = inp * expand;
  const useRes = stride === 1 && inp === out;
  let y = x;
  let i = 0;
  if (expanded !== inp) y = convBn(b, `${s}/block/block.${i++}`, y, expanded, 1, 1, 1, true, SILU);
  y = convBn(b, `${s}/block/block.${i++}`, y, expanded, k, stride, expanded, true, SILU);
  y = squeezeExcitation(b, `${s}/block/block.${i++}`, y, Math.max(1, Math.floor(inp / 4)));
  y = convBn(b, `${s}/block/block.${i}`, y, out, 1, 1, 1, false, useRes ? RESIDUAL : LINEAR);
  // StochasticDepth is the identity in eval mode, so the exporter writes only the Add.
  return useRes ? b.add(s, y, x) : y;
}

/** EfficientNet-B0. */
export function efficientnetB0(b: NetBuilder): Tensor {
  let x = convBn(b, '/features/features.0', b.input, 32, 3, 2, 1, true, SILU);
  STAGES.forEach(([expand, k, stride, out, layers], si) => {
    for (let i = 0; i < layers; i++) {
      x = mbconv(b, `/features/features.${si + 1}/features.${si + 1}.${i}`, x, expand, k, i === 0 ? stride : 1, out);
    }
  });
  x = convBn(b, '/features/features.8', x, 1280, 1, 1, 1, true, SILU);
  x = b.adaptiveAvgPool('/avgpool', x, 1);
  x = b.flatten('', x);
  return b.gemm('/classifier/classifier.1', x, 1000, LINEAR);
}
