// Ultralytics YOLOv8n (detection, 80 COCO classes) as `yolo export format=onnx` writes it
// (opset 12-17, static shapes, not simplified): the model is fused before export, so every
// Conv carries its folded BatchNorm as a real bias (`model.<i>.conv.weight/bias`) and SiLU is
// Sigmoid + Mul in the `act` scope; the Detect head decodes boxes in the graph (DFL softmax
// and its fixed 0..15 Conv, anchors and strides as constants) and ends at `output0`,
// [batch, 4 + 80, anchors]. Shape and split-size literals are Constant nodes, as torch.onnx
// writes them (the loader folds them into initializers).

import { create } from '@bufbuild/protobuf';
import { AttributeProtoSchema, AttributeProto_AttributeType, type AttributeProto } from 'onnx-buf';
import { attr, ShapeTooSmall, type NetBuilder, type Tensor } from './_builder.js';
import { LINEAR, RESIDUAL, SILU } from './_gains.js';

/** yolov8n.yaml scaled by depth 0.33, width 0.25 (max_channels 1024). */
export interface YoloConfig {
  /** Output channels of backbone layers 0, 1, 3, 5, 7 (P1..P5). */
  readonly widths: readonly [number, number, number, number, number];
  /** Bottlenecks per C2f of the backbone: layers 2, 4, 6, 8. */
  readonly depths: readonly [number, number, number, number];
  /** Bottlenecks per C2f of the head: layers 12, 15, 18, 21. */
  readonly headDepth: number;
  readonly classes: number;
  /** DFL bins per box side (reg_max). */
  readonly regMax: number;
}

/** yolo11.yaml at a scale: widths of layers 0, 1, 3, 5, 7 (x0.25 for n, x0.5 for s), one block per C3k2 and C2PSA. */
export interface Yolo11Config {
  readonly widths: readonly [number, number, number, number, number];
  readonly classes: number;
  readonly regMax: number;
}

export const YOLO11N: Yolo11Config = { widths: [16, 32, 64, 128, 256], classes: 80, regMax: 16 };
export const YOLO11S: Yolo11Config = { widths: [32, 64, 128, 256, 512], classes: 80, regMax: 16 };

export const YOLOV8N: YoloConfig = { widths: [16, 32, 64, 128, 256], depths: [1, 2, 2, 1], headDepth: 1, classes: 80, regMax: 16 };

/** The largest stride: input sides must be multiples of it (the head concatenates upsampled maps). */
export const YOLO_STRIDE = 32;
const STRIDES = [8, 16, 32] as const;

function strAttr(name: string, value: string): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(value) });
}
function floatAttr(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: value });
}

/** ultralytics.nn.modules.Conv after fuse(): Conv (bias = folded BN) + SiLU as x * sigmoid(x). */
function conv(b: NetBuilder, s: string, x: Tensor, out: number, k: number, stride = 1, gain = SILU): Tensor {
  const y = b.conv(`${s}/conv`, x, { out, k, stride, pad: Math.floor(k / 2), bias: true, gain });
  return b.silu(`${s}/act`, y);
}

/** Bottleneck(c, c, shortcut, k=(3, 3), e): two 3x3 Convs (the first to e x c), a residual Add when shortcut. */
function bottleneck(b: NetBuilder, s: string, x: Tensor, shortcut: boolean, e = 1): Tensor {
  const c = x.shape[1]!;
  const y = conv(b, `${s}/cv2`, conv(b, `${s}/cv1`, x, c * e, 3), c, 3, 1, shortcut ? RESIDUAL * SILU : SILU);
  return shortcut ? b.add(s, x, y) : y;
}

/** The last segment of a scope (`/model.23/cv3.0/cv3.0` -> `cv3.0`), for nested Sequential names. */
function qualifiedLeaf(scope: string): string {
  return scope.slice(scope.lastIndexOf('/') + 1);
}

/** DWConv(c, c, 3): a depthwise 3x3 Conv + SiLU. */
function dwConv(b: NetBuilder, s: string, x: Tensor): Tensor {
  const c = x.shape[1]!;
  const y = b.conv(`${s}/conv`, x, { out: c, k: 3, pad: 1, groups: c, bias: true, gain: SILU });
  return b.silu(`${s}/act`, y);
}

