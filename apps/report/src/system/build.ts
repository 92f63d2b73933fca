// Joining a model's graph with board profiles and links into a solver problem: pure, no I/O.
import path from 'node:path';
import { cpuBytes, cutPoints, edgeBytes, graphCosts, liveBytes, scratchBytes, type Graph } from '@dnnpart/onnx-graph';
import { checkProblemScale, isSolverError, type Problem, type ProblemBoard, type ProblemLink, type ProblemNode, type ProblemTensor } from '@dnnpart/solver';
import { encodedBytes } from '@dnnpart/accuracy';
import type { ReportBoard, ReportCut, ReportLayer, ReportSystem } from '../report-data.js';
import { FLOAT32_PER_BYTE, profileBoundary } from './_boundary.js';
import { SystemError } from './errors.js';
import { where, type TransferEncoding } from './load.js';
import type { ResolvedBoard, ResolvedSystem } from './resolve.js';

/** What a report shows about a system besides its plans. */
export type ReportParts = Pick<ReportSystem, 'name' | 'model' | 'boards' | 'links' | 'inputBoard' | 'boardOrder' | 'constraints' | 'objective' | 'layers' | 'cuts' | 'caveats'>;

export interface BuiltProblem {
  readonly problem: Problem;
  readonly parts: ReportParts;
  /** One line per board whose profile has no boundary calibration (the documented default is used). */
  readonly warnings: readonly string[];
}

/**
 * How a stage's memory is estimated on a board running onnxruntime: its weights, plus ACTIVATION_FACTOR
 * times the most activation bytes alive at once while its nodes run (a kernel's own scratch buffers
 * included where they are known to be large; onnxruntime's arena rounds its blocks up and keeps them,
 * and a stage's outputs are also copied out to the agent), plus STAGE_RUNTIME_BYTES of the session's
 * own state. Weights and activations in float16 count at float32 size, as onnxruntime's CPU provider
 * holds them (`cpuBytes`). Measured against 90 stages of 15 models loaded as agents load them, with
 * onnxruntime's memory pattern off as the agents run them (`bench/verify-memory.mjs`, recorded in
 * bench/results/verify-memory.md: 2.5 x before the memory pattern went off, 2 x since).
 */
export const ACTIVATION_FACTOR = 2;
export const STAGE_RUNTIME_BYTES = 2_000_000;

/**
 * What a stage holds on a board's agent for the frames in flight around the one it computes, per
 * byte of the stage's inputs and of its outputs (the solver's frameBuffers): frames received and
 * queued, the copy each hop makes, and frames being sent on (the message encoded, grpc-js's framed
 * copy of it, the next frame's outputs made while it travels). Measured with `dnnpart run` on ISNet at
 * 1024x1024 cut in two (117 MB crossing; bench/results/runtime-real-models.md): each stage held
 * 0.7-0.96 GB more on its agent than alone; these rates bound both stages.
 */
export const FRAME_BUFFERS = { perInByte: 1.5, perOutByte: 7 } as const;

/** The problem's nodes: weights as memoryBytes, and the activations alive while each runs (scaled, see above). */
export function problemNodes(graph: Graph, costs = graphCosts(graph).nodes): ProblemNode[] {
  const live = liveBytes(graph, cpuBytes);
  const scratch = scratchBytes(graph);
  return graph.nodes.map((n) => {
    const c = costs.get(n.name);
    // The float32 copies onnxruntime's CPU provider makes of float16 weights.
    let halfWeights = 0;
    for (const x of new Set(n.inputs)) {
      const t = x ? graph.tensors.get(x) : undefined;
      if (t?.isInitializer) halfWeights += cpuBytes(t) - t.bytes;
    }
    return {
      id: n.name, memoryBytes: (c?.paramBytes ?? 0) + halfWeights,
      activationBytes: Math.round(ACTIVATION_FACTOR * ((live.get(n.name) ?? 0) + (scratch.get(n.name) ?? 0)) + STAGE_RUNTIME_BYTES),
      macs: c?.macs ?? 0,
    };
  });
}

