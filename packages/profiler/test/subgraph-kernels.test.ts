// Kernels that run inside an If/Loop (ORT times a branch's kernels within the span of the node that
// runs them): they belong to that node, whose time already includes them. Before, a real model with
// an If (Silero VAD v4 with its sample rate left free, openWakeWord's "hey jarvis" verifier) was
// profiled with a warning that dozens of kernels "map to no original node".
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { profileModel } from '@dnnpart/profiler';
import { findExternalModel } from '@dnnpart/zoo';
import { parseTrace } from '../src/_trace.js';

const ev = (name: string, ts: number, dur: number, tid = 1, op = 'Gemm') => ({ cat: 'Node', name: `${name}_kernel_time`, ts, dur, tid, ph: 'X', args: { op_name: op, provider: 'CPUExecutionProvider' } });
const run = (ts: number, dur: number) => ({ cat: 'Session', name: 'model_run', ts, dur, ph: 'X' });

interface Case {
  readonly what: string;
  readonly events: readonly { readonly name: string }[];
  readonly kernels: Record<string, number>;
  readonly nested: Record<string, string>;
  /** Execution order when it is not the events' order. */
  readonly order?: readonly string[];
}

describe('parseTrace: kernels inside another kernel', () => {
  it.each<Case>([
    {
      what: 'two branch kernels inside an If, then the next top-level kernel at its end',
      events: [run(0, 400), ev('eq', 10, 5, 1, 'Equal'), ev('if', 100, 100, 1, 'If'), ev('g1', 110, 20), ev('g2', 150, 40), ev('out', 200, 10, 1, 'Relu')],
      kernels: { eq: 0.005, if: 0.1, out: 0.01 },
      nested: { g1: 'if', g2: 'if' },
    },
    {
      what: 'a branch kernel whose truncated end passes its parent\'s by 1 µs',
      events: [run(0, 400), ev('if', 100, 100, 1, 'If'), ev('g1', 180, 21)],
      kernels: { if: 0.1 },
      nested: { g1: 'if' },
    },
    {
      what: 'an overlapping kernel on another thread (parallel executor) is its own',
      events: [run(0, 400), ev('a', 100, 100, 1, 'Loop'), ev('b', 150, 20, 2)],
      kernels: { a: 0.1, b: 0.02 },
      nested: {},
    },
    {
      what: 'a branch kernel starting in the If\'s µs, written before it as ORT does',
      events: [run(0, 400), ev('g1', 100, 20), ev('if', 100, 100, 1, 'If'), ev('out', 200, 10)],
      kernels: { if: 0.1, out: 0.01 },
      nested: { g1: 'if' },
      order: ['if', 'g1', 'out'],
    },
    {
      what: 'a Loop inside an If: both bodies belong to the If',
      events: [run(0, 400), ev('if', 100, 100, 1, 'If'), ev('loop', 110, 50, 1, 'Loop'), ev('body', 120, 10)],
      kernels: { if: 0.1 },
      nested: { loop: 'if', body: 'if' },
    },
    {
      what: 'back-to-back kernels, zero-length ones included',
      events: [run(0, 400), ev('a', 100, 0), ev('b', 100, 50), ev('c', 150, 0), ev('d', 150, 10)],
      kernels: { a: 0, b: 0.05, c: 0, d: 0.01 },
      nested: {},
    },
  ])('$what', ({ events, kernels, nested, order }) => {
    const t = parseTrace(events, 'ort.json');
    expect(Object.fromEntries(t.runs[0]!.kernels)).toEqual(kernels);
    expect([...t.kernelInfo.keys()].sort()).toEqual(Object.keys(kernels).sort());
    expect(Object.fromEntries([...t.nested].map(([k, v]) => [k, v.within]))).toEqual(nested);
    // The timeline keeps every span, the nested ones marked with their parent.
    const names = order ?? events.slice(1).map((e) => e.name.slice(0, -'_kernel_time'.length));
    expect(t.timeline[0]!.spans.map((s) => [s.kernel, s.within])).toEqual(names.map((k) => [k, nested[k]]));
  });
});

describe('profiling a real model whose work is inside an If', () => {
  const m = findExternalModel('silero-vad-v4')!;
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnnpart-subgraph-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('silero-vad-v4 with sr free: the If owns its branch kernels, none is unattributed', async () => {
    if (!m.available) {
      if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
      console.warn(`skipped ${m.name}: ${m.source.package} is not installed`);
      return;
    }
    // Without a value for sr the If cannot fold: the file's 2 top-level nodes stay.
    const inputShapes = { input: [1, 512], sr: [], h: [2, 1, 64], c: [2, 1, 64] };
    const { graph, proto } = await loadModel(m.file, { inputShapes });
    expect(graph.nodes.map((n) => n.op)).toEqual(['Equal', 'If']);
    const ifNode = graph.nodes[1]!.name;
    const branchNodes = new Set<string>();
    const collect = (g: NonNullable<typeof proto.graph>) => {
      for (const n of g.node) {
        branchNodes.add(n.name);
        for (const a of n.attribute) for (const sub of [...(a.g ? [a.g] : []), ...a.graphs]) collect(sub);
      }
    };
    for (const a of proto.graph!.node[1]!.attribute) if (a.g) collect(a.g);

    const trace = join(dir, 'v4.trace.json');
    const profile = await profileModel(m.file, { board: 'here', inputShapes, runs: 3, warmup: 1, threads: 1, sensor: null, graphOptimizationLevel: 'disabled', trace });
    expect(profile.warnings?.filter((w) => w.includes('map to no original node'))).toEqual([]);
    expect(profile.nodes.map((n) => n.name)).toEqual(graph.nodes.map((n) => n.name));
    expect(profile.fusedNodes ?? []).toEqual([]);

    // The trace shows the branch's kernels inside the If, named by it.
    const spans = (JSON.parse(await readFile(trace, 'utf8')) as { traceEvents: { name: string; cat?: string; args?: { kernel?: string } }[] }).traceEvents.filter((e) => e.cat === 'subgraph');
    const kernels = new Set(spans.map((s) => s.args!.kernel!));
    expect(kernels.size).toBeGreaterThan(40);
    expect([...kernels].filter((k) => !branchNodes.has(k))).toEqual([]);
    expect(spans.every((s) => s.name === `${ifNode} > ${s.args!.kernel}`)).toBe(true);
  });
});
