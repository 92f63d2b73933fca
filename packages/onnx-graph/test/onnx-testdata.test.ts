// ONNX's own backend test models (Debian's libonnx-testdata: a model per operator case, the
// "_expanded" function bodies of many-node ops, PyTorch's converted modules and operators, a few small
// graphs; 1,072 in all), each with the inputs of its test: every model loads or is refused with a
// coded one-line error (never an untyped exception), and what the load makes of it (folded,
// specialised to the test's small integer inputs as `--input name=dims:values` would) computes what
// onnxruntime computes on the file as it is, whole and cut in two at up to CUTS positions along the
// node order, stage after stage, each stage file valid to python3-onnx's checker (full check).
// onnxruntime on the file is the reference (dnnpart runs what onnxruntime runs); models it refuses or
// cannot be fed (sequences, optionals, bfloat16) are only loaded.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeModel, graphCosts, loadModel, runModel, splitModel, tensorFromProto, type InputSpec } from '@dnnpart/onnx-graph';
import { checkModels, checkerMissing } from './_checker.js';
import { tensorsAgainstOrt } from './_shapes.js';

const DATA = process.env.ONNX_TESTDATA ?? '/usr/share/libonnx-testdata/data';
const GROUPS = ['node', 'pytorch-converted', 'pytorch-operator', 'simple'] as const;
const CUTS = 6;
/** Integer inputs up to this many elements are given as values (indices, sizes, steps), as a user would. */
const VALUE_ELEMENTS = 16;
/**
 * Ops that draw random numbers (a seed attribute or not, and Dropout in training mode): two sessions
 * agree only as long as onnxruntime seeds them alike, so such models are run, whole and split, but
 * their results are not compared.
 */
const RANDOM_OPS = new Set(['Bernoulli', 'RandomUniform', 'RandomUniformLike', 'RandomNormal', 'RandomNormalLike', 'Multinomial', 'Dropout']);

const present = existsSync(join(DATA, 'node'));
if (!present && process.env.CI === 'true') throw new Error(`${DATA} is missing: install Debian's libonnx-testdata (.ci/run does)`);
if (!present) console.warn(`skipped: ${DATA} is missing (install Debian's libonnx-testdata)`);

/** Outputs agree: same shape, NaN where NaN, floats within 1e-3 relative + 1e-5 absolute. */
function agree(a: ort.Tensor | undefined, b: ort.Tensor | undefined): boolean {
  if (a === undefined || b === undefined || a.dims.join('x') !== b.dims.join('x') || a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) {
    const x = Number(a.data[i]);
    const y = Number(b.data[i]);
    if (x === y || (Number.isNaN(x) && Number.isNaN(y))) continue;
    if (!(Math.abs(x - y) <= 1e-5 + 1e-3 * Math.abs(x))) return false;
  }
  return true;
}

const coded = (e: unknown): e is Error & { code: string } => e instanceof Error && /^[A-Z]+_[A-Z_]+$/.test(String((e as { code?: unknown }).code)) && !e.message.includes('\n');

interface Tally { models: number; loaded: number; refused: number; compared: number; splits: number; problems: string[]; unknownOps: Set<string>; stageFiles: string[]; dir: string }

async function check(dir: string, name: string, t: Tally): Promise<void> {
  t.models++;
  const file = join(dir, 'model.onnx');
  const bad = (what: string) => t.problems.push(`${name}: ${what}`);
  let proto;
  try {
    proto = decodeModel(readFileSync(file), file);
  } catch (e) {
    if (coded(e)) t.refused++;
    else bad(`untyped ${String(e)}`);
    return;
  }
  // The test's inputs, by the graph's (non-initializer) input names in order; tensors only.
  const inits = new Set(proto.graph!.initializer.map((x) => x.name));
  const inputs = proto.graph!.input.filter((i) => !inits.has(i.name));
  const feeds: Record<string, ort.Tensor> = {};
  const set = join(dir, 'test_data_set_0');
  let feedable = existsSync(set) && inputs.every((i) => i.type?.value.case === 'tensorType');
  for (let i = 0; feedable && i < inputs.length; i++) {
    const f = join(set, `input_${i}.pb`);
    const got = existsSync(f) ? tensorFromProto(readFileSync(f), f) : null;
    if (got === null) feedable = false;
    else feeds[inputs[i]!.name] = got.tensor;
  }
  const specs: Record<string, InputSpec> = {};
  for (const [k, v] of Object.entries(feeds)) {
    const small = v.data.length <= VALUE_ELEMENTS && !v.type.startsWith('float');
    specs[k] = small ? { shape: v.dims.map(Number), value: Array.from(v.data as ArrayLike<number | bigint>, Number) } : { shape: v.dims.map(Number) };
  }
  let model;
  try {
    model = await loadModel(file, { inputShapes: specs });
    t.loaded++;
  } catch (e) {
    if (coded(e)) t.refused++;
    else bad(`load: untyped ${String(e)}`);
    return;
  }
  // A shape rule of dnnpart's that onnxruntime's run overruled (the rule refused a node it runs, or agreed
  // with a declaration it contradicts) is a wrong rule.
  for (const m of model.shapeMismatches) if (!m.inferenceAgreed) bad(`shape rule overruled: ${m.message}`);
  // The analytic cost of every node: finite and not negative (ops the cost model does not know count 0, listed).
  const costs = graphCosts(model.graph);
  for (const [node, c] of costs.nodes) {
    for (const [k, v] of Object.entries(c)) if (typeof v === 'number' && !(Number.isFinite(v) && v >= 0)) bad(`cost of node ${node}: ${k} ${v}`);
  }
  for (const op of costs.unknownOps) t.unknownOps.add(op);
  if (!feedable) return;
  let reference: Record<string, ort.Tensor>;
  try {
    reference = await runModel(file, feeds, proto.graph!.output.map((o) => o.name));
  } catch {
    return; // onnxruntime refuses the file itself: nothing to compare with.
  }
  const outputs = model.graph.outputs;
  const random = model.graph.nodes.some((nd) => RANDOM_OPS.has(nd.op));
  const same = (got: Record<string, ort.Tensor>) => random || outputs.every((o) => agree(reference[o], got[o]));
  // The inputs the loaded graph still reads (those given as values are part of it now).
  const live = Object.fromEntries(Object.entries(feeds).filter(([k]) => model.graph.inputs.includes(k)));
  try {
    // Every tensor besides, on the test's input: its type and shape in the graph against the run's.
    const { results, differ } = await tensorsAgainstOrt(model, live);
    if (!same(results)) bad('the loaded model computes another result than the file');
    differ.forEach(bad);
    if (!random) t.compared++;
  } catch (e) {
    bad(`whole: ${coded(e) ? e.code : 'untyped'} ${String(e)}`);
    return;
  }
  const n = model.graph.nodes.length;
  const step = Math.max(1, Math.floor((n - 1) / CUTS));
  for (let k = 1, tried = 0; k < n && tried < CUTS; k += step, tried++) {
    try {
      const split = splitModel(model, { stages: Object.fromEntries(model.graph.nodes.map((nd, i) => [nd.name, i < k ? 0 : 1])) });
      // Every stage file goes to the independent checker too.
      for (const s of split.stages) {
        const f = join(t.dir, `${name}.cut${k}.stage${s.index}.onnx`);
        writeFileSync(f, s.bytes);
        t.stageFiles.push(f);
      }
      const values: Record<string, ort.Tensor> = { ...live };
      for (const s of split.stages) Object.assign(values, await runModel(s.bytes, values, s.outputs));
      if (!same(values)) bad(`cut after ${k} of ${n} layers computes another result`);
      if (!random) t.splits++;
    } catch (e) {
      bad(`cut after ${k} of ${n} layers: ${coded(e) ? e.code : 'untyped'} ${String(e)}`);
    }
  }
}