/** The solver problem of a resolved system, and the report's view of it. */
export function buildProblem(system: ResolvedSystem): BuiltProblem {
  const { spec, graph } = system;
  const all = graphCosts(graph);
  const costs = all.nodes;
  const nodes = problemNodes(graph, costs);
  const boards = system.boards.map((b, i) => problemBoard(system, b, i));
  // One warning per board whose profile has no boundary calibration (the default is used).
  const warnings: string[] = [];
  for (const b of system.boards) {
    const { warning: w, encodingsWarning } = profileBoundary(b.profile, spec.transfer ?? 'fp32');
    if (w !== undefined) warnings.push(`board ${b.spec.id}: ${w}`);
    if (encodingsWarning !== undefined) warnings.push(`board ${b.spec.id}: ${encodingsWarning}`);
    // What an estimate assumed (uncalibrated efficiencies, an int8 model priced at the int8 peak).
    if (b.source === 'analytic') for (const a of b.profile.warnings ?? []) warnings.push(`board ${b.spec.id}: ${a}`);
    // Energy left out says so: the board would look free to an energy objective.
    if (b.profile.power.source === 'unavailable' && b.profile.nodes.every((n) => typeof n.energyMj !== 'number')) {
      warnings.push(`board ${b.spec.id}: its profile has no power figures (no power sensor, and profiled without --describe): its layers count 0 mJ, so energy figures and objectives leave this board out; profile again with --describe <board.yaml> to estimate them`);
    }
  }

  // The problem has one boundary per board: the CPU time of a link's own encoding is not in it.
  const base = spec.transfer ?? 'fp32';
  const own = [...new Set(spec.links.filter((l) => l.transfer !== undefined && l.transfer !== base).map((l) => `${l.from} -> ${l.to} (${l.transfer})`))];
  if (own.length > 0) {
    warnings.push(`${own.length === 1 ? 'link' : 'links'} ${own.join(', ')} ${own.length === 1 ? 'has its' : 'have their'} own transfer encoding: priced in ${own.length === 1 ? 'its' : 'their'} bytes, but not the time encoding and decoding take on the boards (only the system's transfer, ${base}, is in the stages' times)`);
  }

  const problem: Problem = {
    version: 1,
    name: system.name,
    nodes,
    tensors: problemTensors(graph, spec.transfer ?? 'fp32'),
    boards,
    links: encodedLinks(system),
    inputBoard: spec.inputBoard,
    objective: spec.objective,
    boardOrder: spec.boardOrder,
    constraints: spec.constraints,
  };
  checkScale(system, problem);

  const layers: ReportLayer[] = graph.nodes.map((n) => {
    const c = costs.get(n.name);
    const latencyMs: Record<string, number> = {};
    for (const b of boards) {
      const ms = b.latencyMs[n.name];
      if (ms !== undefined) latencyMs[b.id] = ms;
    }
    return { name: n.name, op: n.op, macs: c?.macs ?? 0, paramBytes: c?.paramBytes ?? 0, latencyMs };
  });
  const cuts: ReportCut[] = cutPoints(graph).map((c) => ({ after: c.after, bytes: c.bytes, tensors: c.tensors.length }));
  const reportBoards: ReportBoard[] = system.boards.map((b, i) => reportBoard(b, boards[i]!.memoryBytes));

  return {
    problem,
    warnings,
    parts: {
      name: system.name,
      model: { name: graph.name, layers: graph.nodes.length, params: all.params, macs: all.macs, file: path.basename(system.modelFile) },
      boards: reportBoards,
      links: system.links,
      inputBoard: spec.inputBoard,
      boardOrder: spec.boardOrder,
      constraints: spec.constraints,
      objective: spec.objective,
      layers,
      cuts,
    },
  };
}

/**
 * Model inputs (producer null), node outputs that some node reads, and the model outputs (they leave
 * the stage that makes them: a boundary cost); initializers are weights, not traffic.
 */
