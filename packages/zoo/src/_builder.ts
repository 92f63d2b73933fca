// Builds one network's ONNX graph the way torch.onnx.export (TorchScript exporter, opset 17)
// writes torchvision's eval-mode model: node names `/<module scope>/<Op>` (a repeated name in
// one scope gets `_1`, `_2`, ...), tensors `<node>_output_0`, BatchNorm folded into the Conv
// before it, and shapes computed as PyTorch computes them. Weights are not allocated here:
// each initializer is a recipe (shape + seeded distribution), materialized by the encoder.

import { create } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema,
  AttributeProto_AttributeType,
  NodeProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
  type AttributeProto,
  type NodeProto,
} from 'onnx-buf';

/** Element types the zoo writes: float32 activations and weights, int64 token ids and shapes. */
export type ZooDType = 'float32' | 'int64' | 'bool';

/** A tensor a node produces: its ONNX name, static shape ([n, c, h, w], [n, features], [] for a scalar) and type (float32 unless said). */
export interface Tensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype?: ZooDType;
}

/** How to fill an initializer: seeded uniform values in mean ± bound (bound 0, mean 0: zeros). */
export interface InitFill {
  readonly bound: number;
  readonly mean: number;
}

/** An initializer recipe; its values are generated only when the model is encoded. */
export interface InitSpec {
  readonly name: string;
  readonly dims: readonly number[];
  readonly fill: InitFill;
  /** Fixed values instead of seeded ones (a parameter that is not learned, e.g. YOLO's DFL 0..15). */
  readonly values?: readonly number[];
}

/** The finished topology: what the encoder needs, plus torchvision's counts. */
export interface NetGraph {
  readonly name: string;
  readonly nodes: readonly NodeProto[];
  readonly initializers: readonly InitSpec[];
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  /** Intermediate tensors (every node output except the graph output), in creation order. */
  readonly valueInfo: readonly Tensor[];
  /** Trainable parameters in torchvision's convention (BatchNorm scale and shift included). */
  readonly params: number;
  /** Multiply-accumulates of Conv, Gemm and MatMul at this input shape. */
  readonly macs: number;
  /** The model's doc_string when it is not the torchvision CNN one. */
  readonly doc?: string;
}

/** A layer cannot produce a valid output at this input size; zoo.ts turns it into a ZooError. */
export class ShapeTooSmall extends Error {}

export interface ConvOptions {
  readonly out: number;
  readonly k: number;
  readonly stride?: number;
  readonly pad?: number;
  readonly groups?: number;
  /** The torch Conv2d has its own bias (`bias=True`). */
  readonly bias?: boolean;
  /** A BatchNorm2d follows; it is folded into this Conv (which then always has a bias). */
  readonly bn?: boolean;
  /** Weight scale relative to 1/sqrt(fan_in) (sqrt(2) suits ReLU). */
  readonly gain: number;
  /** Bias values are uniform in biasMean ± biasBound. */
  readonly biasBound?: number;
  readonly biasMean?: number;
}

export interface PoolOptions {
  readonly k: number;
  readonly stride: number;
  readonly pad?: number;
  readonly ceil?: boolean;
}

const INTS = AttributeProto_AttributeType.INTS;
const INT = AttributeProto_AttributeType.INT;
const FLOAT = AttributeProto_AttributeType.FLOAT;
const TENSOR = AttributeProto_AttributeType.TENSOR;

function intsAttr(name: string, values: readonly number[]): AttributeProto {
  return create(AttributeProtoSchema, { name, type: INTS, ints: values.map((v) => BigInt(v)) });
}
function intAttr(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: INT, i: BigInt(value) });
}
function floatAttr(name: string, value: number): AttributeProto {
  return create(AttributeProtoSchema, { name, type: FLOAT, f: value });
}

/** PyTorch's module path from an exporter scope: `/layer1/layer1.0/conv1` -> `layer1.0.conv1`. */
export function qualifiedName(scope: string): string {
  // A Sequential's child shows as `<parent>.<index>`, any other child by its attribute name.
  let path = '';
  let prev = '';
  for (const seg of scope.split('/').filter((s) => s !== '')) {
    if (prev !== '' && seg.startsWith(`${prev}.`)) path += seg.slice(prev.length);
    else path += (path === '' ? '' : '.') + seg;
    prev = seg;
  }
  return path;
}