/** Conv(..., act=False): the fused Conv alone. */
function convNoAct(b: NetBuilder, s: string, x: Tensor, out: number, k: number, groups = 1, gain = LINEAR): Tensor {
  return b.conv(`${s}/conv`, x, { out, k, pad: Math.floor(k / 2), groups, bias: true, gain });
}

/** C3k(c, c, 2, shortcut, k=3): cv1 and cv2 (1x1 to c/2), two Bottlenecks (e=1) on cv1's, concat, cv3 (1x1). */
function c3k(b: NetBuilder, s: string, x: Tensor, out: number): Tensor {
  const h = out / 2;
  let y = conv(b, `${s}/cv1`, x, h, 1);
  for (let i = 0; i < 2; i++) y = bottleneck(b, `${s}/m/m.${i}`, y, true);
  const z = conv(b, `${s}/cv2`, x, h, 1);
  return conv(b, `${s}/cv3`, b.concat(s, [y, z]), out, 1);
}

/** C3k2(c1, c2, 1, c3k, e): C2f with hidden c = e x c2, its block a C3k or a Bottleneck (e=0.5), shortcuts on. */
function c3k2(b: NetBuilder, s: string, x: Tensor, out: number, useC3k: boolean, e = 0.5): Tensor {
  const c = out * e;
  const y = conv(b, `${s}/cv1`, x, 2 * c, 1);
  const parts = b.split(s, y, b.constantTensor(s, 'int64', [c, c], [2]), [c, c], 1);
  const last = parts[1]!;
  parts.push(useC3k ? c3k(b, `${s}/m.0`, last, c) : bottleneck(b, `${s}/m.0`, last, true, 0.5));
  return conv(b, `${s}/cv2`, b.concat(s, parts), out, 1);
}

/** C2PSA(c1, c1): cv1 split in halves, one PSABlock (attention + FFN, residual) on the second, concat, cv2. */
function c2psa(b: NetBuilder, s: string, x: Tensor): Tensor {
  const c1 = x.shape[1]!;
  const c = c1 / 2;
  const [n, , h, w] = x.shape as [number, number, number, number];
  const y = conv(b, `${s}/cv1`, x, 2 * c, 1);
  const [a, v0] = b.split(s, y, b.constantTensor(s, 'int64', [c, c], [2]), [c, c], 1) as [Tensor, Tensor];
  // Attention(c, attn_ratio=0.5, num_heads=c/64): qkv 1x1, softmax(q^T k * scale), v attn^T, + pe(v) (depthwise 3x3), proj.
  const blk = `${s}/m/m.0`;
  const at = `${blk}/attn`;
  const heads = c / 64;
  const headDim = c / heads;
  const keyDim = headDim / 2;
  const tokens = h * w;
  const qkv = convNoAct(b, `${at}/qkv`, v0, c + 2 * keyDim * heads, 1);
  const r = b.reshapeBy(at, qkv, b.constantTensor(at, 'int64', [n, heads, 2 * keyDim + headDim, tokens], [4]), [n, heads, 2 * keyDim + headDim, tokens]);
  const [q, k, v] = b.split(at, r, b.constantTensor(at, 'int64', [keyDim, keyDim, headDim], [3]), [keyDim, keyDim, headDim], 2) as [Tensor, Tensor, Tensor];
  let attn = b.matmul(at, b.transpose(at, q, [0, 1, 3, 2]), k);
  attn = b.softmax(at, b.mul(at, attn, b.constant(at, keyDim ** -0.5)), -1);
  const mixed = b.matmul(at, v, b.transpose(at, attn, [0, 1, 3, 2]));
  const xm = b.reshapeBy(at, mixed, b.constantTensor(at, 'int64', [n, c, h, w], [4]), [n, c, h, w]);
  const vm = b.reshapeBy(at, v, b.constantTensor(at, 'int64', [n, c, h, w], [4]), [n, c, h, w]);
  const pe = convNoAct(b, `${at}/pe`, vm, c, 3, c);
  const att = convNoAct(b, `${at}/proj`, b.add(at, xm, pe), c, 1, 1, RESIDUAL);
  const x1 = b.add(blk, v0, att);
  const ffn = convNoAct(b, `${blk}/ffn/ffn.1`, conv(b, `${blk}/ffn/ffn.0`, x1, 2 * c, 1), c, 1, 1, RESIDUAL);
  const x2 = b.add(blk, x1, ffn);
  return conv(b, `${s}/cv2`, b.concat(s, [a, x2]), c1, 1);
}

