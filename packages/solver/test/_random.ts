// Seeded random small problems for comparing the ILP with exhaustive enumeration.

import type { Objective, Problem, ProblemBoard, ProblemLink, ProblemTensor } from '../src/index.js';

/** mulberry32: a small deterministic generator. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface RandomOptions {
  readonly nodes: number;
  readonly boards: number;
  readonly objective: Objective;
  readonly boardOrder: 'fixed' | 'free';
  /** Probability of an extra (skip) edge between two nodes. */
  readonly skip?: number;
  readonly unsupported?: number;
  readonly memoryCaps?: boolean;
  readonly ethernet?: boolean;
  readonly missingLinks?: number;
  readonly inputNotFirst?: boolean;
  readonly constraints?: boolean;
  /** Zero-cost source nodes (like ONNX Constant) feeding random nodes. */
  readonly constants?: number;
  /** Every ordered pair of boards joined by the same link. */
  readonly uniformLinks?: boolean;
  /** Free nodes that read nothing and give an empty model output (a merged decoder's placeholders). */
  readonly emptyOutputs?: number;
  /**
   * Every node gets activationBytes (bytes alive while it runs, up to 4x a node's memoryBytes), and with
   * memoryCaps the caps are drawn against weights plus the largest act, so the stage peaks bind.
   */
  readonly activations?: boolean;
}

/** A random DAG problem: a chain backbone plus skip edges, random costs, links and options. */
export function randomProblem(seed: number, o: RandomOptions): Problem {
  const r = rng(seed);
  const n = o.nodes;
  const ids = Array.from({ length: n }, (_, i) => `n${i}`);
  const nodes = ids.map((id) => ({ id, memoryBytes: Math.round(r() * 100), macs: Math.round(r() * 1000) }));
  const tensors: ProblemTensor[] = [{ id: 'x', producer: null, consumers: [ids[0]!], bytes: Math.round(r() * 4000) }];
  for (let i = 0; i < n; i++) {
    const consumers: string[] = [];
    if (i + 1 < n) consumers.push(ids[i + 1]!);
    for (let j = i + 2; j < n; j++) if (r() < (o.skip ?? 0)) consumers.push(ids[j]!);
    // Some nodes emit a second tensor to a later node (another kind of skip).
    tensors.push({ id: `t${i}`, producer: ids[i]!, consumers, bytes: Math.round(r() * 5000) });
    if (r() < (o.skip ?? 0) && i + 2 < n) {
      tensors.push({ id: `s${i}`, producer: ids[i]!, consumers: [ids[i + 2 + Math.floor(r() * (n - i - 2))]!], bytes: Math.round(r() * 3000) });
    }
  }
  for (let k = 0; k < (o.constants ?? 0); k++) {
    const id = `c${k}`;
    nodes.push({ id, memoryBytes: 0, macs: 0 });
    tensors.push({ id: `ct${k}`, producer: id, consumers: [ids[Math.floor(r() * n)]!], bytes: Math.round(r() * 300) });
  }
  for (let k = 0; k < (o.emptyOutputs ?? 0); k++) {
    nodes.push({ id: `c_empty${k}`, memoryBytes: 0, macs: 0 });
    tensors.push({ id: `empty${k}`, producer: `c_empty${k}`, consumers: [], bytes: 0, modelOutput: true });
  }
  const allIds = nodes.map((x) => x.id);
  const boards: ProblemBoard[] = Array.from({ length: o.boards }, (_, b) => {
    const speed = 0.5 + r() * 2;
    const latencyMs: Record<string, number> = {};
    const energyMj: Record<string, number> = {};
    for (const id of allIds) {
      if (id.startsWith('c')) {
        latencyMs[id] = 0;
        energyMj[id] = 0;
        continue;
      }
      if (r() < (o.unsupported ?? 0)) continue;
      latencyMs[id] = Math.round((r() * 10) / speed * 1000) / 1000;
      energyMj[id] = Math.round(r() * 5 * 1000) / 1000;
    }
    const total = nodes.reduce((s, x) => s + x.memoryBytes, 0);
    return { id: `b${b}`, memoryBytes: o.memoryCaps === true ? Math.round(total * (0.3 + r() * 0.6)) : null, latencyMs, energyMj };
  });
  const links: ProblemLink[] = [];
  const shared = { bandwidthBytesPerSec: 2e6, latencyMs: 0.2, powerW: 0.7, framing: o.ethernet === true ? 'ethernet' as const : 'none' as const };
  if (o.uniformLinks === true) {
    for (let a = 0; a < o.boards; a++) for (let b = 0; b < o.boards; b++) if (a !== b) links.push({ from: `b${a}`, to: `b${b}`, ...shared });
  }
  for (let a = 0; a < o.boards && o.uniformLinks !== true; a++) {
    for (let b = 0; b < o.boards; b++) {
      if (a === b || r() < (o.missingLinks ?? 0)) continue;
      links.push({
        from: `b${a}`, to: `b${b}`, bandwidthBytesPerSec: Math.round((0.5 + r() * 3) * 1e6),
        latencyMs: Math.round(r() * 1000) / 1000, powerW: Math.round(r() * 2000) / 1000,
        framing: o.ethernet === true ? 'ethernet' : 'none',
      });
    }
  }
  const problem: Problem = {
    version: 1, nodes, tensors, boards, links,
    inputBoard: o.inputNotFirst === true ? `b${o.boards - 1}` : 'b0',
    objective: o.objective, boardOrder: o.boardOrder,
  };
  return o.activations === true ? withActivations(problem, seed, o.memoryCaps === true) : problem;
}

/** The problem with activationBytes on every node (a stream of its own: the other draws stay as they were). */
function withActivations(p: Problem, seed: number, caps: boolean): Problem {
  const r = rng(seed * 31 + 17);
  const nodes = p.nodes.map((x) => ({ ...x, activationBytes: Math.round(r() * 400) }));
  const total = nodes.reduce((s, x) => s + x.memoryBytes, 0);
  const top = nodes.reduce((s, x) => Math.max(s, x.activationBytes), 0);
  const boards = p.boards.map((b) => ({ ...b, memoryBytes: caps ? Math.round((total + top) * (0.35 + r() * 0.5)) : b.memoryBytes }));
  return { ...p, nodes, boards };
}
