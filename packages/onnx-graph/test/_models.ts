// Small real ONNX models for the tests, built with onnx-buf. Weights are seeded and small so
// activations stay finite.
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT, AttributeProtoSchema, ModelProtoSchema, NodeProtoSchema,
  TensorProtoSchema, ValueInfoProtoSchema, type AttributeProto, type ModelProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';
import { prng as rng } from '../src/sample-input.js';

export type Dim = number | string;
export type Attr = number | number[] | string | { f: number } | { floats: number[] } | { t: TensorProto };

export { rng };

export function vi(name: string, dims?: Dim[] | null, elemType = 1): ValueInfoProto {
  return create(ValueInfoProtoSchema, {
    name,
    type: {
      value: {
        case: 'tensorType',
        value: {
          elemType,
          shape: dims === null || dims === undefined ? undefined : {
            dim: dims.map((d) => ({ value: typeof d === 'number' ? { case: 'dimValue' as const, value: BigInt(d) } : { case: 'dimParam' as const, value: d } })),
          },
        },
      },
    },
  });
}

export function floatTensor(name: string, dims: number[], data: Float32Array): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: 1, rawData: new Uint8Array(data.slice().buffer as ArrayBuffer) });
}

export function int64Tensor(name: string, dims: number[], data: number[]): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: 7, int64Data: data.map(BigInt) });
}

function attr(name: string, v: Attr): AttributeProto {
  if (typeof v === 'number') return create(AttributeProtoSchema, { name, type: AT.INT, i: BigInt(v) });
  if (typeof v === 'string') return create(AttributeProtoSchema, { name, type: AT.STRING, s: new TextEncoder().encode(v) });
  if (Array.isArray(v)) return create(AttributeProtoSchema, { name, type: AT.INTS, ints: v.map(BigInt) });
  if ('f' in v) return create(AttributeProtoSchema, { name, type: AT.FLOAT, f: v.f });
  if ('floats' in v) return create(AttributeProtoSchema, { name, type: AT.FLOATS, floats: v.floats });
  return create(AttributeProtoSchema, { name, type: AT.TENSOR, t: v.t });
}

/** A fluent builder for small ONNX graphs. */
export class ModelBuilder {
  readonly inputs: ValueInfoProto[] = [];
  readonly outputs: ValueInfoProto[] = [];
  readonly valueInfo: ValueInfoProto[] = [];
  readonly inits: TensorProto[] = [];
  readonly nodes: ReturnType<typeof create<typeof NodeProtoSchema>>[] = [];
  private readonly rand: () => number;

  constructor(seed = 7) {
    this.rand = rng(seed);
  }

  input(name: string, dims: Dim[] | null, elemType = 1): this {
    this.inputs.push(vi(name, dims, elemType));
    return this;
  }

  output(name: string, dims?: Dim[] | null): this {
    // Without dims the output is untyped: onnxruntime infers it, and int outputs stay valid.
    this.outputs.push(dims === undefined ? create(ValueInfoProtoSchema, { name }) : vi(name, dims));
    return this;
  }

  /** A float initializer with seeded values in [-scale, scale]. */
  weight(name: string, dims: number[], scale?: number): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const fanIn = dims.length > 1 ? n / dims[0]! : 1;
    const s = scale ?? 1 / Math.sqrt(fanIn);
    this.inits.push(floatTensor(name, dims, Float32Array.from({ length: n }, () => (this.rand() * 2 - 1) * s)));
    return name;
  }

  /** A uint8 initializer (quantized weights) with seeded values. */
  uint8(name: string, dims: number[]): string {
    const n = dims.reduce((a, b) => a * b, 1);
    this.inits.push(create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: 2, rawData: Uint8Array.from({ length: n }, () => Math.floor(this.rand() * 256)) }));
    return name;
  }

  ints(name: string, data: number[], dims = [data.length]): string {
    this.inits.push(int64Tensor(name, dims, data));
    return name;
  }

  node(op: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, name?: string): this {
    this.nodes.push(create(NodeProtoSchema, {
      opType: op, input: inputs, output: outputs, name: name ?? '', attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
    }));
    return this;
  }

  /** Conv with seeded weights and bias; node and output named `name`. */
  conv(name: string, x: string, cin: number, cout: number, k: number, attrs: Record<string, Attr> = {}): this {
    const group = typeof attrs['group'] === 'number' ? attrs['group'] : 1;
    const w = this.weight(`${name}.weight`, [cout, cin / group, k, k]);
    const b = this.weight(`${name}.bias`, [cout], 0.1);
    return this.node('Conv', [x, w, b], [name], { kernel_shape: [k, k], pads: [(k - 1) / 2, (k - 1) / 2, (k - 1) / 2, (k - 1) / 2], ...attrs }, name);
  }

  model(opset = 13, irVersion = 8): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: BigInt(irVersion),
      producerName: 'dnnpart-test',
      opsetImport: [{ domain: '', version: BigInt(opset) }],
      graph: { name: 'test', node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs, valueInfo: this.valueInfo },
    });
  }

  bytes(opset = 13, irVersion = 8): Uint8Array {
    return toBinary(ModelProtoSchema, this.model(opset, irVersion));
  }
}

