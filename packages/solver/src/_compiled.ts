// An indexed view of a parsed problem: the numeric arrays every algorithm here works on.

import type { Problem, ProblemLink } from './types.js';

export interface CLink {
  readonly link: ProblemLink;
  /** A signature: links with equal signatures take equal time and energy for every payload. */
  readonly sig: string;
}

export interface Compiled {
  readonly problem: Problem;
  readonly n: number;
  readonly m: number;
  readonly nodeIds: readonly string[];
  readonly nodeIndex: ReadonlyMap<string, number>;
  readonly boardIds: readonly string[];
  readonly boardIndex: ReadonlyMap<string, number>;
  /** lat[b][v]: ms, or NaN when board b cannot run node v. */
  readonly lat: readonly Float64Array[];
  readonly energy: readonly Float64Array[];
  readonly mem: Float64Array;
  readonly cap: readonly (number | null)[];
  /** Tensors: producer index (-1 for a model input), consumer indices, bytes. */
  readonly tProducer: Int32Array;
  readonly tConsumers: readonly Int32Array[];
  readonly tBytes: Float64Array;
  readonly tIds: readonly string[];
  /** Direct predecessors and successors of each node. */
  readonly preds: readonly number[][];
  readonly succs: readonly number[][];
  /** A topological order (stable: the problem's node order where it allows). */
  readonly topo: readonly number[];
  /** links[a][b]: the link a -> b, or undefined. */
  readonly links: readonly (readonly (CLink | undefined)[])[];
  readonly input: number;
  /** Total bytes of the model inputs (producer null), carried by an input transfer. */
  readonly inputBytes: number;
}

/** Framed size of a payload, per the link's framing. */
export function framedBytes(bytes: number, framing: ProblemLink['framing']): number {
  if (framing !== 'ethernet') return bytes;
  return Math.max(bytes, 46) + Math.ceil(bytes / 1500) * 26;
}

/** Time in ms of a transfer of `bytes` over `link`; 0 bytes take 0 ms. */
export function transferMs(link: ProblemLink, bytes: number): number {
  if (bytes <= 0) return 0;
  return link.latencyMs + (framedBytes(bytes, link.framing) / link.bandwidthBytesPerSec) * 1000;
}

/** Build the indexed view of a (parsed, valid) problem. */
export function compile(problem: Problem): Compiled {
  const nodeIds = problem.nodes.map((x) => x.id);
  const nodeIndex = new Map(nodeIds.map((id, i) => [id, i] as const));
  const boardIds = problem.boards.map((b) => b.id);
  const boardIndex = new Map(boardIds.map((id, i) => [id, i] as const));
  const n = nodeIds.length;
  const m = boardIds.length;
  const lat = problem.boards.map((b) => {
    const a = new Float64Array(n).fill(Number.NaN);
    for (const [k, v] of Object.entries(b.latencyMs)) a[nodeIndex.get(k)!] = v;
    return a;
  });
  const energy = problem.boards.map((b) => {
    const a = new Float64Array(n);
    for (const [k, v] of Object.entries(b.energyMj ?? {})) a[nodeIndex.get(k)!] = v;
    return a;
  });
  const mem = Float64Array.from(problem.nodes, (x) => x.memoryBytes);
  const tProducer = Int32Array.from(problem.tensors, (t) => (t.producer === null ? -1 : nodeIndex.get(t.producer)!));
  const tConsumers = problem.tensors.map((t) => Int32Array.from(t.consumers, (k) => nodeIndex.get(k)!));
  const tBytes = Float64Array.from(problem.tensors, (t) => t.bytes);
  const predSets = Array.from({ length: n }, () => new Set<number>());
  const succSets = Array.from({ length: n }, () => new Set<number>());
  problem.tensors.forEach((_t, i) => {
    const p = tProducer[i]!;
    if (p < 0) return;
    for (const k of tConsumers[i]!) {
      predSets[k]!.add(p);
      succSets[p]!.add(k);
    }
  });
  const preds = predSets.map((s) => [...s].sort((a, b) => a - b));
  const succs = succSets.map((s) => [...s].sort((a, b) => a - b));
  // Kahn's algorithm taking the smallest ready index first keeps the file's order when it is topological.
  const indeg = preds.map((p) => p.length);
  const ready: number[] = [];
  for (let v = 0; v < n; v++) if (indeg[v] === 0) ready.push(v);
  const topo: number[] = [];
  while (ready.length > 0) {
    let bi = 0;
    for (let i = 1; i < ready.length; i++) if (ready[i]! < ready[bi]!) bi = i;
    const v = ready.splice(bi, 1)[0]!;
    topo.push(v);
    for (const w of succs[v]!) if (--indeg[w]! === 0) ready.push(w);
  }
  const links: (CLink | undefined)[][] = Array.from({ length: m }, () => new Array<CLink | undefined>(m).fill(undefined));
  for (const l of problem.links) {
    const sig = `${l.bandwidthBytesPerSec}|${l.latencyMs}|${l.powerW}|${l.framing ?? 'none'}`;
    links[boardIndex.get(l.from)!]![boardIndex.get(l.to)!] = { link: l, sig };
  }
  let inputBytes = 0;
  for (let i = 0; i < tBytes.length; i++) if (tProducer[i] === -1) inputBytes += tBytes[i]!;
  return {
    problem, n, m, nodeIds, nodeIndex, boardIds, boardIndex, lat, energy, mem,
    cap: problem.boards.map((b) => b.memoryBytes),
    tProducer, tConsumers, tBytes, tIds: problem.tensors.map((t) => t.id),
    preds, succs, topo, links, input: boardIndex.get(problem.inputBoard)!, inputBytes,
  };
}
