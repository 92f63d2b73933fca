// The zoo's public face: names, listing, building.

import type { ModelProto } from 'onnx-buf';
import { NetBuilder, ShapeTooSmall, type NetGraph, type Tensor, type ZooDType } from './_builder.js';
import { BERT_BASE, BERT_INPUTS, MINILM_L6, bert, type BertConfig } from './_bert.js';
import { efficientnetB0 } from './_efficientnet.js';
import { encodeModel, toModelProto } from './_encode.js';
import { googlenet } from './_googlenet.js';
import { mobilenetV2 } from './_mobilenet.js';
import { regnetX400mf } from './_regnet.js';
import { resnet18, resnet50 } from './_resnet.js';
import { squeezenet11 } from './_squeezenet.js';
import { alexnet, vgg16 } from './_vgg.js';
import { VIT_B_16, VIT_B_32, VIT_TI_16, vit, type VitConfig } from './_vit.js';
import { YOLO11N, YOLO11S, YOLO_STRIDE, YOLOV8N, YOLOX_L, YOLOX_M, YOLOX_NANO, YOLOX_S, YOLOX_TINY, YOLOX_X, yolo11, yolov8, yolox } from './_yolo.js';
import { ZooError } from './errors.js';

/** The networks the zoo builds: torchvision's names, two Hugging Face BERT encoders, Ultralytics YOLO detectors. */
export const zooNames = [
  'resnet18',
  'resnet50',
  'mobilenet_v2',
  'efficientnet_b0',
  'vgg16',
  'squeezenet1_1',
  'googlenet',
  'alexnet',
  'regnet_x_400mf',
  'vit_b_16',
  'vit_b_32',
  'vit_ti_16',
  'bert_base',
  'minilm_l6',
  'yolov8n',
  'yolo11n',
  'yolo11s',
  'yolox_nano',
  'yolox_tiny',
  'yolox_s',
  'yolox_m',
  'yolox_l',
  'yolox_x',
] as const;

export type ZooName = (typeof zooNames)[number];

/**
 * An input shape: [batch, 3, height, width] for the image networks (CNNs and ViTs), [batch,
 * sequence] for the text encoders (the shape of each of input_ids, attention_mask, token_type_ids).
 */
export type ZooInputShape = readonly number[];

/** What a network takes: images (one float32 `input`) or token ids (int64 inputs). */
export type ZooKind = 'image' | 'text';

/** One graph input or output of a zoo network. */
export interface ZooTensorInfo {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: ZooDType;
}

/** One network of the zoo, as listed (no weights allocated). */
export interface ZooEntry {
  readonly name: ZooName;
  /** Parameters of the reference implementation (torchvision: BatchNorm scale and shift count; Ultralytics: the fused model's). */
  readonly params: number;
  /** Multiply-accumulates of Conv, Linear (Gemm, MatMul) and attention MatMuls at the default input. */
  readonly macs: number;
  readonly description: string;
  readonly kind: ZooKind;
  /** The default input shape: 1x3x224x224, 1x3x640x640 for the detectors, or 1x128 tokens for the text encoders. */
  readonly inputShape: ZooInputShape;
}

export interface ZooBuildOptions {
  /** Default [1, 3, 224, 224]; [1, 3, 640, 640] for the detectors; [1, 128] for the text encoders (`zooDefaultInputShape`). */
  readonly inputShape?: ZooInputShape;
  /** Weight seed, an integer in [0, 2^32); default `defaultZooSeed`. */
  readonly seed?: number;
}

/** A network's figures at a given input shape, computed without weights. */
export interface ZooModelInfo {
  readonly name: ZooName;
  readonly inputShape: ZooInputShape;
  readonly outputShape: readonly number[];
  /** The graph inputs (names, shapes, types). */
  readonly inputs: readonly ZooTensorInfo[];
  /** The graph output (`output`; `output0` for the detectors, `last_hidden_state` for the text encoders). */
  readonly output: ZooTensorInfo;
  /**
   * The reference implementation's parameter count. Independent of the input shape, except for
   * the ViTs, whose position embedding follows the image size (VisionTransformer(image_size=side)).
   */
  readonly params: number;
  /** Conv, Gemm and MatMul multiply-accumulates at this input shape (batch included). */
  readonly macs: number;
  /** Nodes in the graph's (topological) order, without weights. */
  readonly nodes: readonly ZooNodeInfo[];
  /** Elements of the ONNX initializers (fewer than `params` where BatchNorm is folded; shapes are Constant nodes). */
  readonly initializerElements: number;
}

