// The optimised model ORT can save (session option optimizedModelFilePath) names the real inputs
// and outputs of every kernel. A kernel whose name says nothing about the original graph (ORT's
// "Reshape_token_34" inserted around a blocked-layout Add, say) is tied, through that data flow,
// to the original node whose tensor it helps produce.
import { readFile } from 'node:fs/promises';
import { decodeModel, type Graph } from '@dnnpart/onnx-graph';
import { seedOf } from './_attribution.js';

export interface OptimizedNode {
  readonly name: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

/** The nodes of a saved optimised model; null when it cannot be read (the hints are an improvement, not a need). */
export async function readOptimizedNodes(path: string): Promise<OptimizedNode[] | null> {
  try {
    const proto = decodeModel(new Uint8Array(await readFile(path)), path);
    return (proto.graph?.node ?? []).map((n) => ({ name: n.name, op: n.opType, inputs: [...n.input], outputs: [...n.output] }));
  } catch {
    return null;
  }
}

/**
 * For each kernel the names cannot tie to an original node (layout reorders excepted: they go with
 * the kernel they convert for): the original node it belongs to. Forward first (the first original
 * tensor or named kernel downstream: what the helper kernel works towards), else backward.
 */
export function kernelHints(nodes: readonly OptimizedNode[], graph: Graph): Map<string, string> {
  const producer = new Map<string, OptimizedNode>();
  const consumers = new Map<string, OptimizedNode[]>();
  for (const n of nodes) {
    for (const t of n.outputs) if (t) producer.set(t, n);
    for (const t of n.inputs) if (t) consumers.set(t, [...(consumers.get(t) ?? []), n]);
  }
  const original = (t: string) => {
    const x = graph.tensors.get(t);
    return x && !x.isInitializer && x.producer ? x.producer : null;
  };
  const seeded = (n: OptimizedNode) => (isReorder(n) ? null : seedOf(n.name, graph)?.node ?? null);
  const walk = (start: OptimizedNode, forward: boolean): string | null => {
    const seen = new Set<string>([start.name]);
    let frontier = [start];
    for (let depth = 0; depth < 12 && frontier.length; depth++) {
      const next: OptimizedNode[] = [];
      for (const n of frontier) {
        for (const t of forward ? n.outputs : n.inputs) {
          if (!t) continue;
          const o = original(t);
          if (o) return o;
          for (const m of forward ? consumers.get(t) ?? [] : [producer.get(t)].filter((x): x is OptimizedNode => x !== undefined)) {
            if (seen.has(m.name)) continue;
            seen.add(m.name);
            const s = seeded(m);
            if (s) return s;
            next.push(m);
          }
        }
      }
      frontier = next;
    }
    return null;
  };
  const hints = new Map<string, string>();
  for (const n of nodes) {
    if (isReorder(n) || seedOf(n.name, graph)) continue;
    const h = walk(n, true) ?? walk(n, false);
    if (h) hints.set(n.name, h);
  }
  return hints;
}

/** Layout conversions: NCHWc reorders and the Transposes around ARM's NHWC kernels. */
function isReorder(n: OptimizedNode): boolean {
  return n.op === 'ReorderInput' || n.op === 'ReorderOutput' || n.op === 'Transpose';
}
