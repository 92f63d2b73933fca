// The one input dnnpart runs a model on wherever a run stands for "the model at work": the run that
// measures the shapes inference cannot tell (a detector's selected boxes), the profiler's timed
// runs, verify's stage timings and pipelines, the agents' frames. A tensor whose size, or a node
// whose time, follows the data (NonMaxSuppression, NonZero, a data-sized box head) then has one
// size and one time across the graph, the profile and the checks; with zeros for the shapes and
// other values for the timings, Faster R-CNN's box head was sized at 150 rows and timed at far fewer.
import type * as ort from 'onnxruntime-node';
import { GraphError } from './errors.js';
import { tensorOf } from './tensors.js';
import type { DType } from './types.js';

/** The seed of the sample input (`randomFeeds(graph)`'s default). */
export const SAMPLE_SEED = 1;

/** Deterministic PRNG (mulberry32) so a check is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An input to feed: its type and shape, and the values the user fixed (`--input sr=:16000`), if any. */
export interface InputToFeed {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly value?: readonly number[] | undefined;
  /** A token input (`token-inputs.ts`): its ids are drawn in [1, tokenRows). */
  readonly tokenRows?: number | undefined;
}

/**
 * Seeded values for an input of a type: floats uniform in [-1, 1); token ids (`tokenRows`) uniform
 * in [1, tokenRows); 8-bit integers (quantized images and activations) uniform over their range;
 * wider integers and bools zero, which is a valid index, length or mask whatever the input means.
 */
function randomTensor(name: string, dtype: DType, shape: readonly number[], rand: () => number, tokenRows?: number): ort.Tensor {
  const value = tokenRows !== undefined ? () => 1 + Math.floor(rand() * (tokenRows - 1))
    : dtype.startsWith('float') ? () => rand() * 2 - 1
    : dtype === 'uint8' ? () => Math.floor(rand() * 256)
    : dtype === 'int8' ? () => Math.floor(rand() * 256) - 128
    : undefined;
  const t = tensorOf(dtype, shape, value);
  if (!t) {
    // Strings onnxruntime-node can hold, but a string tensor has no size in bytes to price a transfer by.
    const why = dtype === 'string' ? 'dnnpart profiles and splits models of numeric inputs: move the text processing out of the model, before it' : 'onnxruntime-node has no tensors of it';
    throw new GraphError('GRAPH_SHAPE_INFERENCE', `input ${name}: cannot make a test input of type ${dtype} (${why})`);
  }
  return t;
}

/**
 * When a run on the sample input failed or left a size unknown: the inputs it fed zeros to (wider
 * integers and bools the user gave no value for: an index, a length, a step, a window size) and how
 * to give their values, as a clause for a message; '' when there are none.
 */
export function zeroInputsAdvice(inputs: readonly InputToFeed[]): string {
  const zeroed = inputs.filter((i) => i.value === undefined && i.tokenRows === undefined && !i.dtype.startsWith('float') && i.dtype !== 'uint8' && i.dtype !== 'int8');
  if (zeroed.length === 0) return '';
  const first = zeroed[0]!;
  const names = zeroed.slice(0, 4).map((i) => i.name).join(', ') + (zeroed.length > 4 ? ', ...' : '');
  return `the sample input holds zeros in the ${first.dtype === 'bool' ? 'bool' : 'integer'} input${zeroed.length > 1 ? 's' : ''} ${names}: if the model needs other values there, give them with --input, e.g. --input ${first.name}=${first.shape.join('x')}:1`;
}

/** A tensor holding the values the user fixed for an input. */
function valueTensor(name: string, dtype: DType, shape: readonly number[], v: readonly number[]): ort.Tensor {
  const t = tensorOf(dtype, shape, (i) => v[i] ?? 0);
  if (!t) throw new GraphError('GRAPH_SHAPE_INFERENCE', `input ${name}: cannot feed a fixed value of type ${dtype}`);
  return t;
}

/** Seeded tensors for `inputs`, drawn in their order from one generator; a fixed value is fed as it is. */
export function seededInputs(inputs: readonly InputToFeed[], seed: number): Record<string, ort.Tensor> {
  const rand = prng(seed);
  const feeds: Record<string, ort.Tensor> = {};
  for (const i of inputs) feeds[i.name] = i.value ? valueTensor(i.name, i.dtype, i.shape, i.value) : randomTensor(i.name, i.dtype, i.shape, rand, i.tokenRows);
  return feeds;
}
