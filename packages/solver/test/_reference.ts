// An evaluation of plans written apart from src/evaluate.ts and src/_compiled.ts, from the semantics
// in the README alone: by ids and maps, no indices, no shared helpers. Tests hold evaluatePlan to it.

import type { Problem } from '../src/index.js';

export interface ReferenceStage {
  readonly board: string;
  readonly kernelMs: number;
  readonly boundaryMs: number;
  readonly ms: number;
  readonly inBytes: number;
  readonly outBytes: number;
  readonly energyMj: number;
  readonly memoryBytes: number;
  /** Of memoryBytes: the frames in flight (the board's frameBuffers times the bytes in and out). */
  readonly framesBytes: number;
}

export interface ReferenceTransfer {
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
  readonly ms: number;
  readonly energyMj: number;
}

export interface ReferenceMetrics {
  readonly stages: readonly ReferenceStage[];
  readonly transfers: readonly ReferenceTransfer[];
  readonly latencyMs: number;
  readonly periodMs: number;
  readonly energyMj: number;
}

/** Ethernet: 1500-byte payloads, each frame adds 26 bytes (header, FCS, preamble); at least 46 payload bytes on the wire. */
function wireBytes(bytes: number, framing: string | undefined): number {
  if (framing !== 'ethernet') return bytes;
  const frames = Math.ceil(bytes / 1500);
  const padded = bytes < 46 ? 46 : bytes;
  return padded + 26 * frames;
}

/** Metrics of stages (board, node ids) in pipeline order; the plan is assumed valid. */
export function referenceEvaluate(p: Problem, plan: readonly { board: string; nodes: readonly string[] }[]): ReferenceMetrics {
  const stageOfNode = new Map<string, number>();
  plan.forEach((st, s) => st.nodes.forEach((id) => stageOfNode.set(id, s)));
  const memOf = new Map(p.nodes.map((x) => [x.id, x.memoryBytes]));
  const actOf = new Map(p.nodes.map((x) => [x.id, x.activationBytes ?? 0]));
  const boardOf = new Map(p.boards.map((b) => [b.id, b]));
  const linkOf = (a: string, b: string) => p.links.find((l) => l.from === a && l.to === b)!;
  const send = (a: string, b: string, bytes: number): ReferenceTransfer => {
    const l = linkOf(a, b);
    const ms = bytes === 0 ? 0 : l.latencyMs + (1000 * wireBytes(bytes, l.framing)) / l.bandwidthBytesPerSec;
    return { from: a, to: b, bytes, ms, energyMj: ms * l.powerW };
  };
  // Stage index where a tensor is made (-1: model input) and the last stage that reads it.
  const madeIn = (t: Problem['tensors'][number]) => (t.producer === null ? -1 : stageOfNode.get(t.producer)!);
  const lastReader = (t: Problem['tensors'][number]) => t.consumers.reduce((m, c) => Math.max(m, stageOfNode.get(c)!), -1);
  // Bytes that must be between stage s and s+1 (s = -1: before the first stage).
  const between = (s: number) => p.tensors.filter((t) => madeIn(t) <= s && lastReader(t) > s).reduce((a, t) => a + t.bytes, 0);

  const stages: ReferenceStage[] = plan.map((st, s) => {
    const board = boardOf.get(st.board)!;
    let kernelMs = 0;
    let energyMj = 0;
    let memoryBytes = 0;
    let peak = 0;
    for (const id of st.nodes) {
      kernelMs += board.latencyMs[id]!;
      energyMj += board.energyMj?.[id] ?? 0;
      memoryBytes += memOf.get(id)!;
      peak = Math.max(peak, actOf.get(id)!);
    }
    // Weights stay; activations are reused between nodes: the stage needs the largest set alive at once.
    memoryBytes += peak;
    const inBytes = between(s - 1);
    const passedOn = between(s);
    let outputs = 0;
    for (const t of p.tensors) if (t.modelOutput === true && t.producer !== null && stageOfNode.get(t.producer) === s) outputs += t.bytes;
    const outBytes = passedOn + outputs;
    const c = board.boundary;
    // The model inputs, where the first stage runs on the input board, at inputMsPerByte (when given):
    // they are there already, not received over a link.
    const inRate = c === undefined ? 0 : s === 0 && st.board === p.inputBoard ? (c.inputMsPerByte ?? c.inMsPerByte) : c.inMsPerByte;
    // What it passes on at outMsPerByte, the model outputs it makes at outputMsPerByte (when given).
    const boundaryMs = c === undefined ? 0 : c.fixedMs + inRate * inBytes + c.outMsPerByte * passedOn + (c.outputMsPerByte ?? c.outMsPerByte) * outputs;
    // Frames in flight: held for each byte that comes in and each byte that goes out.
    const f = board.frameBuffers;
    const framesBytes = f === undefined ? 0 : f.perInByte * inBytes + f.perOutByte * outBytes;
    memoryBytes += framesBytes;
    return { board: st.board, kernelMs, boundaryMs, ms: kernelMs + boundaryMs, inBytes, outBytes, energyMj, memoryBytes, framesBytes };
  });

  const transfers: ReferenceTransfer[] = [];
  if (plan[0]!.board !== p.inputBoard) {
    const all = p.tensors.filter((t) => t.producer === null).reduce((a, t) => a + t.bytes, 0);
    transfers.push(send(p.inputBoard, plan[0]!.board, all));
  }
  for (let s = 0; s + 1 < plan.length; s++) transfers.push(send(plan[s]!.board, plan[s + 1]!.board, between(s)));

  const times = [...stages.map((x) => x.ms), ...transfers.map((x) => x.ms)];
  return {
    stages,
    transfers,
    latencyMs: times.reduce((a, x) => a + x, 0),
    periodMs: Math.max(...times),
    energyMj: [...stages, ...transfers].reduce((a, x) => a + x.energyMj, 0),
  };
}
