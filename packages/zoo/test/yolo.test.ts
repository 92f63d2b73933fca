// The YOLO detectors (YOLOv8n, YOLO11n, YOLO11s): Ultralytics' fused parameter counts from formulas, shapes
// at several inputs, onnx-graph's shape inference from scratch, and onnxruntime-node running it,
// with the in-graph box decode (DFL, anchors, strides) recomputed here from the raw head outputs.
import { toBinary } from '@bufbuild/protobuf';
import * as ort from 'onnxruntime-node';
import { ModelProtoSchema } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { graphCosts, loadModel } from '@dnnpart/onnx-graph';
import { buildZooModel, buildZooModelProto, isZooError, zooDefaultInputShape, zooModelInfo, type ZooInputShape } from '@dnnpart/zoo';

/** ultralytics Conv after fuse(): Conv2d(c1, c2, k, bias=True) (BatchNorm folded into the bias). */
const conv = (c1: number, c2: number, k: number) => c1 * c2 * k * k + c2;
/** C2f(c1, c2, n): cv1 1x1 to 2c, cv2 1x1 from (2 + n)c, n Bottlenecks of two 3x3 convs (c = c2 / 2). */
const c2f = (c1: number, c2: number, n: number) => conv(c1, c2, 1) + conv(((2 + n) * c2) / 2, c2, 1) + n * 2 * conv(c2 / 2, c2 / 2, 3);
/** SPPF(c1, c2): cv1 1x1 to c1/2, cv2 1x1 from 4 x c1/2. */
const sppf = (c1: number, c2: number) => conv(c1, c1 / 2, 1) + conv(2 * c1, c2, 1);
/** Detect(80, (64, 128, 256)): per level cv2 (two 3x3 to 64, 1x1 to 64) and cv3 (two 3x3 to 80, 1x1 to 80), DFL 16 fixed weights. */
const detect = (ch: readonly number[], nc = 80, regMax = 16) => {
  const c2 = Math.max(16, ch[0]! / 4, 4 * regMax);
  const c3 = Math.max(ch[0]!, Math.min(nc, 100));
  return ch.reduce((s, c) => s + conv(c, c2, 3) + conv(c2, c2, 3) + conv(c2, 4 * regMax, 1) + conv(c, c3, 3) + conv(c3, c3, 3) + conv(c3, nc, 1), 0) + regMax;
};
// yolov8.yaml at scale n (depth 0.33, width 0.25), layer by layer.
const YOLOV8N_PARAMS =
  conv(3, 16, 3) + conv(16, 32, 3) + c2f(32, 32, 1) + conv(32, 64, 3) + c2f(64, 64, 2) + conv(64, 128, 3) + c2f(128, 128, 2) +
  conv(128, 256, 3) + c2f(256, 256, 1) + sppf(256, 256) +
  c2f(384, 128, 1) + c2f(192, 64, 1) + conv(64, 64, 3) + c2f(192, 128, 1) + conv(128, 128, 3) + c2f(384, 256, 1) +
  detect([64, 128, 256]);