/** One ONNX node of a zoo network: its exporter name, op and tensor names. */
export interface ZooNodeInfo {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** The image networks' default input; `zooDefaultInputShape(name)` gives any network's. */
export const defaultZooInputShape: ZooInputShape = [1, 3, 224, 224];
const DEFAULT_TEXT_SHAPE: ZooInputShape = [1, 128];
export const defaultZooSeed = 1;

interface NetDef {
  readonly build: (b: NetBuilder) => Tensor;
  readonly description: string;
  readonly vit?: VitConfig;
  readonly bert?: BertConfig;
  /** A detector (YOLO): its default square input side (640; YOLOX-Nano and -Tiny 416), sides a multiple of 32, output `output0`. */
  readonly yolo?: number;
}

const vitNet = (c: VitConfig, description: string): NetDef => ({ build: (b) => vit(b, c), description, vit: c });
const bertNet = (c: BertConfig, description: string): NetDef => ({ build: (b) => bert(b, c), description, bert: c });

const NETS: Readonly<Record<ZooName, NetDef>> = {
  resnet18: { build: resnet18, description: 'ResNet-18: basic residual blocks [2, 2, 2, 2]' },
  resnet50: { build: resnet50, description: 'ResNet-50: bottleneck residual blocks [3, 4, 6, 3]' },
  mobilenet_v2: { build: mobilenetV2, description: 'MobileNetV2: inverted residuals, depthwise convs, ReLU6' },
  efficientnet_b0: { build: efficientnetB0, description: 'EfficientNet-B0: MBConv with squeeze-and-excitation, SiLU' },
  vgg16: { build: vgg16, description: 'VGG-16: 13 convs and 3 fully connected layers, no BatchNorm' },
  squeezenet1_1: { build: squeezenet11, description: 'SqueezeNet 1.1: Fire modules with concatenated expands' },
  googlenet: { build: googlenet, description: 'GoogLeNet (Inception v1) without auxiliary classifiers' },
  alexnet: { build: alexnet, description: 'AlexNet: 5 convs and 3 fully connected layers' },
  regnet_x_400mf: { build: regnetX400mf, description: 'RegNetX-400MF: grouped-conv residual bottlenecks, 4 stages' },
  vit_b_16: vitNet(VIT_B_16, 'ViT-B/16: 12 pre-norm encoder blocks, 768 wide, 12 heads, 16x16 patches'),
  vit_b_32: vitNet(VIT_B_32, 'ViT-B/32: as ViT-B/16 with 32x32 patches (50 tokens at 224)'),
  vit_ti_16: vitNet(VIT_TI_16, 'ViT-Ti/16 (DeiT-Tiny sizes, torchvision modules): 12 blocks, 192 wide, 3 heads'),
  bert_base: bertNet(BERT_BASE, 'BERT-base encoder without pooler (HF BertModel): 12 layers, 768 wide, 12 heads'),
  minilm_l6: bertNet(MINILM_L6, 'MiniLM-L6 (all-MiniLM-L6-v2) encoder without pooler: 6 layers, 384 wide'),
  yolov8n: {
    build: (b) => yolov8(b, YOLOV8N),
    description: 'Ultralytics YOLOv8n detector (fused, 80 classes): C2f, SPPF, PAN, Detect with DFL; output 1x84x8400 at 640',
    yolo: 640,
  },
  yolo11n: {
    build: (b) => yolo11(b, YOLO11N),
    description: 'Ultralytics YOLO11n detector (fused, 80 classes): C3k2, SPPF, C2PSA attention, Detect with DFL; output 1x84x8400 at 640',
    yolo: 640,
  },
  yolo11s: {
    build: (b) => yolo11(b, YOLO11S),
    description: 'Ultralytics YOLO11s detector (fused, 80 classes): YOLO11n at twice the width; output 1x84x8400 at 640',
    yolo: 640,
  },
  yolox_nano: {
    build: (b) => yolox(b, YOLOX_NANO),
    description: 'YOLOX-Nano (Megvii): CSPDarknet with depthwise convs, PAFPN, decoupled head; output 1x3549x85 at 416',
    yolo: 416,
  },
  yolox_tiny: {
    build: (b) => yolox(b, YOLOX_TINY),
    description: 'YOLOX-Tiny (Megvii): CSPDarknet, PAFPN, decoupled head, width 0.375; output 1x3549x85 at 416',
    yolo: 416,
  },
  yolox_s: {
    build: (b) => yolox(b, YOLOX_S),
    description: 'YOLOX-S (Megvii): CSPDarknet, PAFPN, decoupled head, width 0.5; output 1x8400x85 at 640',
    yolo: 640,
  },
  yolox_m: { build: (b) => yolox(b, YOLOX_M), description: 'YOLOX-M (Megvii): width 0.75, depth 0.67; output 1x8400x85 at 640', yolo: 640 },
  yolox_l: { build: (b) => yolox(b, YOLOX_L), description: 'YOLOX-L (Megvii): width 1, depth 1; output 1x8400x85 at 640', yolo: 640 },
  yolox_x: { build: (b) => yolox(b, YOLOX_X), description: 'YOLOX-X (Megvii): width 1.25, depth 1.33; output 1x8400x85 at 640', yolo: 640 },
};


/** Whether the network takes images or token ids. */
function kindOf(name: ZooName): ZooKind {
  return NETS[name].bert ? 'text' : 'image';
}

/** A network's default input shape: [1, 3, 224, 224], [1, 3, 640, 640] for the detectors, or [1, 128] for the text encoders. */
export function zooDefaultInputShape(name: string): ZooInputShape {
  const net = checkName(name);
  const side = NETS[net].yolo;
  if (side !== undefined) return [1, 3, side, side];
  return kindOf(net) === 'text' ? [...DEFAULT_TEXT_SHAPE] : [...defaultZooInputShape];
}

/** True when `s` names a zoo network. */
export function isZooName(s: string): s is ZooName {
  return (zooNames as readonly string[]).includes(s);
}

function checkName(name: string): ZooName {
  if (!isZooName(name)) {
    throw new ZooError('ZOO_UNKNOWN_NETWORK', `unknown zoo network "${name}"; valid names: ${zooNames.join(', ')}`);
  }
  return name;
}

function fmtShape(shape: readonly unknown[]): string {
  return shape.map(String).join('x');
}

function checkTextShape(name: ZooName, shape: unknown, c: BertConfig): ZooInputShape {
  if (!Array.isArray(shape) || shape.length !== 2) {
    throw new ZooError(
      'ZOO_BAD_INPUT_SHAPE',
      `${name}: inputShape must be [batch, sequence] (the shape of input_ids, attention_mask and token_type_ids), got ${Array.isArray(shape) ? fmtShape(shape) : JSON.stringify(shape)}`,
    );
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 1)) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape ${fmtShape(shape)} must hold positive integers`);
  }
  if (shape[1] > c.maxPositions) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape ${fmtShape(shape)} has ${shape[1]} tokens; the model has ${c.maxPositions} positions (max_position_embeddings)`);
  }
  return shape as ZooInputShape;
}