/** C2f(c1, c2, n, shortcut): cv1 (1x1, 2c) split in two halves, n bottlenecks on the last, all concatenated, cv2 (1x1). */
function c2f(b: NetBuilder, s: string, x: Tensor, out: number, n: number, shortcut: boolean): Tensor {
  const c = out / 2;
  const y = conv(b, `${s}/cv1`, x, 2 * c, 1);
  const sizes = b.constantTensor(s, 'int64', [c, c], [2]);
  const parts = b.split(s, y, sizes, [c, c], 1);
  for (let i = 0; i < n; i++) parts.push(bottleneck(b, `${s}/m.${i}`, parts[parts.length - 1]!, shortcut));
  return conv(b, `${s}/cv2`, b.concat(s, parts), out, 1);
}

/** SPPF(c1, c2, 5): cv1 to c1/2, three chained 5x5 stride-1 MaxPools, concat, cv2. */
function sppf(b: NetBuilder, s: string, x: Tensor, out: number): Tensor {
  const ys = [conv(b, `${s}/cv1`, x, x.shape[1]! / 2, 1)];
  for (let i = 0; i < 3; i++) ys.push(b.maxPool(`${s}/${i === 0 ? 'm' : `m_${i}`}`, ys[i]!, { k: 5, stride: 1, pad: 2 }));
  return conv(b, `${s}/cv2`, b.concat(s, ys), out, 1);
}

/** nn.Upsample(scale_factor=2, mode='nearest') as opset 11+ Resize: (X, roi '', scales Constant). */
function upsample(b: NetBuilder, s: string, x: Tensor): Tensor {
  const scales = b.constantTensor(s, 'float32', [1, 1, 2, 2], [4]);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  return b.op(s, 'Resize', [x, { name: '', shape: [0] }, scales], [n, c, 2 * h, 2 * w], [
    strAttr('coordinate_transformation_mode', 'asymmetric'),
    floatAttr('cubic_coeff_a', -0.75),
    strAttr('mode', 'nearest'),
    strAttr('nearest_mode', 'floor'),
  ]);
}

/** make_anchors(feats, strides, 0.5), transposed: anchor centres [2, A] (x row, y row) and strides [A]. */
function anchors(sizes: readonly (readonly [number, number])[]): { points: number[]; strides: number[] } {
  const xs: number[] = [];
  const ys: number[] = [];
  const strides: number[] = [];
  sizes.forEach(([h, w], i) => {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        xs.push(x + 0.5);
        ys.push(y + 0.5);
        strides.push(STRIDES[i]!);
      }
    }
  });
  return { points: [...xs, ...ys], strides };
}

