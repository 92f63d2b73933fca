// The one place that runs onnxruntime-node during loading: a single run of the model with every
// tensor whose shape inference could not tell added as an extra graph output.
import { clone, create, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, ValueInfoProtoSchema, type ModelProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { GraphError, runtimeMessage, unknownRuntimeOp } from './errors.js';
import { numel } from './_proto.js';
import type { Feed } from './_build.js';
import { SAMPLE_SEED, seededInputs, zeroInputsAdvice, type InputToFeed } from './sample-input.js';
import type { DType } from './types.js';

/** Largest input (elements) the shape-measuring run will allocate: 1 GiB of float32. */
const MAX_FEED_ELEMENTS = 2 ** 28;

const ORT_TYPES: Partial<Record<string, DType>> = {
  float32: 'float32', float16: 'float16', float64: 'float64', int8: 'int8', uint8: 'uint8', int16: 'int16',
  uint16: 'uint16', int32: 'int32', uint32: 'uint32', int64: 'int64', uint64: 'uint64', bool: 'bool', string: 'string',
};

/** The graph inputs an analysis feeds, as the sample input takes them. */
export function inputsToFeed(feeds: ReadonlyMap<string, Feed>): InputToFeed[] {
  return [...feeds].map(([name, v]) => ({ name, dtype: v.dtype, shape: v.shape, value: v.value, tokenRows: v.tokenRows }));
}

/**
 * Runs the model once on the sample input (`sample-input.ts`: what the profiler times and verify
 * checks, so a tensor whose size the data decides is sized on the input its nodes are timed on) and
 * returns dtype and shape of each requested tensor.
 */
export async function measureShapes(
  proto: ModelProto,
  feeds: ReadonlyMap<string, Feed>,
  names: readonly string[],
  label: string,
): Promise<Map<string, { dtype: DType; shape: number[] }>> {
  for (const [name, v] of feeds) {
    // The run feeds tensors of these shapes: refuse before allocating gigabytes.
    if (numel(v.shape) > MAX_FEED_ELEMENTS) {
      throw new GraphError('GRAPH_SHAPE_INFERENCE', `${label}: shapes of ${names[0]} need an onnxruntime run, but input ${name} [${v.shape.join(',')}] is too large to feed`);
    }
  }
  const fed = inputsToFeed(feeds);
  const m = clone(ModelProtoSchema, proto);
  const g = m.graph!;
  const outputs = new Set(g.output.map((o) => o.name));
  for (const n of names) if (!outputs.has(n)) g.output.push(create(ValueInfoProtoSchema, { name: n }));
  let session: ort.InferenceSession | undefined;
  try {
    // Warnings (unused initializers, shape hints) would reach the user's stderr; failures still throw.
    session = await ort.InferenceSession.create(toBinary(ModelProtoSchema, m), { graphOptimizationLevel: 'disabled', logSeverityLevel: 4, enableMemPattern: false });
    const input = seededInputs(fed, SAMPLE_SEED);
    const result = await session.run(input, names as string[]);
    const out = new Map<string, { dtype: DType; shape: number[] }>();
    for (const n of names) {
      const t = result[n];
      const dtype = t ? ORT_TYPES[t.type] : undefined;
      if (!t || !dtype) throw new GraphError('GRAPH_SHAPE_INFERENCE', `${label}: onnxruntime gave no tensor shape for ${n}`);
      out.set(n, { dtype, shape: t.dims.slice() });
    }
    return out;
  } catch (e) {
    if (e instanceof GraphError) throw e;
    // An op onnxruntime has no kernel or schema for: name the node, as nothing else can run it either.
    const unknown = unknownRuntimeOp(e);
    const node = unknown && g.node.find((n) => n.opType === unknown.op && n.domain === unknown.domain);
    if (unknown && node) {
      throw new GraphError('GRAPH_SHAPE_INFERENCE', `${label}: node ${node.name} has op ${unknown.op} of domain "${unknown.domain}", which onnxruntime does not know; dnnpart runs every model and stage in onnxruntime, so export the model with standard ops`, { cause: e });
    }
    const advice = zeroInputsAdvice(fed);
    throw new GraphError('GRAPH_SHAPE_INFERENCE', `${label}: shapes of ${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''} need an onnxruntime run, which failed: ${runtimeMessage(e)}${advice ? `; ${advice}` : ''}`, { cause: e });
  } finally {
    await session?.release();
  }
}
