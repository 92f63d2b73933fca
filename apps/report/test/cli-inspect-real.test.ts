// `dnnpart inspect` on real exported models (npm packages): what loading folded, in text and
// --json, and the scalar-input forms of --input with their errors.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeModel, encodeModel } from '@dnnpart/onnx-graph';
import { externalModels, findExternalModel, type ExternalModel } from '@dnnpart/zoo';
import { run } from './_run.js';

function present(m: ExternalModel): boolean {
  if (m.available) return true;
  if (process.env.CI === 'true') throw new Error(`${m.name}: ${m.source.package}@${m.source.version} is not installed; npm ci installs it`);
  console.warn(`skipped ${m.name}: ${m.source.package}@${m.source.version} is not installed`);
  return false;
}

const inputArgs = (m: ExternalModel, values = true) =>
  Object.entries(m.inputs).flatMap(([k, shape]) => ['--input', `${k}=${shape.join('x')}${values && m.values[k] ? `:${m.values[k]!.join(',')}` : ''}`]);

describe('inspect on real exported models', () => {
  it.each([
    ['paddleocr-cls', 'folded on load: 250 Constant nodes to initializers, 6 shape nodes folded (Cast 3, Concat 1, Shape 1, Slice 1); 215 layers remain (the file has 471 top-level nodes)'],
    ['silero-vad-op18', 'folded on load: 0 Constant nodes to initializers, 3 shape nodes folded (Equal 1, Gather 1, Reshape 1), 1 If node inlined (constant condition); 43 layers remain (the file has 4 top-level nodes)'],
  ])('%s: says what was folded', async (name, line) => {
    const m = findExternalModel(name)!;
    if (!present(m)) return;
    const r = await run(['inspect', m.file, ...inputArgs(m)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[1]).toBe(line);
  });

  it('--json carries the per-pass report and the layer count', async () => {
    const m = findExternalModel('paddleocr-rec')!;
    if (!present(m)) return;
    const r = await run(['inspect', m.file, ...inputArgs(m), '--json']);
    expect(r.code).toBe(0);
    const d = JSON.parse(r.stdout) as { nodes: number; layers: unknown[]; simplified: { nodesBefore: number; nodesAfter: number; constants: number; folded: number; passes: { pass: string; removedNodes: number; removedOps: Record<string, number> }[] } };
    expect(d.nodes).toBe(403);
    expect(d.layers).toHaveLength(403);
    expect(d.simplified).toMatchObject({ nodesBefore: 765, nodesAfter: 403, constants: 325, folded: 37 });
    expect(d.simplified.passes.map((p) => p.pass)).toEqual(['inline-functions', 'constants', 'fold-values', 'fold-initializer-ops', 'inline-if', 'identities', 'dequantize-columns', 'dead-nodes']);
    expect(d.simplified.passes[2]).toMatchObject({ removedNodes: 37, removedOps: { Shape: 4, Cast: 23, Slice: 4, Concat: 6 } });
  });

  it.each([
    // A scalar given as a 1-D shape: the message says how to give a scalar and its value.
    ['1x576', 'sr=16000', 2, 'dnnpart: --input sr=16000: input sr is a scalar (rank 0); give --input sr= for its shape, or --input sr=:<value> (e.g. sr=:16000) to fix its value\n'],
    ['1x576', 'sr=:1,2', 2, 'dnnpart: --input sr=:1,2: after ":" give 1 number separated by commas for shape [], e.g. --input sr=:1\n'],
    ['1x576', 'sr=', 0, ''],
    ['1x288', 'sr=:8000', 0, ''],
  ])('silero-vad with --input input=%s --input %s exits %i', async (shape, spec, code, stderr) => {
    const m = findExternalModel('silero-vad')!;
    if (!present(m)) return;
    const r = await run(['inspect', m.file, '--input', `input=${shape}`, '--input', 'state=2x1x128', '--input', spec, '-q']);
    expect(r).toEqual({ code, stdout: '', stderr });
  });

  it('a sample rate whose branch cannot take the input names the node that fails', async () => {
    const m = findExternalModel('silero-vad')!;
    if (!present(m)) return;
    const r = await run(['inspect', m.file, '--input', 'input=1x576', '--input', 'state=2x1x128', '--input', 'sr=:8000']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^dnnpart: \S*silero_vad\.onnx: node If_0 \(If\) else_branch: .*node \S+\/decoder\/rnn\/LSTM \(LSTM\): X rank 5 and W rank 3, expected 3 and 3\n$/);
  });

  it('a file that declares its output wrongly loads with one warning naming the tensor, and every command takes it', async () => {
    // ddddocr's recognizer as a static export would write it: input fixed at 1x1x64x256, its
    // [32, 1, 8210] output declared [1, 32]. onnxruntime warns and runs it; dnnpart refused it.
    const m = findExternalModel('ddddocr-rec')!;
    if (!present(m)) return;
    const proto = decodeModel(readFileSync(m.file), m.file);
    const g = proto.graph!;
    g.input[0]!.type!.value.value!.shape!.dim[3]!.value = { case: 'dimValue', value: 256n };
    g.output[0]!.type!.value.value!.shape!.dim[1]!.value = { case: 'dimValue', value: 32n };
    const dir = mkdtempSync(join(tmpdir(), 'misdeclared-'));
    const file = join(dir, 'rec-static.onnx');
    writeFileSync(file, encodeModel(proto));
    const r = await run(['inspect', file]);
    expect(r.stderr).toBe('warning: tensor 387 (node Reshape_101) is declared float32[1,32] in the file but onnxruntime computes float32[32,1,8210]; using float32[32,1,8210]\n');
    expect(r.code).toBe(0);
    const j = JSON.parse((await run(['inspect', file, '--json'])).stdout) as { outputs: { shape: number[] }[]; shapeMismatches: { message: string }[] };
    expect(j.outputs[0]!.shape).toEqual([32, 1, 8210]);
    expect(j.shapeMismatches).toEqual([{ tensor: '387', node: 'Reshape_101', declared: 'float32[1,32]', computed: 'float32[32,1,8210]', inferenceAgreed: true, message: r.stderr.slice('warning: '.length, -1) }]);
    const split = await run(['split', file, '--after', 'Add_12', '-o', join(dir, 'stages'), '-q']);
    expect(split).toEqual({ code: 0, stdout: '', stderr: '' });
    // The profile keeps the warning with its figures.
    const profile = await run(['profile', file, '--board', 'here', '--runs', '2', '-o', join(dir, 'here.json'), '-q']);
    expect(profile.code).toBe(0);
    // (Beside any other warning of the run, such as the machine's load.)
    expect((JSON.parse(readFileSync(join(dir, 'here.json'), 'utf8')) as { warnings: string[] }).warnings).toContain(j.shapeMismatches[0]!.message);
  });

  it('every real model at its table values inspects without a warning, but for the output ddddocr declares wrongly', async () => {
    // Both recognizers declare their [32, 1, 8210] output [1, seqlen]: a rank onnxruntime does not compute.
    const warned: Record<string, string> = {
      'ddddocr-rec': 'warning: tensor 387 (node Reshape_101) is declared float32[1,seqlen] in the file but onnxruntime computes float32[32,1,8210]; using float32[32,1,8210]\n',
      'ddddocr-rec-int8': 'warning: tensor 387 (node Reshape_226) is declared float32[1,seqlen] in the file but onnxruntime computes float32[32,1,8210]; using float32[32,1,8210]\n',
    };
    for (const m of externalModels()) {
      if (!present(m)) continue;
      const r = await run(['inspect', m.file, ...inputArgs(m)]);
      expect({ code: r.code, stderr: r.stderr }, m.name).toEqual({ code: 0, stderr: warned[m.name] ?? '' });
      // Without the values (a sample rate, a cache flag), only warnings: -q keeps them off stderr.
      expect(await run(['inspect', m.file, ...inputArgs(m, false), '-q']), m.name).toEqual({ code: 0, stdout: '', stderr: '' });
    }
  });
});