/** Detect(nc, ch): per level a box branch (cv2) and a class branch (cv3), then the in-graph decode. */
function detect(b: NetBuilder, s: string, feats: readonly Tensor[], c: { readonly classes: number; readonly regMax: number }, dwClassBranch = false): Tensor {
  const boxCh = 4 * c.regMax;
  const c2 = Math.max(16, feats[0]!.shape[1]! / 4, boxCh);
  const c3 = Math.max(feats[0]!.shape[1]!, Math.min(c.classes, 100));
  const no = boxCh + c.classes;
  const n = feats[0]!.shape[0]!;
  const levels = feats.map((f, i) => {
    const box = b.conv(`${s}/cv2.${i}/cv2.${i}.2`, conv(b, `${s}/cv2.${i}/cv2.${i}.1`, conv(b, `${s}/cv2.${i}/cv2.${i}.0`, f, c2, 3), c2, 3), {
      out: boxCh, k: 1, bias: true, gain: LINEAR,
    });
    const t = `${s}/cv3.${i}/cv3.${i}`;
    // YOLO11's class branch: two (depthwise 3x3 + pointwise 1x1) pairs; YOLOv8's: two 3x3 Convs.
    const trunk = dwClassBranch
      ? conv(b, `${t}.1/${qualifiedLeaf(t)}.1.1`, dwConv(b, `${t}.1/${qualifiedLeaf(t)}.1.0`, conv(b, `${t}.0/${qualifiedLeaf(t)}.0.1`, dwConv(b, `${t}.0/${qualifiedLeaf(t)}.0.0`, f), c3, 1)), c3, 1)
      : conv(b, `${t}.1`, conv(b, `${t}.0`, f, c3, 3), c3, 3);
    const cls = b.conv(`${t}.2`, trunk, { out: c.classes, k: 1, bias: true, gain: LINEAR });
    return b.concat(s, [box, cls]);
  });
  const flat = levels.map((t) => {
    const a = t.shape[2]! * t.shape[3]!;
    return b.reshapeBy(s, t, b.constantTensor(s, 'int64', [n, no, -1], [3]), [n, no, a]);
  });
  const total = flat.reduce((sum, t) => sum + t.shape[2]!, 0);
  const xCat = b.concatAxis(s, flat, 2);
  const [box, cls] = b.split(s, xCat, b.constantTensor(s, 'int64', [boxCh, c.classes], [2]), [boxCh, c.classes], 1) as [Tensor, Tensor];

  // DFL: softmax over the reg_max bins of each side, then the expectation as a fixed 1x1 Conv.
  const d = `${s}/dfl`;
  let dist = b.reshapeBy(d, box, b.constantTensor(d, 'int64', [n, 4, c.regMax, total], [4]), [n, 4, c.regMax, total]);
  dist = b.transpose(d, dist, [0, 2, 1, 3]);
  dist = b.softmax(d, dist, 1);
  const bins = b.fixedParameter(`${s.slice(1)}.dfl.conv.weight`, [1, c.regMax, 1, 1], Array.from({ length: c.regMax }, (_, i) => i));
  dist = b.op(`${d}/conv`, 'Conv', [dist, bins], [n, 1, 4, total], [
    attr.ints('dilations', [1, 1]), attr.int('group', 1), attr.ints('kernel_shape', [1, 1]), attr.ints('pads', [0, 0, 0, 0]), attr.ints('strides', [1, 1]),
  ]);
  b.countMacs(n * 4 * total * c.regMax);
  dist = b.reshapeBy(d, dist, b.constantTensor(d, 'int64', [n, 4, total], [3]), [n, 4, total]);

  // dist2bbox(xywh=True) around the anchor centres, scaled by each anchor's stride.
  const grid = anchors(feats.map((f) => [f.shape[2]!, f.shape[3]!] as const));
  const anchorPoints = b.constantTensor(s, 'float32', grid.points, [1, 2, total]);
  const [lt, rb] = b.split(s, dist, b.constantTensor(s, 'int64', [2, 2], [2]), [2, 2], 1) as [Tensor, Tensor];
  const x1y1 = b.op(s, 'Sub', [anchorPoints, lt], [n, 2, total]);
  const x2y2 = b.add(s, anchorPoints, rb);
  const cxy = b.div(s, b.add(s, x1y1, x2y2), b.constant(s, 2));
  const wh = b.op(s, 'Sub', [x2y2, x1y1], [n, 2, total]);
  const dbox = b.mul(s, b.concatAxis(s, [cxy, wh], 1), b.constantTensor(s, 'float32', grid.strides, [1, total]));
  return b.concatAxis(s, [dbox, b.sigmoid(s, cls)], 1);
}

/** YOLOv8 detection model (yolov8.yaml): backbone, PAN neck, Detect on P3/8, P4/16, P5/32. */
function checkSides(b: NetBuilder): void {
  const [, , h, w] = b.input.shape as [number, number, number, number];
  if (h % YOLO_STRIDE !== 0 || w % YOLO_STRIDE !== 0) {
    throw new ShapeTooSmall(`the head concatenates maps at strides 8, 16 and 32, so height and width must be multiples of ${YOLO_STRIDE}, got ${h}x${w}`);
  }
}

export function yolov8(b: NetBuilder, c: YoloConfig): Tensor {
  checkSides(b);
  const [w0, w1, w2, w3, w4] = c.widths;
  const [d2, d4, d6, d8] = c.depths;
  const m = (i: number) => `/model.${i}`;
  let x = conv(b, m(0), b.input, w0, 3, 2);
  x = conv(b, m(1), x, w1, 3, 2);
  x = c2f(b, m(2), x, w1, d2, true);
  x = conv(b, m(3), x, w2, 3, 2);
  const p3 = c2f(b, m(4), x, w2, d4, true);
  x = conv(b, m(5), p3, w3, 3, 2);
  const p4 = c2f(b, m(6), x, w3, d6, true);
  x = conv(b, m(7), p4, w4, 3, 2);
  x = c2f(b, m(8), x, w4, d8, true);
  const p5 = sppf(b, m(9), x, w4);
  // Head: top-down (layers 10-15), bottom-up (16-21); its C2f blocks have no shortcuts.
  x = b.concat(m(11), [upsample(b, m(10), p5), p4]);
  const h12 = c2f(b, m(12), x, w3, c.headDepth, false);
  x = b.concat(m(14), [upsample(b, m(13), h12), p3]);
  const out3 = c2f(b, m(15), x, w2, c.headDepth, false);
  x = b.concat(m(17), [conv(b, m(16), out3, w2, 3, 2), h12]);
  const out4 = c2f(b, m(18), x, w3, c.headDepth, false);
  x = b.concat(m(20), [conv(b, m(19), out4, w3, 3, 2), p5]);
  const out5 = c2f(b, m(21), x, w4, c.headDepth, false);
  return detect(b, m(22), [out3, out4, out5], c);
}

