// An indexed view of a parsed problem: the numeric arrays every algorithm here works on.

import { checkProblemScale } from './problem.js';
import type { FrameBuffers, Problem, ProblemLink, StageBoundary } from './types.js';

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
  /** Bytes alive while each node runs: a stage needs its mem sum plus the largest act among its nodes. */
  readonly act: Float64Array;
  /** The nodes with act > 0, largest act first (empty when the problem gives none). */
  readonly actOrder: Int32Array;
  /** The largest act of any node (0 when none has any). */
  readonly actMax: number;
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
  /** 1 for a model output (it leaves the stage that produces it). */
  readonly tOutput: Uint8Array;
  /** Per board: its stage boundary costs (zeros when the problem gives none; outputMsPerByte and inputMsPerByte always set). */
  readonly boundary: readonly Required<StageBoundary>[];
  /** Per board: the memory of frames in flight per byte in and out (zeros when the problem gives none). */
  readonly frames: readonly FrameBuffers[];
}

const NO_BOUNDARY: Required<StageBoundary> = { fixedMs: 0, inMsPerByte: 0, outMsPerByte: 0, outputMsPerByte: 0, inputMsPerByte: 0 };
const NO_FRAMES: FrameBuffers = { perInByte: 0, perOutByte: 0 };

// Stage costs. A stage on board b costs  kernel + fixedMs + inMsPerByte x in + outMsPerByte x out
// + outputMsPerByte x outputs, where `in` is the bytes crossing the cut before it (the model inputs
// for the first stage, relayed tensors included), `out` the bytes crossing the cut after it and
// `outputs` those of the model outputs it produces. The first stage's `in` (the model inputs) is at
// inputMsPerByte on the input board, where the inputs are already, and at inMsPerByte elsewhere.
// Every algorithm prices a stage here: evaluate and the programmes call stageMs; the ILP uses the
// two potentials below, whose difference is stageMs (tested), so its stage rows stay linear.

/** The rate of a stage's `in` bytes on board b: `first` for the first stage (its `in` the model inputs). */
export function inRate(cp: Compiled, b: number, first: boolean): number {
  const c = cp.boundary[b]!;
  return first && b === cp.input ? c.inputMsPerByte : c.inMsPerByte;
}

/** Boundary part of a stage's time on board b (`outBytes` passed on, `outputBytes` of model outputs; `first`: the first stage). */
export function boundaryMs(cp: Compiled, b: number, inBytes: number, outBytes: number, outputBytes: number, first: boolean): number {
  const c = cp.boundary[b]!;
  return c.fixedMs + inRate(cp, b, first) * inBytes + c.outMsPerByte * outBytes + c.outputMsPerByte * outputBytes;
}

/** The full predicted time of a stage on board b: its kernels plus its boundary. */
export function stageMs(cp: Compiled, b: number, kernelMs: number, inBytes: number, outBytes: number, outputBytes: number, first: boolean): number {
  return kernelMs + boundaryMs(cp, b, inBytes, outBytes, outputBytes, first);
}

/**
 * The largest act among the nodes a stage holds (0 when none has any): the first node of
 * `actOrder` in the stage, so a scan usually stops after a few nodes.
 */
export function stagePeak(cp: Compiled, inStage: (v: number) => boolean): number {
  for (const v of cp.actOrder) if (inStage(v)) return cp.act[v]!;
  return 0;
}

/** Per stage of an assignment (stageOf[v] in 0..k-1): the largest act among its nodes. */
export function stagePeaks(cp: Compiled, stageOf: Int32Array, k: number): Float64Array {
  const peaks = new Float64Array(k);
  for (let v = 0; v < cp.n; v++) {
    const s = stageOf[v]!;
    if (s >= 0 && s < k && cp.act[v]! > peaks[s]!) peaks[s] = cp.act[v]!;
  }
  return peaks;
}

// A stage's memory on board b: its nodes' mem, its largest act, and its frames in flight,
// perInByte x in + perOutByte x out with `in` and `out` the bytes of its boundary (above). Like the
// boundary's time, the frames are linear in the cut sets' own quantities: the ILP's memory rows use
// the two potentials below, whose difference (mem excluded) is stageBetweenFrames.