describe.skipIf(!present)("ONNX's backend test models", () => {
  // Floors: what this package version (1.12) holds and what loads, runs and splits of it today, so
  // that a test that checks nothing cannot pass.
  const floors: Record<(typeof GROUPS)[number], { models: number; compared: number; splits: number }> = {
    // (2026-12-07: 932 / 854 / 538, 82 / 59 / 3, 35 / 24 / 4, 23 / 15 / 0; the rest onnxruntime refuses,
    // mostly kernels of opsets before 7, or cannot be fed, or draws random numbers.)
    node: { models: 900, compared: 840, splits: 500 },
    'pytorch-converted': { models: 80, compared: 55, splits: 3 },
    'pytorch-operator': { models: 30, compared: 20, splits: 3 },
    simple: { models: 20, compared: 12, splits: 0 },
  };
  it.each(GROUPS)('%s: each loads or is refused with a code, and computes as onnxruntime on the file, whole and in two stages', async (group) => {
    const t: Tally = { models: 0, loaded: 0, refused: 0, compared: 0, splits: 0, problems: [], unknownOps: new Set(), stageFiles: [], dir: mkdtempSync(join(tmpdir(), 'dnnpart-onnx-testdata-')) };
    const dir = join(DATA, group);
    try {
      for (const name of readdirSync(dir).sort()) {
        if (existsSync(join(dir, name, 'model.onnx'))) await check(join(dir, name), name, t);
      }
      // python3-onnx's checker (full_check: shapes and types inferred) on every stage file written.
      if (checkerMissing) console.warn(`skipping the ONNX checker: ${checkerMissing}`);
      else if (t.stageFiles.length > 0) expect(checkModels(t.stageFiles)).toBe('');
    } finally {
      rmSync(t.dir, { recursive: true, force: true });
    }
    console.log(`${group}: ${t.models} models, ${t.loaded} loaded, ${t.refused} refused with a code, ${t.compared} computed as onnxruntime on the file, ${t.splits} two-stage splits computed it too (${t.stageFiles.length} stage files to the checker); ops the cost model counts as 0: ${[...t.unknownOps].sort().join(' ') || 'none'}`);
    expect(t.problems).toEqual([]);
    expect(t.loaded + t.refused).toBe(t.models);
    // Every op of these opsets has a cost (the training domain's Gradient aside, which nothing runs).
    expect([...t.unknownOps].filter((op) => !op.startsWith('ai.onnx.preview.training.'))).toEqual([]);
    expect(t.models).toBeGreaterThanOrEqual(floors[group].models);
    expect(t.compared).toBeGreaterThanOrEqual(floors[group].compared);
    expect(t.splits).toBeGreaterThanOrEqual(floors[group].splits);
  }, 300_000);

  it('a window function whose length is an input: without its value, the refusal names the input and the --input to give', async () => {
    const file = join(DATA, 'node', 'test_hannwindow_expanded', 'model.onnx');
    await expect(loadModel(file)).rejects.toMatchObject({
      code: 'GRAPH_SHAPE_INFERENCE',
      message: `${file}: no shape for tensor y, even from an onnxruntime run; the sample input holds zeros in the integer input x: if the model needs other values there, give them with --input, e.g. --input x=:1`,
    });
    const m = await loadModel(file, { inputShapes: { x: { shape: [], value: [10] } } });
    expect(m.graph.tensors.get('y')?.shape).toEqual([10]);
  });
});
