// Small real ONNX models for the profiler's tests, built with onnx-buf.
import { create, toBinary } from '@bufbuild/protobuf';
import { AttributeProto_AttributeType as AT, ModelProtoSchema, TensorProto_DataType as DT, type ModelProto } from 'onnx-buf';

type Attr = number | number[] | { f: number };

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a * 1664525 + 1013904223) >>> 0;
    return a / 2 ** 32;
  };
}

/** A minimal graph builder: float tensors with static shapes. */
export class Builder {
  readonly #nodes: object[] = [];
  readonly #inits: object[] = [];
  readonly #inputs: object[] = [];
  readonly #outputs: object[] = [];
  readonly #rand = rng(42);

  input(name: string, dims: (number | string)[], elemType: number = DT.FLOAT): this {
    this.#inputs.push(valueInfo(name, dims, elemType));
    return this;
  }

  output(name: string, dims: (number | string)[], elemType: number = DT.FLOAT): this {
    this.#outputs.push(valueInfo(name, dims, elemType));
    return this;
  }

  ints(name: string, data: number[]): string {
    this.#inits.push({ name, dims: [BigInt(data.length)], dataType: DT.INT64, int64Data: data.map(BigInt) });
    return name;
  }

  /** An initializer of any element type from its little-endian bytes. */
  raw(name: string, dataType: number, dims: number[], data: ArrayBufferView): string {
    this.#inits.push({ name, dims: dims.map(BigInt), dataType, rawData: new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice() });
    return name;
  }

  weight(name: string, dims: number[], scale = 0.1, offset = 0): string {
    const n = dims.reduce((a, b) => a * b, 1);
    const data = Float32Array.from({ length: n }, () => offset + (this.#rand() * 2 - 1) * scale);
    this.#inits.push({ name, dims: dims.map(BigInt), dataType: DT.FLOAT, rawData: new Uint8Array(data.buffer) });
    return name;
  }

  node(op: string, name: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}, domain = ''): this {
    const attribute = Object.entries(attrs).map(([k, v]) =>
      typeof v === 'number'
        ? { name: k, type: AT.INT, i: BigInt(v) }
        : Array.isArray(v)
          ? { name: k, type: AT.INTS, ints: v.map(BigInt) }
          : { name: k, type: AT.FLOAT, f: v.f },
    );
    this.#nodes.push({ opType: op, name, input: inputs, output: outputs, attribute, domain });
    return this;
  }

  model(extraOpsets: { domain: string; version: number }[] = []): ModelProto {
    return create(ModelProtoSchema, {
      irVersion: 8n,
      producerName: 'dnnpart-profiler-test',
      opsetImport: [{ domain: '', version: 13n }, ...extraOpsets.map((o) => ({ domain: o.domain, version: BigInt(o.version) }))],
      graph: { name: 'tiny', node: this.#nodes, initializer: this.#inits, input: this.#inputs, output: this.#outputs },
    } as never);
  }

  bytes(extraOpsets: { domain: string; version: number }[] = []): Uint8Array {
    return toBinary(ModelProtoSchema, this.model(extraOpsets));
  }
}

function valueInfo(name: string, dims: (number | string)[], elemType: number): object {
  const dim = dims.map((d) => ({ value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d } }));
  return { name, type: { value: { case: 'tensorType', value: { elemType, shape: { dim } } } } };
}

/**
 * x[1,3,16,16] -> /conv1/Conv(8,3x3) -> /bn1/BatchNormalization -> /relu/Relu -> /conv2/Conv(8,3x3)
 * -> /Add(+relu) -> /relu2/Relu -> /pool/GlobalAveragePool -> /Flatten -> /fc/Gemm(10) -> y[1,10].
 * ORT fuses Conv+BN+Relu and Conv+Add+Relu, so it exercises the kernel attribution.
 */
export function tinyCnn(channels = 8, size = 16, batch: number | string = 1): Uint8Array {
  const b = new Builder().input('x', [batch, 3, size, size]).output('y', [batch, 10]);
  const c = channels;
  b.node('Conv', '/conv1/Conv', ['x', b.weight('w1', [c, 3, 3, 3]), b.weight('b1', [c])], ['c1'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.node('BatchNormalization', '/bn1/BatchNormalization', ['c1', b.weight('g', [c], 0.1, 1), b.weight('be', [c]), b.weight('m', [c]), b.weight('v', [c], 0.1, 1)], ['bn1']);
  b.node('Relu', '/relu/Relu', ['bn1'], ['r1']);
  b.node('Conv', '/conv2/Conv', ['r1', b.weight('w2', [c, c, 3, 3])], ['c2'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  b.node('Add', '/Add', ['c2', 'r1'], ['a']);
  b.node('Relu', '/relu2/Relu', ['a'], ['r2']);
  b.node('GlobalAveragePool', '/pool/GlobalAveragePool', ['r2'], ['p']);
  b.node('Flatten', '/Flatten', ['p'], ['f']);
  b.node('Gemm', '/fc/Gemm', ['f', b.weight('wf', [10, c]), b.weight('bf', [10])], ['y'], { transB: 1 });
  return b.bytes();
}

/** Max over int16 inputs: valid ONNX, but the cpu provider has no int16 Max kernel. */
export function noKernelModel(): Uint8Array {
  return new Builder()
    .input('a', [2, 2], DT.INT16)
    .input('b', [2, 2], DT.INT16)
    .output('y', [2, 2], DT.INT16)
    .node('Max', '/the/Max', ['a', 'b'], ['y'])
    .bytes();
}

/** An op from a domain onnxruntime does not know. */
export function unknownOpModel(): Uint8Array {
  return new Builder()
    .input('a', [2, 2])
    .output('y', [2, 2])
    .node('FooBar', '/custom/FooBar', ['a'], ['y'], {}, 'com.example')
    .bytes([{ domain: 'com.example', version: 1 }]);
}

/** Sqrt over int32: onnxruntime rejects the model at load (a type error). */
export function typeErrorModel(): Uint8Array {
  return new Builder()
    .input('a', [2, 2], DT.INT32)
    .output('y', [2, 2], DT.INT32)
    .node('Sqrt', '/the/Sqrt', ['a'], ['y'])
    .bytes();
}

/** Gather with an index past the end: loads, then fails when run. */
export function runtimeErrorModel(): Uint8Array {
  const b = new Builder().input('a', [2, 3]).output('y', [1, 3]);
  b.node('Gather', '/the/Gather', ['a', b.ints('idx', [5])], ['y'], { axis: 0 });
  return b.bytes();
}