/** YOLO11 detection model (yolo11.yaml): C3k2 blocks, SPPF + C2PSA, PAN neck, Detect with a depthwise class branch. */
export function yolo11(b: NetBuilder, c: Yolo11Config): Tensor {
  checkSides(b);
  const [w0, w1, w2, w3, w4] = c.widths;
  const m = (i: number) => `/model.${i}`;
  let x = conv(b, m(0), b.input, w0, 3, 2);
  x = conv(b, m(1), x, w1, 3, 2);
  x = c3k2(b, m(2), x, w2, false, 0.25);
  x = conv(b, m(3), x, w2, 3, 2);
  const p3 = c3k2(b, m(4), x, w3, false, 0.25);
  x = conv(b, m(5), p3, w3, 3, 2);
  const p4 = c3k2(b, m(6), x, w3, true);
  x = conv(b, m(7), p4, w4, 3, 2);
  x = c3k2(b, m(8), x, w4, true);
  const p5 = c2psa(b, m(10), sppf(b, m(9), x, w4));
  x = b.concat(m(12), [upsample(b, m(11), p5), p4]);
  const h13 = c3k2(b, m(13), x, w3, false);
  x = b.concat(m(15), [upsample(b, m(14), h13), p3]);
  const out3 = c3k2(b, m(16), x, w2, false);
  x = b.concat(m(18), [conv(b, m(17), out3, w2, 3, 2), h13]);
  const out4 = c3k2(b, m(19), x, w3, false);
  x = b.concat(m(21), [conv(b, m(20), out4, w3, 3, 2), p5]);
  const out5 = c3k2(b, m(22), x, w4, true);
  return detect(b, m(23), [out3, out4, out5], c, true);
}

/** YOLOX (Megvii): CSPDarknet + PAFPN + decoupled head, widths x64 (0.25 nano, 0.375 tiny, 0.5 s), depth 0.33. */
export interface YoloxConfig {
  readonly width: number;
  /** Depth multiplier: base_depth = round(3 x depth) bottlenecks per CSPLayer (x3 in dark3, dark4). */
  readonly depth: number;
  /** Nano: DWConv (depthwise 3x3 + pointwise) for every 3x3 Conv but the stem. */
  readonly depthwise: boolean;
  readonly classes: number;
}

export const YOLOX_NANO: YoloxConfig = { width: 0.25, depth: 0.33, depthwise: true, classes: 80 };
export const YOLOX_TINY: YoloxConfig = { width: 0.375, depth: 0.33, depthwise: false, classes: 80 };
export const YOLOX_S: YoloxConfig = { width: 0.5, depth: 0.33, depthwise: false, classes: 80 };
export const YOLOX_M: YoloxConfig = { width: 0.75, depth: 0.67, depthwise: false, classes: 80 };
export const YOLOX_L: YoloxConfig = { width: 1, depth: 1, depthwise: false, classes: 80 };
export const YOLOX_X: YoloxConfig = { width: 1.25, depth: 1.33, depthwise: false, classes: 80 };

// YOLOX's concatenations (SPP's three pools, PAFPN) grow seeded activations layer by layer more than
// the Ultralytics graphs do; a gain of 1.2 before SiLU keeps them finite (exp() decodes the sizes).
const YOLOX_GAIN = 1.2;

/** YOLOX BaseConv: Conv (no bias) + BatchNorm (folded at export) + SiLU. */
function baseConv(b: NetBuilder, s: string, x: Tensor, out: number, k: number, stride = 1, groups = 1, gain = YOLOX_GAIN): Tensor {
  const y = b.conv(`${s}/conv`, x, { out, k, stride, pad: Math.floor((k - 1) / 2), groups, bn: true, gain });
  return b.silu(`${s}/act`, y);
}

