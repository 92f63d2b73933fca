// parseProblem: every bad input gets its code and a message naming the field.

import { describe, expect, it } from 'vitest';
import { evaluatePlan, parseProblem, problemSchema, solve, SolverError } from '../src/index.js';
import { tinyJson, tinyProblem } from './_fixtures.js';

type Json = Record<string, any>;

const BAD: [string, (p: Json) => unknown, string, RegExp][] = [
  ['not an object', () => 42, 'SOLVER_SCHEMA', /\(root\): must be an object, got 42/],
  ['wrong version', (p) => ({ ...p, version: 2 }), 'SOLVER_SCHEMA', /^version: must be 1, got 2$/],
  ['missing nodes', (p) => { delete p.nodes; return p; }, 'SOLVER_SCHEMA', /^nodes: is required$/],
  ['unknown top-level field', (p) => ({ ...p, objectve: 'latency' }), 'SOLVER_SCHEMA', /^objectve: unknown field/],
  ['empty nodes', (p) => ({ ...p, nodes: [], tensors: [], boards: [{ id: 'a', memoryBytes: null, latencyMs: {} }], links: [], inputBoard: 'a' }), 'SOLVER_SCHEMA', /^nodes: must list at least one node$/],
  ['node id not a string', (p) => { p.nodes[1].id = 7; return p; }, 'SOLVER_SCHEMA', /^nodes\[1\]\.id: must be a non-empty string, got 7$/],
  ['duplicate node id', (p) => { p.nodes[2].id = 'conv1'; return p; }, 'SOLVER_DUPLICATE_ID', /^nodes\[2\]\.id: duplicate node id "conv1"$/],
  ['negative node memory', (p) => { p.nodes[0].memoryBytes = -1; return p; }, 'SOLVER_NEGATIVE_COST', /^nodes\[0\]\.memoryBytes: must be a finite number >= 0, got -1$/],
  ['memory as a string', (p) => { p.nodes[0].memoryBytes = '12'; return p; }, 'SOLVER_SCHEMA', /^nodes\[0\]\.memoryBytes: must be a finite number >= 0, got "12"$/],
  ['negative activation bytes', (p) => { p.nodes[1].activationBytes = -5; return p; }, 'SOLVER_NEGATIVE_COST', /^nodes\[1\]\.activationBytes: must be a finite number >= 0, got -5$/],
  ['unknown producer', (p) => { p.tensors[1].producer = 'conv9'; return p; }, 'SOLVER_UNKNOWN_ID', /^tensors\[1\]\.producer: unknown node "conv9"$/],
  ['unknown consumer', (p) => { p.tensors[1].consumers = ['relu1', 'nope']; return p; }, 'SOLVER_UNKNOWN_ID', /^tensors\[1\]\.consumers\[1\]: unknown node "nope"$/],
  ['consumer twice', (p) => { p.tensors[1].consumers = ['relu1', 'relu1']; return p; }, 'SOLVER_DUPLICATE_ID', /^tensors\[1\]\.consumers\[1\]: consumer "relu1" listed twice$/],
  ['duplicate tensor id', (p) => { p.tensors[2].id = 't1'; return p; }, 'SOLVER_DUPLICATE_ID', /^tensors\[2\]\.id: duplicate tensor id "t1"$/],
  ['negative tensor bytes', (p) => { p.tensors[0].bytes = -5; return p; }, 'SOLVER_NEGATIVE_COST', /^tensors\[0\]\.bytes: must be a finite number >= 0, got -5$/],
  ['self loop', (p) => { p.tensors[2].consumers = ['relu1']; return p; }, 'SOLVER_CYCLE', /^tensors\[2\]\.consumers\[0\]: node "relu1" consumes its own output$/],
  ['cycle', (p) => { p.tensors.push({ id: 'back', producer: 'conv2', consumers: ['conv1'], bytes: 1 }); return p; }, 'SOLVER_CYCLE', /^tensors: the graph has a cycle through node "conv1"$/],
  ['negative latency', (p) => { p.boards[1].latencyMs.conv2 = -2; return p; }, 'SOLVER_NEGATIVE_COST', /^boards\[1\]\.latencyMs\.conv2: must be a finite number >= 0, got -2$/],
  ['latency of an unknown node', (p) => { p.boards[0].latencyMs.conv7 = 1; return p; }, 'SOLVER_UNKNOWN_ID', /^boards\[0\]\.latencyMs\.conv7: unknown node "conv7"$/],
  ['energy of an unknown node', (p) => { p.boards[0].energyMj.zz = 1; return p; }, 'SOLVER_UNKNOWN_ID', /^boards\[0\]\.energyMj\.zz: unknown node "zz"$/],
  ['missing latency map', (p) => { delete p.boards[0].latencyMs; return p; }, 'SOLVER_SCHEMA', /^boards\[0\]\.latencyMs: is required$/],
  ['duplicate board id', (p) => { p.boards[1].id = 'jetson'; return p; }, 'SOLVER_DUPLICATE_ID', /^boards\[1\]\.id: duplicate board id "jetson"$/],
  ['negative board memory', (p) => { p.boards[0].memoryBytes = -3; return p; }, 'SOLVER_NEGATIVE_COST', /^boards\[0\]\.memoryBytes: must be a finite number >= 0, got -3$/],
  ['link to an unknown board', (p) => { p.links[0].to = 'tpu'; return p; }, 'SOLVER_UNKNOWN_ID', /^links\[0\]\.to: unknown board "tpu"$/],
  ['link to itself', (p) => { p.links[0].to = 'jetson'; return p; }, 'SOLVER_SCHEMA', /^links\[0\]\.to: a link must join two different boards/],
  ['duplicate link', (p) => { p.links[1] = { ...p.links[0] }; return p; }, 'SOLVER_DUPLICATE_ID', /^links\[1\]: second link "jetson" -> "rpi"$/],
  ['zero bandwidth', (p) => { p.links[0].bandwidthBytesPerSec = 0; return p; }, 'SOLVER_NEGATIVE_COST', /^links\[0\]\.bandwidthBytesPerSec: must be a finite number > 0, got 0$/],
  ['bad framing', (p) => { p.links[0].framing = 'wifi'; return p; }, 'SOLVER_SCHEMA', /^links\[0\]\.framing: must be one of none, ethernet, got "wifi"$/],
  ['unknown input board', (p) => ({ ...p, inputBoard: 'tpu' }), 'SOLVER_UNKNOWN_ID', /^inputBoard: unknown board "tpu"$/],
  ['bad objective', (p) => ({ ...p, objective: 'speed' }), 'SOLVER_SCHEMA', /^objective: must be one of throughput, latency, energy, got "speed"$/],
  ['bad board order', (p) => ({ ...p, boardOrder: 'random' }), 'SOLVER_SCHEMA', /^boardOrder: must be one of fixed, free, got "random"$/],
  ['unknown constraint', (p) => ({ ...p, constraints: { maxPowerW: 3 } }), 'SOLVER_SCHEMA', /^constraints\.maxPowerW: unknown field/],
  ['constraint not a number', (p) => ({ ...p, constraints: { maxLatencyMs: 'fast' } }), 'SOLVER_SCHEMA', /^constraints\.maxLatencyMs: must be a finite number, got "fast"$/],
  ['negative constraint', (p) => ({ ...p, constraints: { maxEnergyMj: -1 } }), 'SOLVER_CONTRADICTORY_CONSTRAINTS', /^constraints\.maxEnergyMj: must be >= 0 \(no plan can meet -1\)$/],
  // Finite alone, too large together: GLPK aborts on an infinite coefficient.
  ['negative boundary rate of model outputs', (p) => { p.boards[1].boundary = { fixedMs: 0, inMsPerByte: 0, outMsPerByte: 0, outputMsPerByte: -1e-6 }; return p; }, 'SOLVER_NEGATIVE_COST', /^boards\[1\]\.boundary\.outputMsPerByte: must be a finite number >= 0, got -0\.000001$/],
  ['negative boundary rate of model inputs', (p) => { p.boards[0].boundary = { fixedMs: 0, inMsPerByte: 0, outMsPerByte: 0, inputMsPerByte: -2e-6 }; return p; }, 'SOLVER_NEGATIVE_COST', /^boards\[0\]\.boundary\.inputMsPerByte: must be a finite number >= 0, got -0\.000002$/],
  ['boundary rate of model outputs that overflows', (p) => { p.boards[1].boundary = { fixedMs: 0, inMsPerByte: 0, outMsPerByte: 0, outputMsPerByte: 1e308 }; return p; }, 'SOLVER_TOO_LARGE', /^boards\[1\]\.boundary\.outputMsPerByte: the stage boundary over the model's 13447168 bytes of tensors comes to infinity/],
  ['boundary per byte that overflows', (p) => { p.boards[1].boundary = { fixedMs: 0, inMsPerByte: 0, outMsPerByte: 1e308 }; return p; }, 'SOLVER_TOO_LARGE', /^boards\[1\]\.boundary\.outMsPerByte: the stage boundary over the model's 13447168 bytes of tensors comes to infinity, more than the 1e\+100 the solver takes; check the units$/],
  ['latencies that add up past the limit', (p) => { p.boards[0].latencyMs.conv1 = 1e100; p.boards[0].latencyMs.conv2 = 1e100; return p; }, 'SOLVER_TOO_LARGE', /^boards\[0\]\.latencyMs: the nodes' latency comes to 2\.00e\+100, more than/],
  ['energies that overflow', (p) => { p.boards[1].energyMj.conv1 = 1.7e308; p.boards[1].energyMj.conv2 = 1.7e308; return p; }, 'SOLVER_TOO_LARGE', /^boards\[1\]\.energyMj: the nodes' energy comes to infinity/],
  ['a link too slow to price', (p) => { p.links[1].bandwidthBytesPerSec = 1e-300; return p; }, 'SOLVER_TOO_LARGE', /^links\[1\]: a transfer of the model's tensors comes to infinity/],
  ['tensor sizes that overflow', (p) => { p.tensors[1].bytes = 1.7e308; p.tensors[2].bytes = 1.7e308; return p; }, 'SOLVER_TOO_LARGE', /^tensors: the tensors' bytes comes to infinity/],
];

describe('parseProblem', () => {
  it('accepts the issue\'s example and returns the same data', () => {
    expect(parseProblem(tinyJson())).toEqual(tinyProblem());
  });

  it.each(BAD)('%s -> %s', (_name, mutate, code, message) => {
    const input = mutate(tinyJson());
    let err: unknown;
    try {
      parseProblem(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SolverError);
    expect((err as SolverError).code).toBe(code);
    expect((err as SolverError).message).toMatch(message);
    expect((err as SolverError).message).not.toContain('\n');
  });

  it('refuses too large a problem built in code too, before GLPK sees it: solve and evaluatePlan', async () => {
    const p = tinyProblem();
    const big = { ...p, boards: [p.boards[0]!, { ...p.boards[1]!, boundary: { fixedMs: 0, inMsPerByte: 1e308, outMsPerByte: 0 } }] };
    for (const objective of ['throughput', 'latency', 'energy'] as const) {
      await expect(solve(big, { objective })).rejects.toMatchObject({ code: 'SOLVER_TOO_LARGE', field: 'boards[1].boundary.inMsPerByte' });
    }
    expect(() => evaluatePlan(big, [{ board: 'jetson', nodes: ['conv1', 'relu1', 'conv2', 'add3'] }])).toThrow(/^boards\[1\]\.boundary\.inMsPerByte: /);
    // The limit is far above any real cost: a board a million times slower than the jetson is solved.
    const slow = { ...p, boards: [p.boards[0]!, { ...p.boards[1]!, latencyMs: Object.fromEntries(Object.entries(p.boards[1]!.latencyMs).map(([k, v]) => [k, v * 1e6])) }] };
    await expect(solve(slow, { objective: 'latency' })).resolves.toMatchObject({ status: 'optimal' });
  });

  it('names the source file in the message', () => {
    const p = tinyJson();
    (p.boards as Json[])[1]!.latencyMs.conv2 = -2;
    expect(() => parseProblem(p, 'p.json')).toThrow('p.json: boards[1].latencyMs.conv2: must be a finite number >= 0, got -2');
  });

  it('exports a JSON Schema with the same required fields', () => {
    expect(problemSchema.required).toEqual(['version', 'nodes', 'tensors', 'boards', 'links', 'inputBoard', 'objective', 'boardOrder']);
    expect(problemSchema.properties.version).toEqual({ const: 1 });
  });
});

describe('problemSchema under a JSON Schema validator (ajv, draft 2020-12)', () => {
  it('accepts the example and rejects what the schema can see', async () => {
    type AjvClass = new (o: { strict: boolean }) => { compile(schema: object): (data: unknown) => boolean };
    const { default: Ajv2020 } = (await import('ajv/dist/2020.js')) as unknown as { default: AjvClass };
    const ajv = new Ajv2020({ strict: false });
    const validate = ajv.compile(problemSchema);
    expect(validate(tinyJson())).toBe(true);
    expect(validate({ ...tinyJson(), version: 2 })).toBe(false);
    const bad = tinyJson();
    (bad.links as Json[])[0]!.framing = 'wifi';
    expect(validate(bad)).toBe(false);
  });
});
