// torchvision.models.resnet: ResNet-18 (BasicBlock [2, 2, 2, 2]) and ResNet-50 (Bottleneck [3, 4, 6, 3]).

import type { NetBuilder, Tensor } from './_builder.js';
import { LINEAR, RELU, RESIDUAL } from './_gains.js';

function basicBlock(b: NetBuilder, s: string, x: Tensor, planes: number, stride: number): Tensor {
  let out = b.conv(`${s}/conv1`, x, { out: planes, k: 3, stride, pad: 1, bn: true, gain: RELU });
  out = b.relu(`${s}/relu`, out);
  out = b.conv(`${s}/conv2`, out, { out: planes, k: 3, pad: 1, bn: true, gain: RESIDUAL });
  let identity = x;
  if (stride !== 1 || x.shape[1] !== planes) {
    identity = b.conv(`${s}/downsample/downsample.0`, x, { out: planes, k: 1, stride, bn: true, gain: LINEAR });
  }
  return b.relu(`${s}/relu_1`, b.add(s, out, identity));
}

function bottleneck(b: NetBuilder, s: string, x: Tensor, planes: number, stride: number): Tensor {
  const outC = planes * 4;
  let out = b.conv(`${s}/conv1`, x, { out: planes, k: 1, bn: true, gain: RELU });
  out = b.relu(`${s}/relu`, out);
  out = b.conv(`${s}/conv2`, out, { out: planes, k: 3, stride, pad: 1, bn: true, gain: RELU });
  out = b.relu(`${s}/relu_1`, out);
  out = b.conv(`${s}/conv3`, out, { out: outC, k: 1, bn: true, gain: RESIDUAL });
  let identity = x;
  if (stride !== 1 || x.shape[1] !== outC) {
    identity = b.conv(`${s}/downsample/downsample.0`, x, { out: outC, k: 1, stride, bn: true, gain: LINEAR });
  }
  return b.relu(`${s}/relu_2`, b.add(s, out, identity));
}

function resnet(b: NetBuilder, kind: 'basic' | 'bottleneck', layers: readonly number[]): Tensor {
  let x = b.conv('/conv1', b.input, { out: 64, k: 7, stride: 2, pad: 3, bn: true, gain: RELU });
  x = b.relu('/relu', x);
  x = b.maxPool('/maxpool', x, { k: 3, stride: 2, pad: 1 });
  const block = kind === 'basic' ? basicBlock : bottleneck;
  layers.forEach((count, li) => {
    const planes = 64 << li;
    for (let i = 0; i < count; i++) {
      const scope = `/layer${li + 1}/layer${li + 1}.${i}`;
      x = block(b, scope, x, planes, i === 0 && li > 0 ? 2 : 1);
    }
  });
  x = b.adaptiveAvgPool('/avgpool', x, 1);
  x = b.flatten('', x);
  return b.gemm('/fc', x, 1000, LINEAR);
}

/** ResNet-18. */
export function resnet18(b: NetBuilder): Tensor {
  return resnet(b, 'basic', [2, 2, 2, 2]);
}

/** ResNet-50. */
export function resnet50(b: NetBuilder): Tensor {
  return resnet(b, 'bottleneck', [3, 4, 6, 3]);
}
