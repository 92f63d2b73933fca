// The problem enters the program here: validated field by field, with the path of the first bad field.

import { SolverError, type SolverErrorCode } from './errors.js';
import type { Constraints, FrameBuffers, Problem, ProblemBoard, ProblemLink, ProblemNode, ProblemTensor, StageBoundary } from './types.js';

/** JSON Schema (draft 2020-12) of a version-1 problem; parseProblem checks the same and more (ids, cycles). */
export const problemSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://dnnpart.dev/schema/problem-v1.json',
  title: 'dnnpart partitioning problem',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'nodes', 'tensors', 'boards', 'links', 'inputBoard', 'objective', 'boardOrder'],
  properties: {
    version: { const: 1 },
    name: { type: 'string' },
    nodes: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'memoryBytes'],
        properties: {
          id: { type: 'string', minLength: 1 },
          memoryBytes: { type: 'number', minimum: 0 },
          activationBytes: { type: 'number', minimum: 0 },
          macs: { type: 'number', minimum: 0 },
        },
      },
    },
    tensors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'producer', 'consumers', 'bytes'],
        properties: {
          id: { type: 'string', minLength: 1 },
          producer: { type: ['string', 'null'] },
          consumers: { type: 'array', items: { type: 'string' }, uniqueItems: true },
          bytes: { type: 'number', minimum: 0 },
          modelOutput: { type: 'boolean' },
        },
      },
    },
    boards: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'memoryBytes', 'latencyMs'],
        properties: {
          id: { type: 'string', minLength: 1 },
          memoryBytes: { type: ['number', 'null'], minimum: 0 },
          latencyMs: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
          energyMj: { type: 'object', additionalProperties: { type: 'number', minimum: 0 } },
          boundary: {
            type: 'object',
            additionalProperties: false,
            required: ['fixedMs', 'inMsPerByte', 'outMsPerByte'],
            properties: {
              fixedMs: { type: 'number', minimum: 0 },
              inMsPerByte: { type: 'number', minimum: 0 },
              outMsPerByte: { type: 'number', minimum: 0 },
              outputMsPerByte: { type: 'number', minimum: 0 },
              inputMsPerByte: { type: 'number', minimum: 0 },
            },
          },
          frameBuffers: {
            type: 'object',
            additionalProperties: false,
            required: ['perInByte', 'perOutByte'],
            properties: {
              perInByte: { type: 'number', minimum: 0 },
              perOutByte: { type: 'number', minimum: 0 },
            },
          },
        },
      },
    },
    links: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to', 'bandwidthBytesPerSec', 'latencyMs', 'powerW'],
        properties: {
          from: { type: 'string' },
          to: { type: 'string' },
          bandwidthBytesPerSec: { type: 'number', exclusiveMinimum: 0 },
          latencyMs: { type: 'number', minimum: 0 },
          powerW: { type: 'number', minimum: 0 },
          framing: { enum: ['none', 'ethernet'] },
        },
      },
    },
    inputBoard: { type: 'string' },
    objective: { enum: ['throughput', 'latency', 'energy'] },
    boardOrder: { enum: ['fixed', 'free'] },
    constraints: {
      type: 'object',
      additionalProperties: false,
      properties: {
        maxLatencyMs: { type: 'number', minimum: 0 },
        maxEnergyMj: { type: 'number', minimum: 0 },
        minThroughputFps: { type: 'number', minimum: 0 },
      },
    },
  },
} as const;

type Json = Record<string, unknown>;

class Checker {
  constructor(private readonly source: string | undefined) {}

  fail(code: SolverErrorCode, path: string, what: string): never {
    const where = this.source === undefined ? '' : `${this.source}: `;
    throw new SolverError(code, `${where}${path}: ${what}`, { field: path, detail: what });
  }

  object(v: unknown, path: string): Json {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail('SOLVER_SCHEMA', path, `must be an object, got ${show(v)}`);
    return v as Json;
  }