function checkShape(name: ZooName, shape: unknown): ZooInputShape {
  const def = NETS[name];
  if (def.bert) return checkTextShape(name, shape, def.bert);
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape must be [batch, 3, height, width], got ${JSON.stringify(shape)}`);
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 1)) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape ${fmtShape(shape)} must hold positive integers`);
  }
  if (shape[1] !== 3) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape ${fmtShape(shape)} has ${shape[1]} channels; the network takes 3 (RGB)`);
  }
  if (def.yolo !== undefined && (shape[2] % YOLO_STRIDE !== 0 || shape[3] % YOLO_STRIDE !== 0)) {
    throw new ZooError(
      'ZOO_BAD_INPUT_SHAPE',
      `${name}: input ${fmtShape(shape)}: height and width must be multiples of ${YOLO_STRIDE} (the detector's largest stride; default ${def.yolo}x${def.yolo})`,
    );
  }
  const p = def.vit?.patch;
  if (p !== undefined && (shape[2] !== shape[3] || shape[2] % p !== 0)) {
    throw new ZooError(
      'ZOO_BAD_INPUT_SHAPE',
      `${name}: input ${fmtShape(shape)}: height and width must be equal multiples of the patch size ${p} (VisionTransformer takes square images; default 224x224)`,
    );
  }
  return shape as ZooInputShape;
}