/** x[1,3,8,8] -> conv -> relu -> maxpool -> flatten -> gemm -> y[1,10]; `size` is the spatial size the Gemm expects. */
export function chain(batch: Dim = 1, spatial: Dim = 8, size = 8): ModelBuilder {
  const b = new ModelBuilder(1).input('x', [batch, 3, spatial, spatial]);
  b.conv('conv', 'x', 3, 4, 3).node('Relu', ['conv'], ['relu'], {}, 'relu')
    .node('MaxPool', ['relu'], ['pool'], { kernel_shape: [2, 2], strides: [2, 2] }, 'pool')
    .node('Flatten', ['pool'], ['flat'], { axis: 1 }, 'flat');
  const w = b.weight('fc.weight', [10, 4 * (size / 2) ** 2]);
  const bias = b.weight('fc.bias', [10], 0.1);
  return b.node('Gemm', ['flat', w, bias], ['y'], { transB: 1 }, 'fc').output('y');
}

/** A residual block on x[1,4,8,8]: y = relu(conv3(relu(conv2(r1))) + r1), r1 = relu(conv1(x)). */
export function residual(): ModelBuilder {
  const b = new ModelBuilder(2).input('x', [1, 4, 8, 8]);
  return b.conv('c1', 'x', 4, 4, 3).node('Relu', ['c1'], ['r1'], {}, 'r1')
    .conv('c2', 'r1', 4, 4, 3).node('Relu', ['c2'], ['r2'], {}, 'r2')
    .conv('c3', 'r2', 4, 4, 3).node('Add', ['c3', 'r1'], ['add'], {}, 'add')
    .node('Relu', ['add'], ['y'], {}, 'out').output('y');
}

/** A squeeze-and-excitation block on x[1,8,4,4]. */
export function squeezeExcite(): ModelBuilder {
  const b = new ModelBuilder(3).input('x', [1, 8, 4, 4]);
  return b.conv('c', 'x', 8, 8, 1).node('Relu', ['c'], ['r'], {}, 'r')
    .node('GlobalAveragePool', ['r'], ['gap'], {}, 'gap')
    .conv('fc1', 'gap', 8, 2, 1).node('Relu', ['fc1'], ['fr'], {}, 'fr')
    .conv('fc2', 'fr', 2, 8, 1).node('Sigmoid', ['fc2'], ['sig'], {}, 'sig')
    .node('Mul', ['r', 'sig'], ['y'], {}, 'mul').output('y');
}

/** Inception-style branches on x[1,4,8,8], concatenated along channels (2 + 3 + 2 = 7). */
export function inception(): ModelBuilder {
  const b = new ModelBuilder(4).input('x', [1, 4, 8, 8]);
  return b.conv('b1', 'x', 4, 2, 1)
    .conv('b2a', 'x', 4, 2, 1).conv('b2b', 'b2a', 2, 3, 3)
    .node('MaxPool', ['x'], ['pool'], { kernel_shape: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1] }, 'pool')
    .conv('b3', 'pool', 4, 2, 1)
    .node('Concat', ['b1', 'b2b', 'b3'], ['cat'], { axis: 1 }, 'cat')
    .node('Relu', ['cat'], ['y'], {}, 'out').output('y');
}