/** DWConv(c, c, 3) fused: depthwise 3x3 with bias. */
const dw = (c: number) => c * 9 + c;
/** Bottleneck(c, c, e): 3x3 to e x c, 3x3 back. */
const bottleneck = (c: number, e: number) => conv(c, c * e, 3) + conv(c * e, c, 3);
/** C3k(c, c, 2): cv1, cv2 1x1 to c/2, two Bottlenecks (e=1) at c/2, cv3 1x1 from c. */
const c3k = (c: number) => 2 * conv(c, c / 2, 1) + 2 * bottleneck(c / 2, 1) + conv(c, c, 1);
/** C3k2(c1, c2, 1, c3k, e): C2f's cv1/cv2 around one C3k or one Bottleneck(e=0.5) at c = e x c2. */
const c3k2 = (c1: number, c2: number, useC3k: boolean, e = 0.5) => conv(c1, c2 * e * 2, 1) + conv(3 * c2 * e, c2, 1) + (useC3k ? c3k(c2 * e) : bottleneck(c2 * e, 0.5));
/** C2PSA(c1): cv1/cv2 1x1, a PSABlock at c = c1/2: qkv 1x1 to 2c, pe depthwise 3x3, proj 1x1, FFN c -> 2c -> c. */
const c2psa = (c1: number) => {
  const c = c1 / 2;
  return conv(c1, c1, 1) + conv(c1, c1, 1) + conv(c, 2 * c, 1) + dw(c) + conv(c, c, 1) + conv(c, 2 * c, 1) + conv(2 * c, c, 1);
};
/** YOLO11's Detect: cv2 as YOLOv8's, cv3 two (DWConv 3x3 + Conv 1x1) pairs then 1x1 to the classes. */
const detect11 = (ch: readonly number[], nc = 80, regMax = 16) => {
  const c2 = Math.max(16, ch[0]! / 4, 4 * regMax);
  const c3 = Math.max(ch[0]!, Math.min(nc, 100));
  return ch.reduce((s, c) => s + conv(c, c2, 3) + conv(c2, c2, 3) + conv(c2, 4 * regMax, 1) + dw(c) + conv(c, c3, 1) + dw(c3) + conv(c3, c3, 1) + conv(c3, nc, 1), 0) + regMax;
};
// yolo11.yaml layer by layer at widths w (n: 16..256, s: 32..512); layer 4 (P3) has w3 channels, so layer 16 takes 2 x w3.
const yolo11Params = ([w0, w1, w2, w3, w4]: readonly number[]) =>
  conv(3, w0!, 3) + conv(w0!, w1!, 3) + c3k2(w1!, w2!, false, 0.25) + conv(w2!, w2!, 3) + c3k2(w2!, w3!, false, 0.25) + conv(w3!, w3!, 3) +
  c3k2(w3!, w3!, true) + conv(w3!, w4!, 3) + c3k2(w4!, w4!, true) + sppf(w4!, w4!) + c2psa(w4!) +
  c3k2(w4! + w3!, w3!, false) + c3k2(w3! + w3!, w2!, false) + conv(w2!, w2!, 3) + c3k2(w2! + w3!, w3!, false) + conv(w3!, w3!, 3) +
  c3k2(w3! + w4!, w4!, true) + detect11([w2!, w3!, w4!]);

/** Attention MatMul MACs of C2PSA at 640 (20x20 tokens): q^T k and v attn^T; thop (Ultralytics' GFLOPs) does not count them. */
const psaMatmulMacs = (c: number) => (c / 64) * 400 * 400 * (32 + 64);

describe('detector figures', () => {
  // Ultralytics: "YOLOv8n summary (fused): 168 layers, 3,151,904 parameters, 8.7 GFLOPs"; docs.ultralytics.com/models/yolo11:
  // YOLO11n 2.6 M params (2,616,248 fused), 6.5 GFLOPs; YOLO11s 9.4 M, 21.5 GFLOPs.
  it.each([
    ['yolov8n', YOLOV8N_PARAMS, 3_151_904, 8.7, 0],
    ['yolo11n', yolo11Params([16, 32, 64, 128, 256]), 2_616_248, 6.5, psaMatmulMacs(128)],
    ['yolo11s', yolo11Params([32, 64, 128, 256, 512]), 9_443_760, 21.5, psaMatmulMacs(256)],
  ] as const)('%s: the layer formula gives %i, the zoo network has as many (all initializers), GFLOPs round to the published', (net, formula, params, gflops, uncounted) => {
    expect(formula).toBe(params);
    const info = zooModelInfo(net);
    expect(info.params).toBe(params);
    expect(info.initializerElements).toBe(params);
    // Ultralytics' GFLOPs are 2 x thop's multiply-accumulates of Conv modules at imgsz 640 (functional MatMuls not seen).
    expect(Math.round((2 * (info.macs - uncounted)) / 1e8) / 10).toBe(gflops);
  });
  it('yolo11s rounds to the docs\' 9.4 M parameters', () => {
    expect(Math.round(yolo11Params([32, 64, 128, 256, 512]) / 1e5) / 10).toBe(9.4);
  });

  // YOLOX's README (Megvii-BaseDetection/YOLOX): Params (M) and FLOPs (G) of the unfused model
  // (BatchNorm counted) at its test size; thop also counts BatchNorm as operations, so the Conv
  // MACs here come out 0.4-3.3 % under its FLOPs.
  it.each([
    ['yolox_nano', 416, 0.91, 2, 1.08],
    ['yolox_tiny', 416, 5.06, 2, 6.45],
    ['yolox_s', 640, 9.0, 1, 26.8],
    ['yolox_m', 640, 25.3, 1, 73.8],
    ['yolox_l', 640, 54.2, 1, 155.6],
    ['yolox_x', 640, 99.1, 1, 281.9],
  ] as const)('%s at %i: parameters round to %f M, 2 x MACs within 4 %% under the published GFLOPs', (net, side, params, digits, gflops) => {
    const info = zooModelInfo(net);
    expect(info.inputShape).toEqual([1, 3, side, side]);
    expect(Math.round(info.params / 10 ** (6 - digits)) / 10 ** digits).toBe(params);
    const ratio = (2 * info.macs) / 1e9 / gflops;
    expect(ratio).toBeLessThanOrEqual(1);
    expect(ratio).toBeGreaterThan(0.96);
  });
});