/** Conv(k=3) of YOLOX: BaseConv, or DWConv (depthwise BaseConv + pointwise BaseConv) when depthwise. */
function xConv(b: NetBuilder, s: string, x: Tensor, out: number, stride: number, dw: boolean, gain = YOLOX_GAIN): Tensor {
  if (!dw) return baseConv(b, s, x, out, 3, stride, 1, gain);
  const c = x.shape[1]!;
  return baseConv(b, `${s}/pconv`, baseConv(b, `${s}/dconv`, x, c, 3, stride, c), out, 1, 1, 1, gain);
}

/** CSPLayer(in, out, n, shortcut): conv1 -> n Bottlenecks (1x1, 3x3) | conv2, concat, conv3; hidden = out/2. */
function cspLayer(b: NetBuilder, s: string, x: Tensor, out: number, shortcut: boolean, dw: boolean, n = 1): Tensor {
  const hidden = Math.floor(out / 2);
  let x1 = baseConv(b, `${s}/conv1`, x, hidden, 1);
  const x2 = baseConv(b, `${s}/conv2`, x, hidden, 1);
  for (let i = 0; i < n; i++) {
    const bs = `${s}/m/m.${i}`;
    const y = xConv(b, `${bs}/conv2`, baseConv(b, `${bs}/conv1`, x1, hidden, 1), hidden, 1, dw, shortcut ? RESIDUAL * YOLOX_GAIN : YOLOX_GAIN);
    x1 = shortcut ? b.add(bs, y, x1) : y;
  }
  return baseConv(b, `${s}/conv3`, b.concat(s, [x1, x2]), out, 1);
}