/** Memory of the frames in flight a stage on board b holds. */
export function framesBytes(cp: Compiled, b: number, inBytes: number, outBytes: number): number {
  const f = cp.frames[b]!;
  return f.perInByte * inBytes + f.perOutByte * outBytes;
}

/** framesBytes of the stage between cut sets d0 ⊂ d1 (cut = crossing bytes, outs = model-output bytes made in it). */
export function stageBetweenFrames(cp: Compiled, b: number, cut0: number, outs0: number, cut1: number, outs1: number): number {
  return framesBytes(cp, b, cut0, cut1 + outs1 - outs0);
}

/** The ILP's linear form: mem1 - mem0 + stageBetweenFrames = memEndPotential(d1) - memStartPotential(d0). */
export function memEndPotential(cp: Compiled, b: number, mem: number, cut: number, outs: number): number {
  return mem + cp.frames[b]!.perOutByte * (cut + outs);
}

export function memStartPotential(cp: Compiled, b: number, mem: number, cut: number, outs: number): number {
  const f = cp.frames[b]!;
  return mem + f.perOutByte * outs - f.perInByte * cut;
}

/** Whether any board holds memory for frames in flight (a stage's memory then depends on its cuts). */
export function hasFrames(cp: Compiled): boolean {
  return cp.frames.some((f) => f.perInByte > 0 || f.perOutByte > 0);
}

/** True when a stage of `sum` bytes of mem (its frames included), whose nodes `inStage` tells, fits board b's cap. */
export function fitsCap(cp: Compiled, b: number, sum: number, inStage: (v: number) => boolean): boolean {
  const cap = cp.cap[b];
  if (cap === null || cap === undefined) return true;
  // Only when the largest act anywhere could break the cap is the stage's own peak needed.
  return sum + cp.actMax <= cap || (sum <= cap && sum + stagePeak(cp, inStage) <= cap);
}

/**
 * A stage between cut sets d0 ⊂ d1 on board b (with per cut set: work = kernel prefix sum, cut =
 * crossing bytes, outs = model-output bytes produced in it), from the cut sets' own quantities;
 * `first`: d0 is the empty set.
 */
export function stageBetweenMs(cp: Compiled, b: number, work0: number, cut0: number, outs0: number, work1: number, cut1: number, outs1: number, first: boolean): number {
  return stageMs(cp, b, work1 - work0, cut0, cut1, outs1 - outs0, first);
}

/** The ILP's linear form: stageBetweenMs = fixedMs + endPotential(d1) - startPotential(d0). */
export function endPotential(cp: Compiled, b: number, work: number, cut: number, outs: number): number {
  const c = cp.boundary[b]!;
  return work + c.outMsPerByte * cut + c.outputMsPerByte * outs;
}

export function startPotential(cp: Compiled, b: number, work: number, cut: number, outs: number, first: boolean): number {
  const c = cp.boundary[b]!;
  return work + c.outputMsPerByte * outs - inRate(cp, b, first) * cut;
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
  // A problem built in code has not been through parseProblem: no infinite cost may reach GLPK.
  checkProblemScale(problem);
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
  const act = Float64Array.from(problem.nodes, (x) => x.activationBytes ?? 0);
  const actOrder = Int32Array.from([...act.keys()].filter((v) => act[v]! > 0).sort((a, b) => act[b]! - act[a]! || a - b));
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
  const tOutput = Uint8Array.from(problem.tensors, (t) => (t.modelOutput === true ? 1 : 0));
  return {
    tOutput,
    boundary: problem.boards.map((b) => (b.boundary
      ? { ...b.boundary, outputMsPerByte: b.boundary.outputMsPerByte ?? b.boundary.outMsPerByte, inputMsPerByte: b.boundary.inputMsPerByte ?? b.boundary.inMsPerByte }
      : NO_BOUNDARY)), frames: problem.boards.map((b) => b.frameBuffers ?? NO_FRAMES),
    problem, n, m, nodeIds, nodeIndex, boardIds, boardIndex, lat, energy, mem, act, actOrder, actMax: actOrder.length === 0 ? 0 : act[actOrder[0]!]!,
    cap: problem.boards.map((b) => b.memoryBytes),
    tProducer, tConsumers, tBytes, tIds: problem.tensors.map((t) => t.id),
    preds, succs, topo, links, input: boardIndex.get(problem.inputBoard)!, inputBytes,
  };
}
