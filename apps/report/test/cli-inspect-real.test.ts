// `dnnpart inspect` on real exported models (npm packages): what loading folded, in text and
// --json, and the scalar-input forms of --input with their errors.
import { describe, expect, it } from 'vitest';
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

  it('every real model inspects without a warning on stderr', async () => {
    for (const m of externalModels()) {
      if (!present(m)) continue;
      const r = await run(['inspect', m.file, ...inputArgs(m, false), '-q']);
      expect(r, m.name).toEqual({ code: 0, stdout: '', stderr: '' });
    }
  });
});