/** YOLOX detection model as tools/export_onnx.py writes it (decode in the graph): output [batch, anchors, 85]. */
export function yolox(b: NetBuilder, c: YoloxConfig): Tensor {
  checkSides(b);
  const w = (ch: number) => Math.floor(ch * c.width);
  const dw = c.depthwise;
  const base = w(64);
  const nd = Math.max(Math.round(3 * c.depth), 1);
  const [n, , h, wd] = b.input.shape as [number, number, number, number];
  // Focus: space-to-depth by four strided Slices (top-left, bottom-left, top-right, bottom-right), concat, BaseConv 3x3.
  const fs = '/backbone/backbone/stem';
  const patches = [[0, 0], [1, 0], [0, 1], [1, 1]].map(([dy, dx]) =>
    b.op(fs, 'Slice', [
      b.input,
      b.constantTensor(fs, 'int64', [dy!, dx!], [2]),
      b.constantTensor(fs, 'int64', [h, wd], [2]),
      b.constantTensor(fs, 'int64', [2, 3], [2]),
      b.constantTensor(fs, 'int64', [2, 2], [2]),
    ], [n, 3, h / 2, wd / 2]));
  let x = baseConv(b, `${fs}/conv`, b.concat(fs, patches), base, 3);
  const bb = '/backbone/backbone';
  // base_depth bottlenecks per CSPLayer, three times as many in dark3 and dark4.
  x = cspLayer(b, `${bb}/dark2/dark2.1`, xConv(b, `${bb}/dark2/dark2.0`, x, base * 2, 2, dw), base * 2, true, dw, nd);
  const d3 = cspLayer(b, `${bb}/dark3/dark3.1`, xConv(b, `${bb}/dark3/dark3.0`, x, base * 4, 2, dw), base * 4, true, dw, 3 * nd);
  const d4 = cspLayer(b, `${bb}/dark4/dark4.1`, xConv(b, `${bb}/dark4/dark4.0`, d3, base * 8, 2, dw), base * 8, true, dw, 3 * nd);
  x = xConv(b, `${bb}/dark5/dark5.0`, d4, base * 16, 2, dw);
  // SPPBottleneck: conv1 to half, MaxPools 5, 9, 13 in parallel, concat, conv2.
  const sp = `${bb}/dark5/dark5.1`;
  const hid = baseConv(b, `${sp}/conv1`, x, base * 8, 1);
  const pools = [5, 9, 13].map((k, i) => b.maxPool(`${sp}/m/m.${i}`, hid, { k, stride: 1, pad: (k - 1) / 2 }));
  x = baseConv(b, `${sp}/conv2`, b.concat(sp, [hid, ...pools]), base * 16, 1);
  const d5 = cspLayer(b, `${bb}/dark5/dark5.2`, x, base * 16, false, dw, nd);
  // PAFPN.
  const p = '/backbone';
  const fpn0 = baseConv(b, `${p}/lateral_conv0`, d5, w(512), 1);
  let f = cspLayer(b, `${p}/C3_p4`, b.concat(p, [upsample(b, `${p}/upsample`, fpn0), d4]), w(512), false, dw, nd);
  const fpn1 = baseConv(b, `${p}/reduce_conv1`, f, w(256), 1);
  const pan2 = cspLayer(b, `${p}/C3_p3`, b.concat(p, [upsample(b, `${p}/upsample_1`, fpn1), d3]), w(256), false, dw, nd);
  f = xConv(b, `${p}/bu_conv2`, pan2, w(256), 2, dw);
  const pan1 = cspLayer(b, `${p}/C3_n3`, b.concat(p, [f, fpn1]), w(512), false, dw, nd);
  f = xConv(b, `${p}/bu_conv1`, pan1, w(512), 2, dw);
  const pan0 = cspLayer(b, `${p}/C3_n4`, b.concat(p, [f, fpn0]), w(1024), false, dw, nd);
  // Head: per level a stem, two 3x3 convs each for classes and boxes, 1x1 predictions.
  const hc = w(256);
  const levels = [pan2, pan1, pan0].map((t, i) => {
    const hs = '/head';
    const stem = baseConv(b, `${hs}/stems.${i}`, t, hc, 1);
    const cls = xConv(b, `${hs}/cls_convs.${i}/cls_convs.${i}.1`, xConv(b, `${hs}/cls_convs.${i}/cls_convs.${i}.0`, stem, hc, 1, dw), hc, 1, dw);
    const reg = xConv(b, `${hs}/reg_convs.${i}/reg_convs.${i}.1`, xConv(b, `${hs}/reg_convs.${i}/reg_convs.${i}.0`, stem, hc, 1, dw), hc, 1, dw);
    const clsOut = b.conv(`${hs}/cls_preds.${i}`, cls, { out: c.classes, k: 1, bias: true, gain: LINEAR });
    // Small box and objectness logits: exp() of the box ones scales the stride; the sigmoid stays off its rails.
    const regOut = b.conv(`${hs}/reg_preds.${i}`, reg, { out: 4, k: 1, bias: true, gain: 0.1 });
    const objOut = b.conv(`${hs}/obj_preds.${i}`, reg, { out: 1, k: 1, bias: true, gain: 0.1 });
    const y = b.concat(hs, [regOut, b.sigmoid(hs, objOut), b.sigmoid(hs, clsOut)]);
    const a = y.shape[2]! * y.shape[3]!;
    return b.reshapeBy(hs, y, b.constantTensor(hs, 'int64', [n, 5 + c.classes, a], [3]), [n, 5 + c.classes, a]);
  });
  const hs = '/head';
  const total = levels.reduce((sum, t) => sum + t.shape[2]!, 0);
  const no = 5 + c.classes;
  const out = b.transpose(hs, b.concatAxis(hs, levels, 2), [0, 2, 1]);
  // decode_outputs: (xy + grid) * stride, exp(wh) * stride, scores as they are.
  const grids: number[] = [];
  const strides: number[] = [];
  for (const s of STRIDES) {
    for (let y = 0; y < h / s; y++) for (let xx = 0; xx < wd / s; xx++) { grids.push(xx, y); strides.push(s); }
  }
  const slice = (from: number, to: number) => b.op(hs, 'Slice', [
    out, b.constantTensor(hs, 'int64', [from], [1]), b.constantTensor(hs, 'int64', [to], [1]), b.constantTensor(hs, 'int64', [2], [1]), b.constantTensor(hs, 'int64', [1], [1]),
  ], [n, total, to - from]);
  const strideT = b.constantTensor(hs, 'float32', strides, [1, total, 1]);
  const xy = b.mul(hs, b.add(hs, slice(0, 2), b.constantTensor(hs, 'float32', grids, [1, total, 2])), strideT);
  const wh = b.mul(hs, b.op(hs, 'Exp', [slice(2, 4)], [n, total, 2]), strideT);
  return b.concatAxis(hs, [xy, wh, slice(4, no)], 2);
}