describe('yolov8n figures', () => {
  it('the formula gives Ultralytics\' fused count, "YOLOv8n summary (fused): 168 layers, 3,151,904 parameters"', () => {
    expect(YOLOV8N_PARAMS).toBe(3_151_904);
  });

  it('the zoo network has that many parameters, all of them initializers (nothing to fold), and 8.7 GFLOPs at 640 as Ultralytics rounds them', () => {
    const info = zooModelInfo('yolov8n');
    expect(info.params).toBe(YOLOV8N_PARAMS);
    expect(info.initializerElements).toBe(YOLOV8N_PARAMS);
    // Ultralytics' GFLOPs are 2 x the multiply-accumulates of Conv layers at imgsz 640.
    expect(Math.round((2 * info.macs) / 1e8) / 10).toBe(8.7);
  });

  it.each([
    [[1, 3, 640, 640], [1, 84, 8400]],
    [[1, 3, 320, 320], [1, 84, 2100]],
    [[2, 3, 256, 384], [2, 84, 8 * 12 * 21]],
    [[1, 3, 32, 32], [1, 84, 21]],
  ] as const)('at %j the output is %j; MACs follow the area', (shape, out) => {
    const info = zooModelInfo('yolov8n', { inputShape: shape });
    expect(info.outputShape).toEqual(out);
    expect(info.output.name).toBe('output0');
    expect(info.params).toBe(YOLOV8N_PARAMS);
    // Every feature map (and the anchor count) is area / stride^2, so MACs scale exactly with batch x area.
    expect(info.macs * 640 * 640).toBe(zooModelInfo('yolov8n').macs * shape[0] * shape[2] * shape[3]);
  });

  it('defaults to 1x3x640x640', () => {
    expect(zooDefaultInputShape('yolov8n')).toEqual([1, 3, 640, 640]);
  });

  it.each([
    [[1, 3, 330, 330], 'multiples of 32'],
    [[1, 3, 640, 600], 'multiples of 32'],
    [[1, 1, 640, 640], 'takes 3 (RGB)'],
  ] as const)('refuses %j: %s', (shape, text) => {
    let err: unknown;
    try {
      zooModelInfo('yolov8n', { inputShape: shape });
    } catch (e) {
      err = e;
    }
    expect(isZooError(err) && err.code).toBe('ZOO_BAD_INPUT_SHAPE');
    expect((err as Error).message).toContain(text);
    expect((err as Error).message).toContain('yolov8n');
  });

  it('has the exporter\'s structure: 63 fused Convs + the DFL Conv, SiLU as Sigmoid+Mul, 10 Splits, 3 MaxPools, 2 Resizes, one Softmax', () => {
    const count = new Map<string, number>();
    for (const n of zooModelInfo('yolov8n').nodes) count.set(n.op, (count.get(n.op) ?? 0) + 1);
    expect(Object.fromEntries(count)).toEqual({
      Conv: 64, Sigmoid: 58, Mul: 58, Constant: 20, Split: 10, Add: 8, Concat: 19, MaxPool: 3, Resize: 2,
      Reshape: 5, Transpose: 1, Softmax: 1, Sub: 2, Div: 1,
    });
  });
});

