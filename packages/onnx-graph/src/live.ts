// Activation memory over a run: which tensors are alive while each node runs, when the nodes run in
// the graph's order. A runtime reuses an activation's buffer once its last reader is done, so the
// memory a run needs beyond its weights follows the largest of these sums, not the sum of all outputs.

import type { Graph } from './types.js';

/**
 * Per node: the bytes of activations alive while it runs, in graph order. A tensor is alive from its
 * producer (a graph input: from the first node) to its last reader; a graph output to the end of the
 * run; a tensor nobody reads, while its producer runs. Weights (initializers) are not activations.
 */
export function liveBytes(graph: Graph): Map<string, number> {
  const n = graph.nodes.length;
  const index = new Map(graph.nodes.map((x, i) => [x.name, i] as const));
  const diff = new Float64Array(n + 1);
  for (const t of graph.tensors.values()) {
    if (t.isInitializer || !(t.bytes > 0)) continue;
    const from = t.producer === null ? 0 : index.get(t.producer);
    if (from === undefined) continue;
    let to = t.isGraphOutput ? n - 1 : -1;
    for (const c of t.consumers) to = Math.max(to, index.get(c) ?? -1);
    // A graph input nobody reads takes no memory in a run; an unread output lives while it is made.
    if (to < 0 && t.producer === null) continue;
    if (to < from) to = from;
    diff[from]! += t.bytes;
    diff[to + 1]! -= t.bytes;
  }
  const out = new Map<string, number>();
  let run = 0;
  graph.nodes.forEach((x, i) => {
    run += diff[i]!;
    out.set(x.name, Math.max(0, Math.round(run)));
  });
  return out;
}
