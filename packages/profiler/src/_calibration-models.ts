// Synthetic one-node models of known input and output sizes, for the boundary calibration.
import { create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataType as DT } from 'onnx-buf';

/** What crosses the boundary: a large input (Slice keeps 1 element), a large output (Expand from 1), or both (Add). */
export type CalibrationKind = 'in' | 'out' | 'both';

export interface CalibrationModel {
  readonly kind: CalibrationKind;
  readonly inBytes: number;
  readonly outBytes: number;
  /** float32 element counts of the input x and output y. */
  readonly inElements: number;
  readonly outElements: number;
  readonly bytes: Uint8Array;
}

const valueInfo = (name: string, n: number) => ({
  name,
  type: { value: { case: 'tensorType', value: { elemType: DT.FLOAT, shape: { dim: [{ value: { case: 'dimValue', value: BigInt(n) } }] } } } },
});
const int64 = (name: string, v: number) => ({ name, dims: [1n], dataType: DT.INT64, int64Data: [BigInt(v)] });

/** A model x[float32 × in] -> y[float32 × out] whose one kernel does as little as the sizes allow. */
export function calibrationModel(kind: CalibrationKind, bytes: number): CalibrationModel {
  const n = Math.max(1, Math.round(bytes / 4));
  const inElements = kind === 'out' ? 1 : n;
  const outElements = kind === 'in' ? 1 : n;
  const graph =
    kind === 'in'
      ? { node: [{ opType: 'Slice', name: 'slice', input: ['x', 'starts', 'ends'], output: ['y'] }], initializer: [int64('starts', 0), int64('ends', 1)] }
      : kind === 'out'
        ? { node: [{ opType: 'Expand', name: 'expand', input: ['x', 'shape'], output: ['y'] }], initializer: [int64('shape', n)] }
        : { node: [{ opType: 'Add', name: 'add', input: ['x', 'one'], output: ['y'] }], initializer: [{ name: 'one', dims: [1n], dataType: DT.FLOAT, floatData: [1] }] };
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'dnnpart-boundary-calibration',
    opsetImport: [{ domain: '', version: 13n }],
    graph: { name: `boundary-${kind}-${n * 4}`, ...graph, input: [valueInfo('x', inElements)], output: [valueInfo('y', outElements)] },
  } as never);
  return { kind, inBytes: inElements * 4, outBytes: outElements * 4, inElements, outElements, bytes: toBinary(ModelProtoSchema, model) };
}