function problemTensors(graph: Graph, transfer: NonNullable<ResolvedSystem['spec']['transfer']>): ProblemTensor[] {
  const out: ProblemTensor[] = [];
  for (const t of graph.tensors.values()) {
    const modelOutput = t.isGraphOutput && !t.isGraphInput && t.producer !== null;
    if (t.isInitializer || (t.consumers.length === 0 && !modelOutput)) continue;
    if (!t.isGraphInput && t.producer === null) continue;
    // Float tensors travel in the system's encoding (fp16 half, int8 a quarter plus scale and zero
    // point); bfloat16, float8 and 4-bit ones as their edgeDtype (onnxruntime-node holds none of them:
    // splitModel casts them), bfloat16 and float8 as float32, int4 as int8.
    const bytes = t.dtype === 'float32' ? encodedBytes(t.bytes / 4, transfer) : edgeBytes(t);
    out.push({ id: t.name, producer: t.isGraphInput ? null : t.producer, consumers: [...new Set(t.consumers)], bytes, ...(modelOutput ? { modelOutput: true } : {}) });
  }
  return out;
}


/**
 * Links with their own `transfer` carry float tensors in that encoding instead of the system's: the
 * problem has one byte count per tensor, so such a link's bandwidth is scaled by the ratio instead.
 */
function encodedLinks(system: ResolvedSystem): ProblemLink[] {
  const own = new Map<string, NonNullable<ResolvedSystem['spec']['links'][number]['transfer']>>();
  for (const l of system.spec.links) {
    if (!l.transfer) continue;
    own.set(`${l.from}>${l.to}`, l.transfer);
    if (l.bidirectional) own.set(`${l.to}>${l.from}`, l.transfer);
  }
  return system.links.map((l) => {
    const t = own.get(`${l.from}>${l.to}`);
    const base = system.spec.transfer ?? 'fp32';
    if (!t || t === base) return l;
    return { ...l, bandwidthBytesPerSec: (l.bandwidthBytesPerSec * FLOAT32_PER_BYTE[t]) / FLOAT32_PER_BYTE[base] };
  });
}

/**
 * A profile, description or link whose figures are valid alone but make a cost too large for the
 * solver (1e308 ms per byte of a boundary, times the model's bytes): refused naming the board's or
 * link's own file, as the solver would name a field of a problem file.
 */
function checkScale(system: ResolvedSystem, problem: Problem): void {
  try {
    checkProblemScale(problem);
  } catch (e) {
    if (!isSolverError(e, 'SOLVER_TOO_LARGE') || e.field === undefined) throw e;
    const { spec } = system;
    const board = /^boards\[(\d+)\]\.?(.*)$/.exec(e.field);
    const link = /^links\[(\d+)\]\.?(.*)$/.exec(e.field);
    let message: string;
    if (board) {
      const i = Number(board[1]);
      const b = system.boards[i]!;
      const { field } = boardSource(b, i);
      // Frame buffers come from the system file's own board entry (or the default), not from its profile.
      if (board[2]!.startsWith('frameBuffers') && b.spec.frameBuffers !== undefined) {
        throw new SystemError('SYSTEM_VALUE_TOO_LARGE', `${where(spec, e.field)}: ${e.detail}`, { cause: e });
      }
      const what = b.profileFile ? path.basename(b.profileFile) : b.description?.file ? path.basename(b.description.file) : `the ${b.source} profile of ${b.spec.id}`;
      message = `${where(spec, field)}: ${what}: ${board[2] ? `${board[2]}: ` : ''}${e.detail}`;
    } else if (link) {
      const l = problem.links[Number(link[1])]!;
      message = `${spec.displayFile}: the link ${l.from} -> ${l.to}${link[2] ? ` (${link[2]})` : ''}: ${e.detail}`;
    } else {
      message = `${path.basename(system.modelFile)}: ${e.field}: ${e.detail}`;
    }
    throw new SystemError('SYSTEM_VALUE_TOO_LARGE', message, { cause: e });
  }
}

/** The system file's field a board's figures come from, and how to name them. */
function boardSource(b: ResolvedBoard, i: number): { field: string; what: string } {
  const field = b.spec.profile ? `boards[${i}].profile` : b.spec.measure ? `boards[${i}].measure` : `boards[${i}].describe`;
  return { field, what: b.profileFile ? path.basename(b.profileFile) : `the ${b.source} profile of ${b.spec.id}` };
}

