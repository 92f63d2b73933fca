// dnnpart accuracy through main(): a zoo model, a plan file, real onnxruntime; its bad inputs.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { run } from './_run.js';

let dir: string;
let nodes: string[];
let k: number;
const cut = '/features/features.5/MaxPool'; // squeezenet1_1 64x64: one [1,128,7,7] tensor crosses

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-accuracy-'));
  const r = await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '-o', 'sq.onnx'], { cwd: dir });
  expect(r.code).toBe(0);
  nodes = (await loadModel(path.join(dir, 'sq.onnx'))).graph.nodes.map((n) => n.name);
  k = nodes.indexOf(cut) + 1;
  expect(k).toBeGreaterThan(0);
  const plan = { status: 'optimal', stages: [{ board: 'pi', nodes: nodes.slice(0, k) }, { board: 'orin', nodes: nodes.slice(k) }] };
  writeFileSync(path.join(dir, 'plan.json'), JSON.stringify(plan));
  mkdirSync(path.join(dir, 'empty'));
  writeFileSync(path.join(dir, 'short-plan.json'), JSON.stringify({ stages: [{ board: 'pi', nodes: nodes.slice(0, k) }] }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('accuracy', () => {
  it('--plan with per-board precision and int8 transfers: --json has the figures', async () => {
    const r = await run(['accuracy', '--model', 'sq.onnx', '--plan', 'plan.json', '--transfer', 'int8', '--stage-precision', 'pi=fp16,orin=int8', '--samples', '6', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.boards).toEqual(['pi', 'orin']);
    expect(j.samples).toBe(6);
    expect(j.stages.map((s: { precision: string }) => s.precision)).toEqual(['fp16', 'int8']);
    // One [1,128,7,7] float tensor crosses: 25088 bytes as fp32, a quarter plus scale and zero point as int8.
    expect(j.fp32TransferBytes).toBe(128 * 7 * 7 * 4);
    expect(j.transferBytes).toBe(128 * 7 * 7 + 5);
    expect(j.cosine).toBeGreaterThan(0.999);
    expect(j.sqnrDb).toBeGreaterThan(25);
    expect(j.top1Agreement).toBeGreaterThanOrEqual(0);
    expect(j.top5Agreement).toBeGreaterThanOrEqual(j.top1Agreement);
    expect(j.top1Interval).toHaveLength(2);
    expect(j.classesPer).toBe('row');
    expect(r.stderr).toContain('warning: top-1 agreement');
  });

  it("rounds the model inputs too when the plan sends them over a link to its first stage", async () => {
    const plan = JSON.parse(readFileSync(path.join(dir, 'plan.json'), 'utf8'));
    writeFileSync(path.join(dir, 'cam-plan.json'), JSON.stringify({ ...plan, transfers: [{ from: 'cam', to: 'pi', bytes: 1, ms: 1 }, { from: 'pi', to: 'orin', bytes: 1, ms: 1 }] }));
    const score = async (file: string) => JSON.parse((await run(['accuracy', '--model', 'sq.onnx', '--plan', file, '--transfer', 'int8', '--samples', '4', '--json'], { cwd: dir })).stdout);
    const [onBoard, crossing] = [await score('plan.json'), await score('cam-plan.json')];
    // The same cut and bytes between stages; the inputs' own rounding on top.
    expect(crossing.transferBytes).toBe(onBoard.transferBytes);
    expect(crossing.sqnrDb).toBeLessThan(onBoard.sqnrDb);
    expect([crossing.inputTransfer, onBoard.inputTransfer]).toEqual(['int8', undefined]);
    const text = await run(['accuracy', '--model', 'sq.onnx', '--plan', 'cam-plan.json', '--transfer', 'int8', '--samples', '2'], { cwd: dir });
    expect(text.stdout).toContain('; the model inputs rounded as int8 too, as the plan sends them over a link to its first stage');
  });

  it('--split-after with fp16 transfers prints a table', async () => {
    const r = await run(['accuracy', '--model', 'sq.onnx', '--split-after', cut, '--transfer', 'fp16', '--samples', '2'], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('transfers: 12.5 kB per inference (50.0% less than fp32\'s 25.1 kB)');
    expect(r.stdout).toMatch(/^ +0 +stage0 +\d+ +fp32 +— +— +12\.5 kB fp16 +25\.1 kB +0$/m);
    // Generated inputs say what they are, and how to score real ones.
    expect(r.stdout.split('\n')[0]).toMatch(/, 2 generated sample\(s\) \(uniform noise in \[-1, 1\]; --data <dir> scores your own inputs\)$/);
  });

  it('--time times each stage here at fp32 and at its precision (figures present, not judged)', async () => {
    const r = await run(['accuracy', '--model', 'sq.onnx', '--split-after', cut, '--stage-precision', 'int8,fp32', '--samples', '1', '--time', '--threads', '1', '--json'], { cwd: dir });
    expect(r.code).toBe(0);
    const [s0, s1] = JSON.parse(r.stdout).stages;
    expect(s0.timing).toEqual({ fp32Ms: expect.any(Number), ms: expect.any(Number), runs: 10, threads: 1 });
    expect(s0.timing.ms).toBeGreaterThan(0);
    // An fp32 stage is timed once: both figures are the same measurement.
    expect(s1.timing.ms).toBe(s1.timing.fp32Ms);
  });

  it.each([
    [['--plan', 'plan.json', '--split-after', cut], 'dnnpart: give --plan or --split-after, not both'],
    [[], 'dnnpart: accuracy needs --plan <plan.json> or --split-after <node>[,<node>...] (see dnnpart accuracy --help)'],
    [['--plan', 'short-plan.json'], () => `dnnpart: --plan short-plan.json: the stages cover ${k} of the ${nodes.length} nodes of sq.onnx; missing "${nodes[k]}"`],
    [['--plan', 'missing.json'], 'dnnpart: --plan missing.json: plan file not found'],
    [['--plan', 'plan.json', '--stage-precision', 'jetson=int8'], 'dnnpart: --stage-precision: no board "jetson" in the plan (boards: pi, orin)'],
    [['--split-after', cut, '--stage-precision', 'int4'], 'dnnpart: --stage-precision: "int4" is not a precision; use fp32, fp16 or int8'],
    [['--split-after', cut, '--stage-precision', 'int8,int8,int8'], 'dnnpart: --stage-precision: 3 precisions for 2 stages'],
    [['--split-after', 'nope'], 'dnnpart: --after nope: no node of that name'],
    [['--split-after', cut, '--data', 'nowhere'], 'dnnpart: --data nowhere: not a directory'],
    [['--split-after', cut, '--calibration', 'empty'], 'dnnpart: --calibration empty: no .npy, .png, .jpg or .jpeg files'],
    [['--split-after', cut, '--samples', '0'], 'dnnpart: --samples 0: give a whole number of at least 1'],
    [['--split-after', cut, '--time', '--threads', '0'], 'dnnpart: --threads 0: give a whole number of at least 1'],
  ] as [string[], string | (() => string)][])('%j exits 2 with one line', async (args, message) => {
    const r = await run(['accuracy', '--model', 'sq.onnx', ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.startsWith('dnnpart:'))).toHaveLength(1);
    expect(r.stderr).toContain(typeof message === 'function' ? message() : message);
    expect(r.stderr).not.toContain('    at ');
  });
});
