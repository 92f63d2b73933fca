// The zoo's public face: names, listing, building.

import type { ModelProto } from 'onnx-buf';
import { NetBuilder, ShapeTooSmall, type NetGraph, type Tensor } from './_builder.js';
import { efficientnetB0 } from './_efficientnet.js';
import { encodeModel, toModelProto } from './_encode.js';
import { googlenet } from './_googlenet.js';
import { mobilenetV2 } from './_mobilenet.js';
import { regnetX400mf } from './_regnet.js';
import { resnet18, resnet50 } from './_resnet.js';
import { squeezenet11 } from './_squeezenet.js';
import { alexnet, vgg16 } from './_vgg.js';
import { ZooError } from './errors.js';

/** The networks the zoo builds, named as torchvision names them. */
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
] as const;

export type ZooName = (typeof zooNames)[number];

/** An input shape [batch, channels, height, width]. */
export type ZooInputShape = readonly [number, number, number, number];

/** One network of the zoo, as listed (no weights allocated). */
export interface ZooEntry {
  readonly name: ZooName;
  /** Trainable parameters in torchvision's convention (BatchNorm scale and shift count). */
  readonly params: number;
  /** Multiply-accumulates of Conv and Linear layers at 1x3x224x224. */
  readonly macs: number;
  readonly description: string;
}

export interface ZooBuildOptions {
  /** Default [1, 3, 224, 224]. */
  readonly inputShape?: ZooInputShape;
  /** Weight seed, an integer in [0, 2^32); default `defaultZooSeed`. */
  readonly seed?: number;
}

/** A network's figures at a given input shape, computed without weights. */
export interface ZooModelInfo {
  readonly name: ZooName;
  readonly inputShape: ZooInputShape;
  readonly outputShape: readonly number[];
  /** torchvision's convention (independent of the input shape). */
  readonly params: number;
  /** Conv and Gemm multiply-accumulates at this input shape (batch included). */
  readonly macs: number;
  /** Nodes in the graph's (topological) order, without weights. */
  readonly nodes: readonly ZooNodeInfo[];
  /** Elements of the ONNX initializers (fewer than `params`: BatchNorm is folded). */
  readonly initializerElements: number;
}

/** One ONNX node of a zoo network: its exporter name, op and tensor names. */
export interface ZooNodeInfo {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

export const defaultZooInputShape: ZooInputShape = [1, 3, 224, 224];
export const defaultZooSeed = 1;

interface NetDef {
  readonly build: (b: NetBuilder) => Tensor;
  readonly description: string;
}

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
};

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

function checkShape(name: ZooName, shape: unknown): ZooInputShape {
  if (!Array.isArray(shape) || shape.length !== 4) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape must be [batch, 3, height, width], got ${JSON.stringify(shape)}`);
  }
  if (!shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 1)) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape ${fmtShape(shape)} must hold positive integers`);
  }
  if (shape[1] !== 3) {
    throw new ZooError('ZOO_BAD_INPUT_SHAPE', `${name}: inputShape ${fmtShape(shape)} has ${shape[1]} channels; the network takes 3 (RGB)`);
  }
  return shape as unknown as ZooInputShape;
}

function topology(name: ZooName, shape: ZooInputShape): NetGraph {
  const b = new NetBuilder(name, shape);
  return b.finish(NETS[name].build(b));
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
  const shape = checkShape(net, options?.inputShape ?? defaultZooInputShape);
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

/** Every zoo network with torchvision's parameter count and MACs at 1x3x224x224 (no weights built). */
export function listZoo(): ZooEntry[] {
  listing ??= zooNames.map((name) => {
    const g = topology(name, defaultZooInputShape);
    return { name, params: g.params, macs: g.macs, description: NETS[name].description };
  });
  return listing.map((e) => ({ ...e }));
}

/** A network's shapes and counts at an input shape, without building weights. */
export function zooModelInfo(name: string, options?: Pick<ZooBuildOptions, 'inputShape'>): ZooModelInfo {
  const g = checkedTopology(name, options);
  return {
    name: g.name as ZooName,
    inputShape: g.input.shape as unknown as ZooInputShape,
    outputShape: g.output.shape,
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