  keys(o: Json, path: string, allowed: readonly string[], required: readonly string[]): void {
    for (const k of required) if (!(k in o)) this.fail('SOLVER_SCHEMA', path === '' ? k : `${path}.${k}`, 'is required');
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail('SOLVER_SCHEMA', path === '' ? k : `${path}.${k}`, `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail('SOLVER_SCHEMA', path, `must be an array, got ${show(v)}`);
    return v;
  }

  id(v: unknown, path: string): string {
    if (typeof v !== 'string' || v.length === 0) this.fail('SOLVER_SCHEMA', path, `must be a non-empty string, got ${show(v)}`);
    return v;
  }

  /** A cost, size or rate: a finite number >= 0 (or > 0 when `positive`). */
  amount(v: unknown, path: string, positive = false): number {
    if (typeof v !== 'number') this.fail('SOLVER_SCHEMA', path, `must be a finite number ${positive ? '> 0' : '>= 0'}, got ${show(v)}`);
    if (!Number.isFinite(v) || v < 0 || (positive && v === 0)) {
      this.fail('SOLVER_NEGATIVE_COST', path, `must be a finite number ${positive ? '> 0' : '>= 0'}, got ${show(v)}`);
    }
    return v;
  }

  oneOf<T extends string>(v: unknown, path: string, values: readonly T[]): T {
    if (typeof v !== 'string' || !values.includes(v as T)) this.fail('SOLVER_SCHEMA', path, `must be one of ${values.join(', ')}, got ${show(v)}`);
    return v as T;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** Validate unknown JSON as a version-1 problem; throws SolverError naming the first bad field (and `source`). */
export function parseProblem(json: unknown, source?: string): Problem {
  const c: Checker = new Checker(source);
  const root = c.object(json, '(root)');
  c.keys(root, '', Object.keys(problemSchema.properties), problemSchema.required);
  if (root.version !== 1) c.fail('SOLVER_SCHEMA', 'version', `must be 1, got ${show(root.version)}`);
  if (root.name !== undefined && typeof root.name !== 'string') c.fail('SOLVER_SCHEMA', 'name', `must be a string, got ${show(root.name)}`);

  const nodeIds = new Set<string>();
  const nodes: ProblemNode[] = c.array(root.nodes, 'nodes').map((raw, i) => {
    const p = `nodes[${i}]`;
    const o = c.object(raw, p);
    c.keys(o, p, ['id', 'memoryBytes', 'activationBytes', 'macs'], ['id', 'memoryBytes']);
    const id = c.id(o.id, `${p}.id`);
    if (nodeIds.has(id)) c.fail('SOLVER_DUPLICATE_ID', `${p}.id`, `duplicate node id "${id}"`);
    nodeIds.add(id);
    const memoryBytes = c.amount(o.memoryBytes, `${p}.memoryBytes`);
    return {
      id, memoryBytes,
      ...(o.activationBytes === undefined ? {} : { activationBytes: c.amount(o.activationBytes, `${p}.activationBytes`) }),
      ...(o.macs === undefined ? {} : { macs: c.amount(o.macs, `${p}.macs`) }),
    };
  });
  if (nodes.length === 0) c.fail('SOLVER_SCHEMA', 'nodes', 'must list at least one node');

  const tensorIds = new Set<string>();
  const tensors: ProblemTensor[] = c.array(root.tensors, 'tensors').map((raw, i) => {
    const p = `tensors[${i}]`;
    const o = c.object(raw, p);
    c.keys(o, p, ['id', 'producer', 'consumers', 'bytes', 'modelOutput'], ['id', 'producer', 'consumers', 'bytes']);
    const id = c.id(o.id, `${p}.id`);
    if (tensorIds.has(id)) c.fail('SOLVER_DUPLICATE_ID', `${p}.id`, `duplicate tensor id "${id}"`);
    tensorIds.add(id);
    let producer: string | null = null;
    if (o.producer !== null) {
      producer = c.id(o.producer, `${p}.producer`);
      if (!nodeIds.has(producer)) c.fail('SOLVER_UNKNOWN_ID', `${p}.producer`, `unknown node "${producer}"`);
    }
    const consumers = c.array(o.consumers, `${p}.consumers`).map((v, j) => {
      const cid = c.id(v, `${p}.consumers[${j}]`);
      if (!nodeIds.has(cid)) c.fail('SOLVER_UNKNOWN_ID', `${p}.consumers[${j}]`, `unknown node "${cid}"`);
      if (cid === producer) c.fail('SOLVER_CYCLE', `${p}.consumers[${j}]`, `node "${cid}" consumes its own output`);
      return cid;
    });
    const seen = new Set<string>();
    consumers.forEach((cid, j) => {
      if (seen.has(cid)) c.fail('SOLVER_DUPLICATE_ID', `${p}.consumers[${j}]`, `consumer "${cid}" listed twice`);
      seen.add(cid);
    });
    const bytes = c.amount(o.bytes, `${p}.bytes`);
    if (o.modelOutput === undefined) return { id, producer, consumers, bytes };
    if (typeof o.modelOutput !== 'boolean') c.fail('SOLVER_SCHEMA', `${p}.modelOutput`, `must be true or false, got ${show(o.modelOutput)}`);
    return { id, producer, consumers, bytes, modelOutput: o.modelOutput };
  });

  const boardIds = new Set<string>();
  const costMap = (v: unknown, p: string): Record<string, number> => {
    const o = c.object(v, p);
    const out: Record<string, number> = {};
    for (const [k, x] of Object.entries(o)) {
      if (!nodeIds.has(k)) c.fail('SOLVER_UNKNOWN_ID', `${p}.${k}`, `unknown node "${k}"`);
      out[k] = c.amount(x, `${p}.${k}`);
    }
    return out;
  };
  const boards: ProblemBoard[] = c.array(root.boards, 'boards').map((raw, i) => {
    const p = `boards[${i}]`;
    const o = c.object(raw, p);
    c.keys(o, p, ['id', 'memoryBytes', 'latencyMs', 'energyMj', 'boundary', 'frameBuffers'], ['id', 'memoryBytes', 'latencyMs']);
    const id = c.id(o.id, `${p}.id`);
    if (boardIds.has(id)) c.fail('SOLVER_DUPLICATE_ID', `${p}.id`, `duplicate board id "${id}"`);
    boardIds.add(id);
    const memoryBytes = o.memoryBytes === null ? null : c.amount(o.memoryBytes, `${p}.memoryBytes`);
    const latencyMs = costMap(o.latencyMs, `${p}.latencyMs`);
    let board: ProblemBoard = o.energyMj === undefined
      ? { id, memoryBytes, latencyMs }
      : { id, memoryBytes, latencyMs, energyMj: costMap(o.energyMj, `${p}.energyMj`) };
    if (o.frameBuffers !== undefined) {
      const fo = c.object(o.frameBuffers, `${p}.frameBuffers`);
      c.keys(fo, `${p}.frameBuffers`, ['perInByte', 'perOutByte'], ['perInByte', 'perOutByte']);
      const frameBuffers: FrameBuffers = {
        perInByte: c.amount(fo.perInByte, `${p}.frameBuffers.perInByte`),
        perOutByte: c.amount(fo.perOutByte, `${p}.frameBuffers.perOutByte`),
      };
      board = { ...board, frameBuffers };
    }
    if (o.boundary === undefined) return board;
    const bo = c.object(o.boundary, `${p}.boundary`);
    c.keys(bo, `${p}.boundary`, ['fixedMs', 'inMsPerByte', 'outMsPerByte', 'outputMsPerByte', 'inputMsPerByte'], ['fixedMs', 'inMsPerByte', 'outMsPerByte']);
    const boundary: StageBoundary = {
      fixedMs: c.amount(bo.fixedMs, `${p}.boundary.fixedMs`),
      inMsPerByte: c.amount(bo.inMsPerByte, `${p}.boundary.inMsPerByte`),
      outMsPerByte: c.amount(bo.outMsPerByte, `${p}.boundary.outMsPerByte`),
      ...(bo.outputMsPerByte !== undefined ? { outputMsPerByte: c.amount(bo.outputMsPerByte, `${p}.boundary.outputMsPerByte`) } : {}),
      ...(bo.inputMsPerByte !== undefined ? { inputMsPerByte: c.amount(bo.inputMsPerByte, `${p}.boundary.inputMsPerByte`) } : {}),
    };
    return { ...board, boundary };
  });
  if (boards.length === 0) c.fail('SOLVER_SCHEMA', 'boards', 'must list at least one board');

  const linkKeys = new Set<string>();
  const links: ProblemLink[] = c.array(root.links, 'links').map((raw, i) => {
    const p = `links[${i}]`;
    const o = c.object(raw, p);
    c.keys(o, p, ['from', 'to', 'bandwidthBytesPerSec', 'latencyMs', 'powerW', 'framing'], ['from', 'to', 'bandwidthBytesPerSec', 'latencyMs', 'powerW']);
    const from = c.id(o.from, `${p}.from`);
    const to = c.id(o.to, `${p}.to`);
    if (!boardIds.has(from)) c.fail('SOLVER_UNKNOWN_ID', `${p}.from`, `unknown board "${from}"`);
    if (!boardIds.has(to)) c.fail('SOLVER_UNKNOWN_ID', `${p}.to`, `unknown board "${to}"`);
    if (from === to) c.fail('SOLVER_SCHEMA', `${p}.to`, `a link must join two different boards, got "${from}" -> "${to}"`);
    const key = `${from}\u0000${to}`;
    if (linkKeys.has(key)) c.fail('SOLVER_DUPLICATE_ID', p, `second link "${from}" -> "${to}"`);
    linkKeys.add(key);
    const link: ProblemLink = {
      from, to,
      bandwidthBytesPerSec: c.amount(o.bandwidthBytesPerSec, `${p}.bandwidthBytesPerSec`, true),
      latencyMs: c.amount(o.latencyMs, `${p}.latencyMs`),
      powerW: c.amount(o.powerW, `${p}.powerW`),
    };
    return o.framing === undefined ? link : { ...link, framing: c.oneOf(o.framing, `${p}.framing`, ['none', 'ethernet'] as const) };
  });

  const inputBoard = c.id(root.inputBoard, 'inputBoard');
  if (!boardIds.has(inputBoard)) c.fail('SOLVER_UNKNOWN_ID', 'inputBoard', `unknown board "${inputBoard}"`);
  const objective = c.oneOf(root.objective, 'objective', ['throughput', 'latency', 'energy'] as const);
  const boardOrder = c.oneOf(root.boardOrder, 'boardOrder', ['fixed', 'free'] as const);

  let constraints: Constraints | undefined;
  if (root.constraints !== undefined) {
    const o = c.object(root.constraints, 'constraints');
    c.keys(o, 'constraints', ['maxLatencyMs', 'maxEnergyMj', 'minThroughputFps'], []);
    const out: { maxLatencyMs?: number; maxEnergyMj?: number; minThroughputFps?: number } = {};
    for (const k of ['maxLatencyMs', 'maxEnergyMj', 'minThroughputFps'] as const) {
      const v = o[k];
      if (v === undefined) continue;
      if (typeof v !== 'number' || !Number.isFinite(v)) c.fail('SOLVER_SCHEMA', `constraints.${k}`, `must be a finite number, got ${show(v)}`);
      // A negative bound can never be met by any plan: a contradiction in the input, not an answer.
      if (v < 0) c.fail('SOLVER_CONTRADICTORY_CONSTRAINTS', `constraints.${k}`, `must be >= 0 (no plan can meet ${v})`);
      out[k] = v;
    }
    constraints = out;
  }

  const problem: Problem = {
    version: 1,
    ...(typeof root.name === 'string' ? { name: root.name } : {}),
    nodes, tensors, boards, links, inputBoard, objective, boardOrder,
    ...(constraints === undefined ? {} : { constraints }),
  };
  checkAcyclic(problem, c);
  checkMagnitudes(problem, c);
  return problem;
}

/**
 * The largest time, energy or size the solver may compute from a problem. Each value may be finite
 * alone and its sums or products not: 1e308 ms per byte of a stage boundary, times a model's
 * kilobytes, is infinite, and GLPK aborts on an infinite coefficient. Far above any real cost
 * (1e100 ms), far below the largest double, so that GLPK's own products of coefficients stay finite.
 */
const LARGEST_COST = 1e100;

/**
 * Refuses a problem whose worst case (every node on one board, every byte through one boundary or
 * link) is not a number GLPK can take: SOLVER_TOO_LARGE naming the field (`field` and `detail` on
 * the error). parseProblem checks it; so does every solve and evaluation of a problem built in code.
 */
export function checkProblemScale(problem: Problem, source?: string): void {
  checkMagnitudes(problem, new Checker(source));
}

function checkMagnitudes(problem: Problem, c: Checker): void {
  const sum = (xs: Iterable<number>) => {
    let s = 0;
    for (const x of xs) s += x;
    return s;
  };
  const tooLarge = (path: string, what: string, value: number) =>
    c.fail('SOLVER_TOO_LARGE', path, `${what} comes to ${Number.isFinite(value) ? value.toExponential(2) : 'infinity'}, more than the ${LARGEST_COST.toExponential(0)} the solver takes; check the units`);
  const bytes = sum(problem.tensors.map((t) => t.bytes));
  if (!(bytes <= LARGEST_COST)) tooLarge('tensors', 'the tensors\' bytes', bytes);
  const memory = sum(problem.nodes.map((n) => n.memoryBytes));
  if (!(memory <= LARGEST_COST)) tooLarge('nodes', 'the nodes\' memoryBytes', memory);
  const activation = problem.nodes.reduce((a, n) => Math.max(a, n.activationBytes ?? 0), 0);
  if (!(activation <= LARGEST_COST)) tooLarge('nodes', 'a node\'s activationBytes', activation);
  const hops = Math.max(1, problem.boards.length - 1);
  problem.boards.forEach((b, i) => {
    const latency = sum(Object.values(b.latencyMs));
    if (!(latency <= LARGEST_COST)) tooLarge(`boards[${i}].latencyMs`, 'the nodes\' latency', latency);
    const energy = sum(Object.values(b.energyMj ?? {}));
    if (!(energy <= LARGEST_COST)) tooLarge(`boards[${i}].energyMj`, 'the nodes\' energy', energy);
    const fb = b.frameBuffers;
    if (fb !== undefined) {
      for (const k of ['perInByte', 'perOutByte'] as const) {
        // A problem built in code skips parseProblem: a negative rate would make a stage's memory negative.
        if (typeof fb[k] === 'number' && fb[k] < 0) c.amount(fb[k], `boards[${i}].frameBuffers.${k}`);
        if (!(fb[k] * bytes <= LARGEST_COST)) tooLarge(`boards[${i}].frameBuffers.${k}`, `the frame buffers over the model's ${bytes} bytes of tensors`, fb[k] * bytes);
      }
    }
    const bo = b.boundary;
    if (bo === undefined) return;
    for (const k of ['fixedMs', 'inMsPerByte', 'outMsPerByte', 'outputMsPerByte', 'inputMsPerByte'] as const) {
      const rate = bo[k];
      if (rate === undefined) continue;
      // A problem built in code skips parseProblem: a negative rate would make a stage's time negative.
      if (rate < 0) c.amount(rate, `boards[${i}].boundary.${k}`);
      const worst = k === 'fixedMs' ? rate : rate * bytes;
      if (!(worst <= LARGEST_COST)) tooLarge(`boards[${i}].boundary.${k}`, k === 'fixedMs' ? 'the stage boundary' : `the stage boundary over the model's ${bytes} bytes of tensors`, worst);
    }
  });
  problem.links.forEach((l, i) => {
    // Every tensor over this link, once for each hop of a relay.
    const ms = l.latencyMs * problem.tensors.length * hops + ((bytes * hops * 2) / l.bandwidthBytesPerSec) * 1000;
    if (!(ms <= LARGEST_COST)) tooLarge(`links[${i}]`, 'a transfer of the model\'s tensors', ms);
    if (!(ms * l.powerW <= LARGEST_COST)) tooLarge(`links[${i}].powerW`, 'the energy of a transfer of the model\'s tensors', ms * l.powerW);
  });
}

function checkAcyclic(problem: Problem, c: Checker): void {
  const succ = new Map<string, string[]>(problem.nodes.map((n) => [n.id, []]));
  const indeg = new Map<string, number>(problem.nodes.map((n) => [n.id, 0]));
  for (const t of problem.tensors) {
    if (t.producer === null) continue;
    for (const k of t.consumers) {
      succ.get(t.producer)!.push(k);
      indeg.set(k, indeg.get(k)! + 1);
    }
  }
  const ready = problem.nodes.filter((n) => indeg.get(n.id) === 0).map((n) => n.id);
  let done = 0;
  while (ready.length > 0) {
    const v = ready.pop()!;
    done++;
    for (const w of succ.get(v)!) {
      const d = indeg.get(w)! - 1;
      indeg.set(w, d);
      if (d === 0) ready.push(w);
    }
  }
  if (done < problem.nodes.length) {
    const stuck = problem.nodes.find((n) => indeg.get(n.id)! > 0)!;
    c.fail('SOLVER_CYCLE', 'tensors', `the graph has a cycle through node "${stuck.id}"`);
  }
}
