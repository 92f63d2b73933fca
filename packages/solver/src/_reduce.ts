// Exact reduction before the cut sets: nodes that cost nothing anywhere and have no inputs (ONNX
// Constant nodes, for instance) join the one node that consumes them. Each such node multiplies the
// number of cut sets by up to two, yet placing it with its consumer never makes a plan worse: no
// stage time, energy or memory changes, and its outputs stop crossing. The one catch, a stage made
// only of such nodes disappearing, is harmless when every ordered pair of boards has the same link
// (the stages around it talk directly, carrying no more bytes), so that is required.
// The same holds for a free node that reads nothing and makes only empty model outputs (0 bytes,
// read by no node): Optimum's merged decoders give such placeholders for the cross-attention cache
// in their cached branch, 12 of them in Moonshine's, each doubling the cut sets. Each joins the
// first node that stays.

import type { Problem } from './types.js';

export interface SourceMerge {
  readonly problem: Problem;
  /** Removed node id -> the node whose stage it joins (resolved through chains). */
  readonly hostOf: ReadonlyMap<string, string>;
}

/** The problem with zero-cost source nodes merged into their single consumer (or unchanged). */
export function mergeZeroCostSources(problem: Problem): SourceMerge {
  const none: SourceMerge = { problem, hostOf: new Map() };
  const m = problem.boards.length;
  if (m > 1) {
    if (problem.links.length !== m * (m - 1)) return none;
    const sig = (l: Problem['links'][number]) => `${l.bandwidthBytesPerSec}|${l.latencyMs}|${l.powerW}|${l.framing ?? 'none'}`;
    const first = sig(problem.links[0]!);
    if (!problem.links.every((l) => sig(l) === first)) return none;
  }
  // An input nobody consumes would start to travel if a leading stage vanished.
  if (problem.tensors.some((t) => t.producer === null && t.consumers.length === 0)) return none;
  const consumed = new Set<string>();
  for (const t of problem.tensors) for (const c of t.consumers) consumed.add(c);
  const outputs = new Map<string, string[]>();
  for (const t of problem.tensors) if (t.producer !== null) outputs.set(t.producer, [...(outputs.get(t.producer) ?? []), ...t.consumers]);
  const makesOutput = new Set(problem.tensors.filter((t) => t.modelOutput === true && t.producer !== null).map((t) => t.producer!));
  const free = (id: string) => problem.boards.every((b) => b.latencyMs[id] === 0 && (b.energyMj?.[id] ?? 0) === 0);
  const host = new Map<string, string>();
  for (const n of problem.nodes) {
    // A node that makes a model output has a stage-boundary cost to keep.
    if (consumed.has(n.id) || n.memoryBytes !== 0 || !free(n.id) || makesOutput.has(n.id)) continue;
    const targets = new Set(outputs.get(n.id) ?? []);
    if (targets.size !== 1) continue;
    host.set(n.id, [...targets][0]!);
  }
  const tensorsOf = new Map<string, Problem['tensors'][number][]>();
  for (const t of problem.tensors) if (t.producer !== null) tensorsOf.set(t.producer, [...(tensorsOf.get(t.producer) ?? []), t]);
  const emptyOutputsOnly = (id: string) => (tensorsOf.get(id) ?? []).every((t) => t.modelOutput === true && t.bytes === 0 && t.consumers.length === 0);
  const isolated = problem.nodes.filter((n) => !consumed.has(n.id) && n.memoryBytes === 0 && free(n.id) && (outputs.get(n.id) ?? []).length === 0 && emptyOutputsOnly(n.id));
  const anchor = problem.nodes.find((n) => !host.has(n.id) && !isolated.includes(n));
  if (anchor) for (const n of isolated) host.set(n.id, anchor.id);
  if (host.size === 0) return none;
  const resolve = (id: string): string => {
    let x = id;
    while (host.has(x)) x = host.get(x)!;
    return x;
  };
  const hostOf = new Map([...host.keys()].map((id) => [id, resolve(id)] as const));
  const strip = (r: Readonly<Record<string, number>>) => Object.fromEntries(Object.entries(r).filter(([k]) => !hostOf.has(k)));
  // A merged node's act joins its host's: they always share a stage, so the stage's largest act is kept.
  const hostAct = new Map<string, number>();
  for (const n of problem.nodes) {
    const h = hostOf.get(n.id);
    if (h !== undefined && (n.activationBytes ?? 0) > 0) hostAct.set(h, Math.max(hostAct.get(h) ?? 0, n.activationBytes!));
  }
  const withAct = (n: Problem['nodes'][number]) => {
    const a = hostAct.get(n.id);
    return a === undefined || a <= (n.activationBytes ?? 0) ? n : { ...n, activationBytes: a };
  };
  const reduced: Problem = {
    ...problem,
    nodes: problem.nodes.filter((n) => !hostOf.has(n.id)).map(withAct),
    tensors: problem.tensors.filter((t) => t.producer === null || !hostOf.has(t.producer)),
    boards: problem.boards.map((b) => ({ ...b, latencyMs: strip(b.latencyMs), ...(b.energyMj === undefined ? {} : { energyMj: strip(b.energyMj) }) })),
  };
  return { problem: reduced, hostOf };
}