function topology(name: ZooName, shape: ZooInputShape): NetGraph {
  const def = NETS[name];
  if (def.bert) {
    const b = new NetBuilder(name, BERT_INPUTS.map((n) => ({ name: n, shape, dtype: 'int64' as const })));
    return b.finish(def.build(b), 'last_hidden_state', `Hugging Face BertModel (${name}) without pooler, eager attention, seeded random weights`);
  }
  const b = new NetBuilder(name, shape);
  if (def.yolo !== undefined) {
    const how = name.startsWith('yolox') ? 'as YOLOX tools/export_onnx.py writes it, decode in the graph' : 'fused, as yolo export format=onnx writes it';
    return b.finish(def.build(b), 'output0', `${name} (${how}) with seeded random weights`);
  }
  return b.finish(def.build(b), 'output', def.vit ? `torchvision ${name} topology with seeded random weights` : undefined);
}

const minSizes = new Map<ZooName, number>();

/** Smallest square input the network accepts (found by trying sizes; topology only, cheap). */
function minimumSize(name: ZooName): number {
  let min = minSizes.get(name);
  if (min === undefined) {
    for (min = 1; min < 4096; min++) {
      try {
        topology(name, [1, 3, min, min]);
        break;
      } catch (e) {
        if (!(e instanceof ShapeTooSmall)) throw e;
      }
    }
    minSizes.set(name, min);
  }
  return min;
}

function checkedTopology(name: string, options: ZooBuildOptions | undefined): NetGraph {
  const net = checkName(name);
  const shape = checkShape(net, options?.inputShape ?? zooDefaultInputShape(net));
  try {
    return topology(net, shape);
  } catch (e) {
    if (!(e instanceof ShapeTooSmall)) throw e;
    throw new ZooError(
      'ZOO_BAD_INPUT_SHAPE',
      `${net}: input ${fmtShape(shape)} does not fit the network (${e.message}); the smallest square input is ${minimumSize(net)}x${minimumSize(net)}`,
    );
  }
}

function checkSeed(seed: unknown): number {
  if (seed === undefined) return defaultZooSeed;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32) {
    throw new ZooError('ZOO_BAD_SEED', `seed must be an integer in [0, 2^32), got ${String(seed)}`);
  }
  return seed;
}

let listing: ZooEntry[] | undefined;

/** Every zoo network with its reference parameter count and MACs at its default input (no weights built). */
export function listZoo(): ZooEntry[] {
  listing ??= zooNames.map((name) => {
    const inputShape = zooDefaultInputShape(name);
    const g = topology(name, inputShape);
    return { name, params: g.params, macs: g.macs, description: NETS[name].description, kind: kindOf(name), inputShape };
  });
  return listing.map((e) => ({ ...e, inputShape: [...e.inputShape] }));
}

function tensorInfo(t: Tensor): ZooTensorInfo {
  return { name: t.name, shape: [...t.shape], dtype: t.dtype ?? 'float32' };
}

/** A network's shapes and counts at an input shape, without building weights. */
export function zooModelInfo(name: string, options?: Pick<ZooBuildOptions, 'inputShape'>): ZooModelInfo {
  const g = checkedTopology(name, options);
  return {
    name: g.name as ZooName,
    inputShape: [...g.inputs[0]!.shape],
    outputShape: g.output.shape,
    inputs: g.inputs.map(tensorInfo),
    output: tensorInfo(g.output),
    params: g.params,
    macs: g.macs,
    nodes: g.nodes.map((n) => ({ name: n.name, op: n.opType, inputs: [...n.input], outputs: [...n.output] })),
    initializerElements: g.initializers.reduce((s, i) => s + i.dims.reduce((a, b) => a * b, 1), 0),
  };
}

/** The network as ONNX bytes (IR 8, opset 17), weights seeded and deterministic. */
export function buildZooModel(name: string, options?: ZooBuildOptions): Uint8Array {
  const seed = checkSeed(options?.seed);
  return encodeModel(checkedTopology(name, options), seed);
}

/** The network as a ModelProto (same content as buildZooModel's bytes). */
export function buildZooModelProto(name: string, options?: ZooBuildOptions): ModelProto {
  const seed = checkSeed(options?.seed);
  return toModelProto(checkedTopology(name, options), seed);
}
