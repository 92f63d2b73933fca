// Cut points of a topological order: which tensors cross each position, in one sweep.
import { edgeBytes } from './split.js';
import type { CutPoint, Graph } from './types.js';

/**
 * Every position of `graph.nodes` (cut after node i, the last node included) with the tensors
 * produced at or before it and consumed by a node after it. Graph inputs count as produced before
 * the first node; initializers never cross (each stage carries its own). A graph output crosses
 * only while a later node still reads it: outputs are collected where they are produced, so after
 * the last node nothing crosses (bytes 0). Bytes are what crosses: a bfloat16, float8 or 4-bit
 * tensor in the type it travels in (edgeBytes), as plans count it.
 */
export function cutPoints(graph: Graph): CutPoint[] {
  const index = new Map(graph.nodes.map((n) => [n.name, n.index]));
  const n = graph.nodes.length;
  // starts[i]: tensors that begin crossing at cut i; a tensor crosses cuts first..last-1.
  const starts: string[][] = Array.from({ length: n }, () => []);
  const lastUse = new Map<string, number>();
  const consider = (name: string, first: number) => {
    const t = graph.tensors.get(name)!;
    let last = -1;
    for (const c of t.consumers) last = Math.max(last, index.get(c)!);
    const from = Math.max(first, 0);
    if (last > from) {
      starts[from]!.push(name);
      lastUse.set(name, last);
    }
  };
  for (const x of graph.inputs) consider(x, -1);
  for (const node of graph.nodes) for (const o of node.outputs) if (o) consider(o, node.index);
  // Tensors end at their last consumer: cut i no longer carries a tensor whose last use is <= i.
  const ends: string[][] = Array.from({ length: n }, () => []);
  for (const [name, last] of lastUse) ends[last]!.push(name);

  const active = new Map<string, number>();
  let bytes = 0;
  const out: CutPoint[] = [];
  for (let i = 0; i < n; i++) {
    for (const name of ends[i]!) {
      bytes -= active.get(name) ?? 0;
      active.delete(name);
    }
    for (const name of starts[i]!) {
      const b = edgeBytes(graph.tensors.get(name)!);
      active.set(name, b);
      bytes += b;
    }
    const tensors = [...active.keys()];
    out.push({ index: i, after: graph.nodes[i]!.name, tensors, bytes, single: tensors.length === 1 });
  }
  return out;
}