describe('the detectors load, infer shapes and run', () => {
  const SHAPE: ZooInputShape = [1, 3, 320, 320];

  it.each(['yolov8n', 'yolo11n', 'yolo11s', 'yolox_nano', 'yolox_s'] as const)('%s: onnx-graph infers every tensor shape from scratch as the zoo declares it, folds the Constants, knows every op', async (net) => {
    const proto = buildZooModelProto(net, { inputShape: SHAPE });
    const constants = proto.graph!.node.filter((n) => n.opType === 'Constant').length;
    const declared = new Map(proto.graph!.valueInfo.map((v) => [v.name, v.type!.value.case === 'tensorType' ? v.type!.value.value.shape!.dim.map((d) => Number(d.value.value)) : []]));
    proto.graph!.valueInfo = [];
    const { graph } = await loadModel(toBinary(ModelProtoSchema, proto));
    const wrong: string[] = [];
    for (const [name, t] of graph.tensors) {
      const want = declared.get(name);
      if (want && JSON.stringify(want) !== JSON.stringify(t.shape)) wrong.push(`${name}: [${t.shape.join(', ')}] vs [${want.join(', ')}]`);
    }
    expect(wrong).toEqual([]);
    expect(graph.tensors.get('output0')!.shape).toEqual(net.startsWith('yolox') ? [1, 2100, 85] : [1, 84, 2100]);
    expect(graph.nodes.filter((n) => n.op === 'Constant')).toEqual([]);
    expect(graph.nodes).toHaveLength(zooModelInfo(net, { inputShape: SHAPE }).nodes.length - constants);
    const costs = graphCosts(graph);
    expect(costs.unknownOps).toEqual([]);
    expect(costs.macs).toBe(zooModelInfo(net, { inputShape: SHAPE }).macs);
  });

  it.each([
    ['yolov8n', '/model.22/Concat_3_output_0'],
    ['yolo11n', '/model.23/Concat_3_output_0'],
  ] as const)('%s: onnxruntime-node runs it at 320x320; boxes and scores equal a decode of the raw head outputs done here', async (net, raw) => {
    // Expose the head's concatenated raw outputs (64 DFL logits + 80 class logits per anchor).
    const proto = buildZooModelProto(net, { inputShape: SHAPE });
    proto.graph!.output.push(proto.graph!.valueInfo.find((v) => v.name === raw)!);
    const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, proto));
    const x = new Float32Array(3 * 320 * 320);
    for (let i = 0; i < x.length; i++) x[i] = 0.5 + 0.5 * Math.sin(0.37 * i);
    const r = await session.run({ input: new ort.Tensor('float32', x, [...SHAPE]) });
    expect(r.output0!.dims).toEqual([1, 84, 2100]);
    const out = r.output0!.data as Float32Array;
    const head = r[raw]!.data as Float32Array;
    const A = 2100;

    // Anchors: cell centres of the 40x40 (stride 8), 20x20 (16) and 10x10 (32) maps, row-major.
    const anchors: [number, number, number][] = [];
    for (const stride of [8, 16, 32]) {
      const side = 320 / stride;
      for (let y = 0; y < side; y++) for (let xx = 0; xx < side; xx++) anchors.push([xx + 0.5, y + 0.5, stride]);
    }
    expect(anchors).toHaveLength(A);
    let worst = 0;
    let scoreSum = 0;
    let scoreSq = 0;
    for (let a = 0; a < A; a++) {
      // DFL: the expected bin (0..15) of a softmax over each side's 16 logits: left, top, right, bottom.
      const d = [0, 1, 2, 3].map((side) => {
        const logits = Array.from({ length: 16 }, (_, k) => head[(side * 16 + k) * A + a]!);
        const m = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - m));
        const z = e.reduce((s, v) => s + v, 0);
        return e.reduce((s, v, k) => s + (k * v) / z, 0);
      });
      const [ax, ay, stride] = anchors[a]!;
      const box = [ax + (d[2]! - d[0]!) / 2, ay + (d[3]! - d[1]!) / 2, d[0]! + d[2]!, d[1]! + d[3]!].map((v) => v * stride);
      for (let j = 0; j < 4; j++) worst = Math.max(worst, Math.abs(out[j * A + a]! - box[j]!) / Math.max(1, Math.abs(box[j]!)));
      for (let c = 0; c < 80; c++) {
        const p = 1 / (1 + Math.exp(-head[(64 + c) * A + a]!));
        worst = Math.max(worst, Math.abs(out[(4 + c) * A + a]! - p));
        scoreSum += p;
        scoreSq += p * p;
      }
    }
    expect(worst).toBeLessThan(1e-4);
    // Seeded weights give non-degenerate scores (not all 0, 1 or one value).
    const mean = scoreSum / (80 * A);
    expect(Math.sqrt(scoreSq / (80 * A) - mean * mean)).toBeGreaterThan(0.05);
    // Box sizes are positive and within the reach of 15 bins per side.
    for (let a = 0; a < A; a++) {
      const stride = anchors[a]![2];
      expect(out[2 * A + a]!).toBeGreaterThan(0);
      expect(out[2 * A + a]!).toBeLessThanOrEqual(30 * stride + 1e-3);
    }
  });

  it('the default 640 model runs in onnxruntime-node and gives 8400 anchors', async () => {
    const session = await ort.InferenceSession.create(buildZooModel('yolov8n'));
    const x = new Float32Array(3 * 640 * 640).fill(0.5);
    const r = await session.run({ input: new ort.Tensor('float32', x, [1, 3, 640, 640]) });
    expect(r.output0!.dims).toEqual([1, 84, 8400]);
    expect((r.output0!.data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});

describe('YOLOX decodes its boxes in the graph', () => {
  it.each(['yolox_nano', 'yolox_m'] as const)('%s at 320x320: every tensor finite; output0 = (xy + grid) x stride, exp(wh) x stride, scores, from the raw head', async (net) => {
    const proto = buildZooModelProto(net, { inputShape: [1, 3, 320, 320] });
    const raw = '/head/Transpose_output_0';
    const g = proto.graph!;
    const constants = new Set(g.node.filter((n) => n.opType === 'Constant').flatMap((n) => n.output));
    g.output.push(...g.valueInfo.filter((v) => !constants.has(v.name)));
    const session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, proto));
    const x = new Float32Array(3 * 320 * 320);
    for (let i = 0; i < x.length; i++) x[i] = 0.5 + 0.5 * Math.sin(0.37 * i);
    const r = await session.run({ input: new ort.Tensor('float32', x, [1, 3, 320, 320]) });
    for (const name of session.outputNames) expect((r[name]!.data as Float32Array).every(Number.isFinite), name).toBe(true);
    expect(r.output0!.dims).toEqual([1, 2100, 85]);
    const out = r.output0!.data as Float32Array;
    const head = r[raw]!.data as Float32Array;
    let a = 0;
    let worst = 0;
    for (const stride of [8, 16, 32]) {
      const side = 320 / stride;
      for (let gy = 0; gy < side; gy++) {
        for (let gx = 0; gx < side; gx++, a++) {
          const want = [(head[a * 85]! + gx) * stride, (head[a * 85 + 1]! + gy) * stride, Math.exp(head[a * 85 + 2]!) * stride, Math.exp(head[a * 85 + 3]!) * stride];
          for (let j = 0; j < 4; j++) worst = Math.max(worst, Math.abs(out[a * 85 + j]! - want[j]!) / Math.max(1, Math.abs(want[j]!)));
          for (let j = 4; j < 85; j++) worst = Math.max(worst, Math.abs(out[a * 85 + j]! - head[a * 85 + j]!));
        }
      }
    }
    expect(a).toBe(2100);
    expect(worst).toBeLessThan(1e-5);
  });
});
