// evaluatePlan: the semantics on a hand-computed example, and each invalid plan's error.

import { describe, expect, it } from 'vitest';
import { evaluatePlan, type Problem } from '../src/index.js';
import { tinyProblem } from './_fixtures.js';

const eth = (b: number) => Math.max(b, 46) + Math.ceil(b / 1500) * 26;

describe('evaluatePlan', () => {
  it('one board holding the input: no transfers', () => {
    const m = evaluatePlan(tinyProblem(), [{ board: 'jetson', nodes: ['conv1', 'relu1', 'conv2', 'add3'] }]);
    expect(m.latencyMs).toBeCloseTo(2.5, 12);
    expect(m.energyMj).toBeCloseTo(1.8, 12);
    expect(m.throughputFps).toBeCloseTo(400, 9);
    expect(m.transfers).toEqual([]);
    expect(m.bottleneck).toBe('jetson');
    expect(m.stages[0]).toMatchObject({ board: 'jetson', memoryBytes: 74496 });
  });

  it('a stage needs its weights plus the largest activationBytes among its nodes; caps count both', () => {
    const acts: Record<string, number> = { conv1: 1000, relu1: 5000, conv2: 3000, add3: 2000 };
    const p: Problem = { ...tinyProblem(), nodes: tinyProblem().nodes.map((x) => ({ ...x, activationBytes: acts[x.id]! })) };
    const one = evaluatePlan(p, [{ board: 'jetson', nodes: ['conv1', 'relu1', 'conv2', 'add3'] }]);
    expect(one.stages[0]!.memoryBytes).toBe(74496 + 5000);
    const two = evaluatePlan(p, [{ board: 'jetson', nodes: ['conv1', 'relu1'] }, { board: 'rpi', nodes: ['conv2', 'add3'] }]);
    expect(two.stages.map((s) => s.memoryBytes)).toEqual([37632 + 5000, 36864 + 3000]);
    // A cap between the weights and weights plus the peak refuses the stage.
    const capped: Problem = { ...p, boards: p.boards.map((b) => (b.id === 'jetson' ? { ...b, memoryBytes: 74496 + 4999 } : b)) };
    expect(() => evaluatePlan(capped, [{ board: 'jetson', nodes: ['conv1', 'relu1', 'conv2', 'add3'] }])).toThrow(/needs 79496 bytes on "jetson" \(cap 79495\)/);
  });

  it('a skip connection crosses with the main path; ethernet framing; energy = power x time', () => {
    const m = evaluatePlan(tinyProblem(), [
      { board: 'jetson', nodes: ['conv1', 'relu1'] },
      { board: 'rpi', nodes: ['conv2', 'add3'] },
    ]);
    const bytes = 3211264 * 2;
    const ms = 0.05 + (eth(bytes) / 125e6) * 1000;
    expect(m.transfers).toHaveLength(1);
    expect(m.transfers[0]).toMatchObject({ from: 'jetson', to: 'rpi', bytes, tensors: ['t1', 't2'] });
    expect(m.transfers[0]!.ms).toBeCloseTo(ms, 12);
    expect(m.transfers[0]!.energyMj).toBeCloseTo(0.6 * ms, 12);
    expect(m.latencyMs).toBeCloseTo(1.3 + ms + 8.4, 9);
    expect(m.energyMj).toBeCloseTo(0.95 + 0.6 * ms + 3.0, 9);
    expect(m.throughputFps).toBeCloseTo(1000 / ms, 9);
    expect(m.bottleneck).toBe('jetson->rpi');
  });

  it('a tensor is forwarded stage by stage until its last consumer', () => {
    const p: Problem = { ...tinyProblem(), boards: [...tinyProblem().boards, { id: 'pc', memoryBytes: null, latencyMs: { conv1: 1, relu1: 1, conv2: 1, add3: 1 } }],
      links: [...tinyProblem().links, { from: 'rpi', to: 'pc', bandwidthBytesPerSec: 1e9, latencyMs: 0, powerW: 0 }] };
    const m = evaluatePlan(p, [
      { board: 'jetson', nodes: ['conv1'] },
      { board: 'rpi', nodes: ['relu1', 'conv2'] },
      { board: 'pc', nodes: ['add3'] },
    ]);
    expect(m.transfers.map((t) => t.tensors)).toEqual([['t1'], ['t1', 't3']]);
    expect(m.transfers[1]!.ms).toBeCloseTo((3211264 * 2 / 1e9) * 1000, 12);
  });

  it('an input transfer when the first stage is not on the input board', () => {
    const m = evaluatePlan(tinyProblem(), [{ board: 'rpi', nodes: ['conv1', 'relu1', 'conv2', 'add3'] }]);
    const ms = 0.05 + (eth(602112) / 125e6) * 1000;
    expect(m.transfers).toEqual([{ from: 'jetson', to: 'rpi', bytes: 602112, ms, energyMj: 0.6 * ms, tensors: ['x'] }]);
    expect(m.latencyMs).toBeCloseTo(ms + 17.9, 9);
    expect(m.throughputFps).toBeCloseTo(1000 / 17.9, 9);
  });

  it('0 bytes take 0 ms; small payloads are padded to 46 bytes plus one header', () => {
    const base = tinyProblem();
    const p: Problem = { ...base, tensors: base.tensors.map((t) => ({ ...t, bytes: t.id === 't1' || t.id === 't2' ? 5 : t.bytes })) };
    const m = evaluatePlan(p, [{ board: 'jetson', nodes: ['conv1', 'relu1'] }, { board: 'rpi', nodes: ['conv2', 'add3'] }]);
    expect(m.transfers[0]!.ms).toBeCloseTo(0.05 + ((46 + 26) / 125e6) * 1000, 12);
    const z: Problem = { ...base, tensors: base.tensors.map((t) => ({ ...t, bytes: 0 })) };
    const mz = evaluatePlan(z, [{ board: 'jetson', nodes: ['conv1', 'relu1'] }, { board: 'rpi', nodes: ['conv2', 'add3'] }]);
    expect(mz.transfers[0]!.ms).toBe(0);
  });

  const fixed = (): Problem => ({ ...tinyProblem(), boardOrder: 'fixed' });
  const capped = (): Problem => ({ ...tinyProblem(), boards: tinyProblem().boards.map((b) => ({ ...b, memoryBytes: 40000 })) });
  const oneWay = (): Problem => ({ ...tinyProblem(), links: [tinyProblem().links[0]!] });
  const noRelu = (): Problem => ({ ...tinyProblem(), boards: tinyProblem().boards.map((b, i) => (i === 1 ? { ...b, latencyMs: { conv1: 9, conv2: 8, add3: 0.4 } } : b)) });
  const all = ['conv1', 'relu1', 'conv2', 'add3'];
  it.each<[string, () => Problem, { board: string; nodes: string[] }[], RegExp]>([
    ['unknown board', tinyProblem, [{ board: 'tpu', nodes: all }], /stages\[0\]\.board: unknown board "tpu"/],
    ['unknown node', tinyProblem, [{ board: 'jetson', nodes: [...all, 'x9'] }], /stages\[0\]\.nodes\[4\]: unknown node "x9"/],
    ['node twice', tinyProblem, [{ board: 'jetson', nodes: all }, { board: 'rpi', nodes: ['add3'] }], /node "add3" is already in stage 1/],
    ['node missing', tinyProblem, [{ board: 'jetson', nodes: ['conv1', 'relu1', 'conv2'] }], /node "add3" is in no stage/],
    ['runs before its input', tinyProblem, [{ board: 'jetson', nodes: ['conv1', 'conv2', 'add3'] }, { board: 'rpi', nodes: ['relu1'] }], /node "conv2" runs before its input from "relu1"/],
    ['board twice', tinyProblem, [{ board: 'jetson', nodes: ['conv1'] }, { board: 'rpi', nodes: ['relu1'] }, { board: 'jetson', nodes: ['conv2', 'add3'] }], /board "jetson" appears in two stages/],
    ['fixed order broken', fixed, [{ board: 'rpi', nodes: ['conv1'] }, { board: 'jetson', nodes: ['relu1', 'conv2', 'add3'] }], /board order is fixed: "jetson" cannot follow "rpi"/],
    ['empty stage', tinyProblem, [{ board: 'jetson', nodes: all }, { board: 'rpi', nodes: [] }], /stage 2 on "rpi" has no nodes/],
    ['no link', oneWay, [{ board: 'rpi', nodes: ['conv1'] }, { board: 'jetson', nodes: ['relu1', 'conv2', 'add3'] }], /no link from "rpi" to "jetson"/],
    ['memory cap', capped, [{ board: 'jetson', nodes: all }], /stage 1 needs 74496 bytes on "jetson" \(cap 40000\)/],
    ['unsupported node', noRelu, [{ board: 'rpi', nodes: all }], /board "rpi" cannot run node "relu1"/],
  ])('%s -> SOLVER_BAD_PLAN', (_n, problem, stages, msg) => {
    expect(() => evaluatePlan(problem(), stages)).toThrow(msg);
    try {
      evaluatePlan(problem(), stages);
    } catch (e) {
      expect((e as { code: string }).code).toBe('SOLVER_BAD_PLAN');
    }
  });
});