function spatialOut(size: number, k: number, stride: number, pad: number, ceil: boolean): number {
  const span = size + 2 * pad - k;
  if (span < 0) return 0;
  if (!ceil) return Math.floor(span / stride) + 1;
  let out = Math.ceil(span / stride) + 1;
  // PyTorch drops a last window that would start inside the right padding only.
  if ((out - 1) * stride >= size + pad) out -= 1;
  return out;
}

/** Shape of an element-wise op under numpy broadcasting (shapes aligned on the right, 1 broadcasts). */
function broadcast(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`internal: cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** ONNX element types of the zoo's tensors. */
export const ONNX_DTYPE: Readonly<Record<ZooDType, TensorProto_DataType>> = {
  float32: TensorProto_DataType.FLOAT,
  int64: TensorProto_DataType.INT64,
  bool: TensorProto_DataType.BOOL,
};

/** A tensor-valued attribute (a Constant's or ConstantOfShape's `value`), raw little-endian data. */
function tensorAttr(name: string, dtype: ZooDType, values: readonly (number | bigint)[], dims: readonly number[]): AttributeProto {
  const raw =
    dtype === 'int64' ? new BigInt64Array(values.map((v) => BigInt(v)))
    : dtype === 'bool' ? Uint8Array.from(values.map((v) => (v ? 1 : 0)))
    : new Float32Array(values.map((v) => Number(v)));
  const rawData = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength);
  const t = create(TensorProtoSchema, { dims: dims.map((d) => BigInt(d)), dataType: ONNX_DTYPE[dtype], rawData });
  return create(AttributeProtoSchema, { name, type: TENSOR, t });
}

/** Attribute builders for `NetBuilder.op`. */
export const attr = {
  int: (name: string, v: number): AttributeProto => intAttr(name, v),
  ints: (name: string, v: readonly number[]): AttributeProto => intsAttr(name, v),
  tensor: tensorAttr,
};

/** Accumulates nodes, initializer recipes, shapes and torchvision's counts for one network. */
export class NetBuilder {
  /** The graph inputs: one float `input` for the image networks, token ids and masks for the text encoders. */
  readonly inputs: readonly Tensor[];
  private readonly nodes: NodeProto[] = [];
  private readonly inits: InitSpec[] = [];
  private readonly values: Tensor[] = [];
  private readonly usedNames = new Map<string, number>();
  private foldedCount = 0;
  // The exporter numbers anonymous folded constants per consuming op (onnx::MatMul_<n>, onnx::Reshape_<n>).
  private readonly anonCount = new Map<string, number>();
  private params = 0;
  private macs = 0;

  constructor(
    private readonly netName: string,
    inputs: readonly number[] | readonly Tensor[],
  ) {
    this.inputs = typeof inputs[0] === 'number' || inputs.length === 0
      ? [{ name: 'input', shape: [...(inputs as readonly number[])] }]
      : (inputs as readonly Tensor[]).map((t) => ({ ...t, shape: [...t.shape] }));
  }

  /** The first (for the image networks: the only) graph input. */
  get input(): Tensor {
    return this.inputs[0]!;
  }

  /** An anonymous name for a folded constant feeding `op`, as the exporter writes it. */
  private anonName(op: string): string {
    const n = this.anonCount.get(op) ?? 0;
    this.anonCount.set(op, n + 1);
    return `onnx::${op}_${n}`;
  }

  private nodeName(scope: string, op: string): string {
    const base = `${scope}/${op}`;
    const seen = this.usedNames.get(base) ?? 0;
    this.usedNames.set(base, seen + 1);
    return seen === 0 ? base : `${base}_${seen}`;
  }

  private emit(
    scope: string,
    op: string,
    inputs: readonly string[],
    shape: readonly number[],
    attribute: AttributeProto[] = [],
    dtype: ZooDType = 'float32',
  ): Tensor {
    if (shape.some((d) => !(d >= (dtype === 'float32' ? 1 : 0)))) {
      throw new ShapeTooSmall(`${scope}/${op} would output shape [${shape.join(', ')}]`);
    }
    const name = this.nodeName(scope, op);
    const out: Tensor = dtype === 'float32' ? { name: `${name}_output_0`, shape } : { name: `${name}_output_0`, shape, dtype };
    this.nodes.push(create(NodeProtoSchema, { name, opType: op, input: [...inputs], output: [out.name], attribute }));
    this.values.push(out);
    return out;
  }

  private addInit(name: string, dims: readonly number[], fill: InitFill): string {
    this.inits.push({ name, dims, fill });
    return name;
  }

  /** Conv2d (+ folded BatchNorm2d). */
  conv(scope: string, x: Tensor, o: ConvOptions): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const stride = o.stride ?? 1;
    const pad = o.pad ?? 0;
    const groups = o.groups ?? 1;
    const cin = c / groups;
    const ho = spatialOut(h, o.k, stride, pad, false);
    const wo = spatialOut(w, o.k, stride, pad, false);
    const wDims = [o.out, cin, o.k, o.k];
    const fanIn = cin * o.k * o.k;
    const hasBias = (o.bias ?? false) || (o.bn ?? false);
    // Folded parameters get the exporter's anonymous names; unfolded ones keep torch's names.
    const q = qualifiedName(scope);
    let wName: string;
    let bName = '';
    if (o.bn) {
      wName = `onnx::Conv_${this.foldedCount++}`;
      bName = `onnx::Conv_${this.foldedCount++}`;
    } else {
      wName = `${q}.weight`;
      if (hasBias) bName = `${q}.bias`;
    }
    const out = this.emit(
      scope,
      'Conv',
      hasBias ? [x.name, wName, bName] : [x.name, wName],
      [n, o.out, ho, wo],
      [
        intsAttr('dilations', [1, 1]),
        intAttr('group', groups),
        intsAttr('kernel_shape', [o.k, o.k]),
        intsAttr('pads', [pad, pad, pad, pad]),
        intsAttr('strides', [stride, stride]),
      ],
    );
    this.addInit(wName, wDims, { bound: o.gain * Math.sqrt(3 / fanIn), mean: 0 });
    if (hasBias) this.addInit(bName, [o.out], { bound: o.biasBound ?? 0.05, mean: o.biasMean ?? 0 });
    this.params += o.out * fanIn + (o.bias ? o.out : 0) + (o.bn ? 2 * o.out : 0);
    this.macs += n * o.out * ho * wo * fanIn;
    return out;
  }

  /**
   * Linear on a 2-D input as Gemm (transB = 1), weight [out, in]. `param` is the torch parameter
   * prefix when it is not the scope's module (a functional call such as MultiheadAttention's out_proj).
   */
  gemm(scope: string, x: Tensor, out: number, gain: number, param = qualifiedName(scope)): Tensor {
    const [n, f] = x.shape as [number, number];
    const y = this.emit(scope, 'Gemm', [x.name, `${param}.weight`, `${param}.bias`], [n, out], [
      floatAttr('alpha', 1),
      floatAttr('beta', 1),
      intAttr('transB', 1),
    ]);
    this.addInit(`${param}.weight`, [out, f], { bound: gain * Math.sqrt(3 / f), mean: 0 });
    this.addInit(`${param}.bias`, [out], { bound: 0.05, mean: 0 });
    this.params += out * f + out;
    this.macs += n * out * f;
    return y;
  }

  /** A parameter with fixed values (counted in `params`, as torch counts it), e.g. YOLO's DFL conv weight. */
  fixedParameter(name: string, dims: readonly number[], values: readonly number[]): Tensor {
    if (values.length !== numel(dims)) throw new Error(`internal: ${name} has ${values.length} values for [${dims.join(', ')}]`);
    this.inits.push({ name, dims, fill: { bound: 0, mean: 0 }, values });
    this.params += values.length;
    return { name, shape: [...dims] };
  }

  /** Multiply-accumulates of a node written with `op` (the detectors' fixed DFL Conv). */
  countMacs(macs: number): void {
    this.macs += macs;
  }

  /** Split on one axis into `parts` (sizes from the `sizes` tensor), outputs `<node>_output_<i>`. */
  split(scope: string, x: Tensor, sizes: Tensor, parts: readonly number[], axis: number): Tensor[] {
    if (parts.reduce((a, b) => a + b, 0) !== x.shape[axis]) throw new Error(`internal: ${scope}/Split of [${x.shape.join(', ')}] into [${parts.join(', ')}]`);
    const name = this.nodeName(scope, 'Split');
    const outs: Tensor[] = parts.map((p, i) => ({ name: `${name}_output_${i}`, shape: x.shape.map((d, a) => (a === axis ? p : d)) }));
    this.nodes.push(create(NodeProtoSchema, { name, opType: 'Split', input: [x.name, sizes.name], output: outs.map((t) => t.name), attribute: [intAttr('axis', axis)] }));
    this.values.push(...outs);
    return outs;
  }

  /** A trainable tensor used as a node input directly (class token, position embedding). */
  parameter(name: string, dims: readonly number[], fill: InitFill): Tensor {
    this.addInit(name, dims, fill);
    this.params += numel(dims);
    return { name, shape: [...dims] };
  }

  /**
   * Linear on a rank >= 3 input as the exporter writes it: MatMul with the weight transposed and
   * folded into `onnx::MatMul_<n>` ([in, out]), then Add(bias, product). `bias` names the torch
   * bias (default `<module>.bias`).
   */
  linear(scope: string, x: Tensor, out: number, gain: number, bias = `${qualifiedName(scope)}.bias`): Tensor {
    const f = x.shape[x.shape.length - 1]!;
    const wName = this.anonName('MatMul');
    this.addInit(wName, [f, out], { bound: gain * Math.sqrt(3 / f), mean: 0 });
    this.addInit(bias, [out], { bound: 0.05, mean: 0 });
    this.params += f * out + out;
    const y = this.matmul(scope, x, { name: wName, shape: [f, out] });
    return this.emit(scope, 'Add', [bias, y.name], y.shape);
  }

  /** MatMul of two tensors (numpy semantics, batch dimensions broadcast); MACs = output elements x inner size. */
  matmul(scope: string, a: Tensor, b: Tensor): Tensor {
    const k = a.shape[a.shape.length - 1]!;
    if (b.shape[b.shape.length - 2] !== k) {
      throw new Error(`internal: ${scope}/MatMul of [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`);
    }
    const batch = broadcast(a.shape.slice(0, -2), b.shape.slice(0, -2));
    const shape = [...batch, a.shape[a.shape.length - 2]!, b.shape[b.shape.length - 1]!];
    this.macs += numel(shape) * k;
    return this.emit(scope, 'MatMul', [a.name, b.name], shape);
  }

  /**
   * Any node, for the exporter's shape arithmetic and data movement: output shape and type given
   * by the caller (int64 and bool shape tensors may be empty, [0]).
   */
  op(scope: string, op: string, inputs: readonly Tensor[], shape: readonly number[], attribute: AttributeProto[] = [], dtype: ZooDType = 'float32'): Tensor {
    return this.emit(scope, op, inputs.map((t) => t.name), shape, attribute, dtype);
  }

  /** A Constant node holding a tensor (int64 shapes and indices, float literals, bool), as the exporter writes literals. */
  constantTensor(scope: string, dtype: ZooDType, values: readonly (number | bigint)[], dims: readonly number[]): Tensor {
    return this.emit(scope, 'Constant', [], dims, [tensorAttr('value', dtype, values, dims)], dtype);
  }

  /** Reshape by a shape tensor; `allowzero` is written only where the exporter writes it. */
  reshapeBy(scope: string, x: Tensor, shape: Tensor, out: readonly number[], allowzero = true): Tensor {
    if (numel(out) !== numel(x.shape)) {
      throw new Error(`internal: ${scope}/Reshape [${x.shape.join(', ')}] -> [${out.join(', ')}]`);
    }
    return this.emit(scope, 'Reshape', [x.name, shape.name], out, allowzero ? [intAttr('allowzero', 0)] : [], x.dtype);
  }

  transpose(scope: string, x: Tensor, perm: readonly number[]): Tensor {
    return this.emit(scope, 'Transpose', [x.name], perm.map((p) => x.shape[p]!), [intsAttr('perm', perm)], x.dtype);
  }

  /** Gather on one axis (`axis` undefined: no attribute, as nn.Embedding exports). */
  gather(scope: string, data: Tensor, indices: Tensor, axis?: number): Tensor {
    const a = axis ?? 0;
    const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
    return this.emit(scope, 'Gather', [data.name, indices.name], shape, axis === undefined ? [] : [intAttr('axis', axis)], data.dtype);
  }

  /** nn.Embedding: Gather(weight [num, dim], ids) in the module's scope. */
  embedding(scope: string, ids: Tensor, num: number, dim: number, fill: InitFill): Tensor {
    const w = `${qualifiedName(scope)}.weight`;
    this.addInit(w, [num, dim], fill);
    this.params += num * dim;
    return this.gather(scope, { name: w, shape: [num, dim] }, ids);
  }

  softmax(scope: string, x: Tensor, axis = -1): Tensor {
    return this.emit(scope, 'Softmax', [x.name], x.shape, [intAttr('axis', axis)]);
  }

  /** nn.LayerNorm over the last axis as opset 17's LayerNormalization (weight near 1, bias near 0). */
  layerNorm(scope: string, x: Tensor, epsilon: number): Tensor {
    const q = qualifiedName(scope);
    const d = x.shape[x.shape.length - 1]!;
    this.addInit(`${q}.weight`, [d], { bound: 0.1, mean: 1 });
    this.addInit(`${q}.bias`, [d], { bound: 0.05, mean: 0 });
    this.params += 2 * d;
    return this.emit(scope, 'LayerNormalization', [x.name, `${q}.weight`, `${q}.bias`], x.shape, [
      intAttr('axis', -1),
      floatAttr('epsilon', epsilon),
    ]);
  }

  /**
   * Exact GELU as torch.onnx writes it below opset 20 (no Gelu op yet): x * (erf(x / sqrt 2) + 1) * 0.5,
   * each literal a Constant right before its use.
   */
  gelu(scope: string, x: Tensor): Tensor {
    const e = this.emit(scope, 'Erf', [this.div(scope, x, this.constant(scope, Math.SQRT2)).name], x.shape);
    const plus = this.add(scope, e, this.constant(scope, 1));
    return this.mul(scope, this.mul(scope, x, plus), this.constant(scope, 0.5));
  }

  div(scope: string, a: Tensor, b: Tensor): Tensor {
    return this.emit(scope, 'Div', [a.name, b.name], broadcast(a.shape, b.shape), [], a.dtype);
  }

  cast(scope: string, x: Tensor, to: ZooDType): Tensor {
    return this.emit(scope, 'Cast', [x.name], x.shape, [intAttr('to', ONNX_DTYPE[to])], to);
  }

  /** torch.cat(xs, axis) of equal-rank tensors. */
  concatAxis(scope: string, xs: readonly Tensor[], axis: number): Tensor {
    const first = xs[0]!;
    const shape = first.shape.map((d, i) => (i === axis ? xs.reduce((s, t) => s + t.shape[i]!, 0) : d));
    return this.emit(scope, 'Concat', xs.map((t) => t.name), shape, [intAttr('axis', axis)]);
  }

  relu(scope: string, x: Tensor): Tensor {
    return this.emit(scope, 'Relu', [x.name], x.shape);
  }

  sigmoid(scope: string, x: Tensor): Tensor {
    return this.emit(scope, 'Sigmoid', [x.name], x.shape);
  }

  /** SiLU as the exporter writes it: Sigmoid then Mul, both in the module's scope. */
  silu(scope: string, x: Tensor): Tensor {
    const s = this.sigmoid(scope, x);
    return this.mul(scope, x, s);
  }

  /** A float32 scalar as a Constant node, as the exporter writes literal operands. */
  constant(scope: string, value: number): Tensor {
    return this.constantTensor(scope, 'float32', [value], []);
  }

  /** ReLU6 as the exporter writes it (torch >= 2.1): Constant 0, Constant 6, Clip, one scope. */
  relu6(scope: string, x: Tensor): Tensor {
    const min = this.constant(scope, 0);
    const max = this.constant(scope, 6);
    return this.emit(scope, 'Clip', [x.name, min.name, max.name], x.shape);
  }

  /** Element-wise product; `b` may broadcast ([n, c, 1, 1] against [n, c, h, w]). */
  mul(scope: string, a: Tensor, b: Tensor): Tensor {
    return this.emit(scope, 'Mul', [a.name, b.name], broadcast(a.shape, b.shape), [], a.dtype);
  }

  add(scope: string, a: Tensor, b: Tensor): Tensor {
    return this.emit(scope, 'Add', [a.name, b.name], broadcast(a.shape, b.shape), [], a.dtype);
  }

  maxPool(scope: string, x: Tensor, o: PoolOptions): Tensor {
    const [n, c, h, w] = x.shape as [number, number, number, number];
    const pad = o.pad ?? 0;
    const ceil = o.ceil ?? false;
    return this.emit(
      scope,
      'MaxPool',
      [x.name],
      [n, c, spatialOut(h, o.k, o.stride, pad, ceil), spatialOut(w, o.k, o.stride, pad, ceil)],
      [
        intAttr('ceil_mode', ceil ? 1 : 0),
        intsAttr('kernel_shape', [o.k, o.k]),
        intsAttr('pads', [pad, pad, pad, pad]),
        intsAttr('strides', [o.stride, o.stride]),
      ],
    );
  }

  globalAvgPool(scope: string, x: Tensor): Tensor {
    const [n, c] = x.shape as [number, number];
    return this.emit(scope, 'GlobalAveragePool', [x.name], [n, c, 1, 1]);
  }

  /**
   * AdaptiveAvgPool2d((s, s)) as the exporter lowers it: GlobalAveragePool for 1x1, else an
   * AveragePool with kernel = stride = input / output, which needs the input to be a multiple.
   */
  adaptiveAvgPool(scope: string, x: Tensor, size: number): Tensor {
    if (size === 1) return this.globalAvgPool(scope, x);
    const [n, c, h, w] = x.shape as [number, number, number, number];
    if (h % size !== 0 || w % size !== 0 || h < size || w < size) {
      throw new ShapeTooSmall(
        `${scope} (AdaptiveAvgPool2d(${size})) gets a ${h}x${w} map; ONNX export needs a multiple of ${size}`,
      );
    }
    const kh = h / size;
    const kw = w / size;
    return this.emit(scope, 'AveragePool', [x.name], [n, c, size, size], [
      intAttr('ceil_mode', 0),
      intAttr('count_include_pad', 1),
      intsAttr('kernel_shape', [kh, kw]),
      intsAttr('pads', [0, 0, 0, 0]),
      intsAttr('strides', [kh, kw]),
    ]);
  }

  /** torch.flatten(x, 1). */
  flatten(scope: string, x: Tensor): Tensor {
    const [n, ...rest] = x.shape as [number, ...number[]];
    return this.emit(scope, 'Flatten', [x.name], [n, rest.reduce((a, b) => a * b, 1)], [intAttr('axis', 1)]);
  }

  /** torch.cat(xs, 1). */
  concat(scope: string, xs: readonly Tensor[]): Tensor {
    const first = xs[0]!;
    const channels = xs.reduce((s, t) => s + t.shape[1]!, 0);
    const shape = [first.shape[0]!, channels, ...first.shape.slice(2)];
    return this.emit(scope, 'Concat', xs.map((t) => t.name), shape, [intAttr('axis', 1)]);
  }

  /** Closes the graph: the last node's output becomes the graph output (`output` unless named). */
  finish(out: Tensor, outputName = 'output', doc?: string): NetGraph {
    const last = this.nodes[this.nodes.length - 1];
    if (last === undefined || last.output[0] !== out.name) {
      throw new Error(`internal: ${this.netName} must end with the node producing ${out.name}`);
    }
    last.output[0] = outputName;
    return {
      name: this.netName,
      nodes: this.nodes,
      initializers: this.inits,
      inputs: this.inputs,
      output: { name: outputName, shape: out.shape },
      valueInfo: this.values.filter((t) => t.name !== out.name),
      params: this.params,
      macs: this.macs,
      ...(doc !== undefined ? { doc } : {}),
    };
  }
}