function problemBoard(system: ResolvedSystem, b: ResolvedBoard, i: number): ProblemBoard {
  const { spec, graph } = system;
  const { field, what } = boardSource(b, i);
  const p = b.profile;
  // An analytic profile is computed from this graph; a measured one must be of this very file.
  if (b.source === 'measured' && p.model.sha256.toLowerCase() !== system.modelSha256.toLowerCase()) {
    throw new SystemError(
      'SYSTEM_PROFILE_MODEL_MISMATCH',
      `${where(spec, field)}: ${what} is a profile of model "${p.model.name}" (sha256 ${p.model.sha256.slice(0, 12)}…), not of ${path.basename(system.modelFile)} "${graph.name}" (sha256 ${system.modelSha256.slice(0, 12)}…); profile this model file`,
    );
  }
  const graphNodes = new Set(graph.nodes.map((n) => n.name));
  // A profile of the file as written (before folding, or by another tool) times nodes that loading
  // folded into weights: they no longer run, so their entries are left out, not refused.
  const folded = new Set(system.foldedNodes ?? []);
  const latencyMs: Record<string, number> = {};
  const energyMj: Record<string, number> = {};
  for (const n of p.nodes) {
    if (!graphNodes.has(n.name) && folded.has(n.name)) continue;
    if (!graphNodes.has(n.name)) {
      throw new SystemError('SYSTEM_PROFILE_NODE_UNKNOWN', `${where(spec, field)}: ${what} has node "${n.name}", which is not in ${path.basename(system.modelFile)}`);
    }
    latencyMs[n.name] = n.latencyMs.median;
    if (typeof n.energyMj === 'number') energyMj[n.name] = n.energyMj;
  }
  // ORT may remove nodes entirely (constant folding, identities): they cost nothing there.
  for (const name of p.eliminatedNodes ?? []) if (graphNodes.has(name) && latencyMs[name] === undefined) latencyMs[name] = 0;
  // A measured profile ran the whole model, so a missing node means another model. An analytic
  // profile is made from this graph: a node it leaves out is one the board cannot run.
  for (const n of b.source === 'measured' ? graph.nodes : []) {
    if (latencyMs[n.name] === undefined) {
      // The file is the profiled one (its hash matched): the profile was edited, or made by a dnnpart that folded this node (one that read a count the data decides as a constant).
      throw new SystemError('SYSTEM_PROFILE_NODE_MISSING', `${where(spec, field)}: ${what} has no entry for node "${n.name}" of ${path.basename(system.modelFile)}; profile the model again with this dnnpart`);
    }
  }
  const memoryBytes = b.spec.memoryBytes !== undefined ? b.spec.memoryBytes : (b.description?.memoryBytes ?? p.board.memoryBytes ?? null);
  return { id: b.spec.id, memoryBytes, latencyMs, energyMj, boundary: profileBoundary(p, system.spec.transfer ?? 'fp32').boundary, frameBuffers: b.spec.frameBuffers ?? defaultFrameBuffers(system.spec.transfer ?? 'fp32') };
}

/**
 * FRAME_BUFFERS per byte of the problem's tensors, which with a system `transfer` of fp16 or int8 are
 * the encoded bytes: an agent still holds the frames it queued, and the outputs it is sending,
 * decoded (float32), so the rates grow by float32's bytes over the encoding's (a bound: the encoded
 * messages themselves are smaller). A board's own frameBuffers are taken as given.
 */
export function defaultFrameBuffers(transfer: TransferEncoding): { perInByte: number; perOutByte: number } {
  const k = FLOAT32_PER_BYTE[transfer];
  return { perInByte: FRAME_BUFFERS.perInByte * k, perOutByte: FRAME_BUFFERS.perOutByte * k };
}

function reportBoard(b: ResolvedBoard, memoryBytes: number | null): ReportBoard {
  const p = b.profile;
  const description = b.description?.title ?? (b.source === 'measured' ? `${p.board.cpu}, ${p.board.cores} cores (${p.settings.threads} threads)` : undefined);
  return {
    id: b.spec.id,
    source: b.source,
    ...(b.profileFile ? { file: b.profileFile } : b.description?.file ? { file: b.description.file } : {}),
    // An analytic profile is computed on the spot: its time says nothing about the board.
    ...(b.source === 'measured' ? { createdAt: p.createdAt } : {}),
    memoryBytes,
    powerSource: p.power.source,
    ...(description ? { description } : {}),
  };
}
