// The boundary bench's one-kernel model (Expand: 4-byte input, output of the given size), the same
// as the profiler's calibration model, built here because that builder is internal to the package.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType as DT } from 'onnx-buf';

const vi = (name, n) => ({ name, type: { value: { case: 'tensorType', value: { elemType: DT.FLOAT, shape: { dim: [{ value: { case: 'dimValue', value: BigInt(n) } }] } } } } });

export function calibrationModelBytes(bytes) {
  const n = bytes / 4;
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [{ domain: '', version: 13n }],
    graph: { name: 'out', node: [{ opType: 'Expand', name: 'expand', input: ['x', 'shape'], output: ['y'] }], initializer: [{ name: 'shape', dims: [1n], dataType: DT.INT64, int64Data: [BigInt(n)] }], input: [vi('x', 1)], output: [vi('y', n)] },
  }));
}
