// torchvision.models.regnet_x_400mf: depth 22, w_0 24, w_a 24.48, w_m 2.54, group width 16,
// which quantizes to 4 stages of widths [32, 64, 160, 400] and depths [1, 2, 7, 12] (no SE).

import type { NetBuilder, Tensor } from './_builder.js';
import { LINEAR, RELU, RESIDUAL } from './_gains.js';

const WIDTHS = [32, 64, 160, 400] as const;
const DEPTHS = [1, 2, 7, 12] as const;
const GROUP_WIDTH = 16;

function resBottleneck(b: NetBuilder, s: string, x: Tensor, out: number, stride: number): Tensor {
  const groups = out / GROUP_WIDTH;
  // ResBottleneckBlock.forward computes `self.proj(x) + self.f(x)`: the projection comes first.
  const needsProj = x.shape[1] !== out || stride !== 1;
  const proj = needsProj ? b.conv(`${s}/proj/proj.0`, x, { out, k: 1, stride, bn: true, gain: LINEAR }) : x;
  let y = b.relu(`${s}/f/a/a.2`, b.conv(`${s}/f/a/a.0`, x, { out, k: 1, bn: true, gain: RELU }));
  y = b.relu(`${s}/f/b/b.2`, b.conv(`${s}/f/b/b.0`, y, { out, k: 3, stride, pad: 1, groups, bn: true, gain: RELU }));
  y = b.conv(`${s}/f/c/c.0`, y, { out, k: 1, bn: true, gain: RESIDUAL });
  return b.relu(`${s}/activation`, needsProj ? b.add(s, proj, y) : b.add(s, x, y));
}

/** RegNetX-400MF. */
export function regnetX400mf(b: NetBuilder): Tensor {
  let x = b.relu('/stem/stem.2', b.conv('/stem/stem.0', b.input, { out: 32, k: 3, stride: 2, pad: 1, bn: true, gain: RELU }));
  WIDTHS.forEach((w, si) => {
    for (let i = 0; i < DEPTHS[si]!; i++) {
      x = resBottleneck(b, `/trunk_output/block${si + 1}/block${si + 1}-${i}`, x, w, i === 0 ? 2 : 1);
    }
  });
  x = b.adaptiveAvgPool('/avgpool', x, 1);
  x = b.flatten('', x);
  return b.gemm('/fc', x, 1000, LINEAR);
}
