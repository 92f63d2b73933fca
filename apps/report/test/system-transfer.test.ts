// System files' `transfer` (global and per link) and fidelity constraints: tensor bytes and link
// bandwidths of the solver problem follow the encoding; minCosine stays out of the solver's constraints.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProblem } from '@dnnpart/solver';
import { buildProblem, loadSystem, resolveSystem, SystemError } from '@dnnpart/report';
import { run } from './_run.js';

let dir: string;
const system = (name: string, lines: string[]) => {
  const file = path.join(dir, name);
  writeFileSync(file, ['version: 1', 'model: { file: sq.onnx }', 'boards:', '  - { id: pi, describe: raspberry-pi-5 }', '  - { id: orin, describe: jetson-orin-nano }', ...lines].join('\n'));
  return file;
};
const build = async (name: string, lines: string[]) => {
  const spec = loadSystem(system(name, lines), name);
  return { spec, ...buildProblem(await resolveSystem(spec, { workDir: path.join(dir, 'work') })) };
};

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-transfer-'));
  expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x32x32', '-o', 'sq.onnx'], { cwd: dir })).code).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('transfer', () => {
  it.each([
    ['fp16', (b: number) => b / 2],
    ['int8', (b: number) => b / 4 + 5],
  ])('%s: every float tensor\'s bytes follow the encoding', async (enc, want) => {
    const base = await build('fp32.yaml', ['network: ethernet-1000base-t']);
    const coded = await build(`${enc}.yaml`, ['network: ethernet-1000base-t', `transfer: ${enc}`]);
    expect(base.spec.transfer).toBe('fp32');
    expect(coded.spec.transfer).toBe(enc);
    expect(coded.problem.tensors.length).toBe(base.problem.tensors.length);
    coded.problem.tensors.forEach((t, i) => expect(t.bytes).toBe(want(base.problem.tensors[i]!.bytes)));
    expect(coded.problem.links).toEqual(base.problem.links);
    parseProblem(JSON.parse(JSON.stringify(coded.problem)), 'coded');
  });

  it('a link\'s own transfer scales its bandwidth (int8 on pi->orin: 4x the bytes per second of fp32)', async () => {
    const b = await build('link.yaml', ['links:', '  - { from: pi, to: orin, link: ethernet-1000base-t, transfer: int8 }', '  - { from: orin, to: pi, link: ethernet-1000base-t }']);
    const base = await build('link0.yaml', ['links:', '  - { from: pi, to: orin, link: ethernet-1000base-t }', '  - { from: orin, to: pi, link: ethernet-1000base-t }']);
    const bw = (p: typeof b.problem, from: string) => p.links.find((l) => l.from === from)!.bandwidthBytesPerSec;
    expect(bw(b.problem, 'pi')).toBe(4 * bw(base.problem, 'pi'));
    expect(bw(b.problem, 'orin')).toBe(bw(base.problem, 'orin'));
    expect(b.spec.links[0]!.transfer).toBe('int8');
    // Its encoding's time is not in the stages' (one boundary per board): said, naming the link.
    expect(b.warnings).toContain("link pi -> orin (int8) has its own transfer encoding: priced in its bytes, but not the time encoding and decoding take on the boards (only the system's transfer, fp32, is in the stages' times)");
    expect(base.warnings.filter((w) => /own transfer encoding/.test(w))).toEqual([]);
  });
});

describe('board precision', () => {
  const withPi = (name: string, precision: string) => {
    writeFileSync(path.join(dir, name), ['version: 1', 'model: { file: sq.onnx }', 'boards:', `  - { id: pi, describe: raspberry-pi-5, precision: ${precision} }`, '  - { id: orin, describe: jetson-orin-nano }', 'network: ethernet-1000base-t'].join('\n'));
    return loadSystem(path.join(dir, name), name);
  };
  const sum = (p: { boards: readonly { id: string; latencyMs: Readonly<Record<string, number>> }[] }, id: string) => Object.values(p.boards.find((b) => b.id === id)!.latencyMs).reduce((x, y) => x + y, 0);

  it('an analytic board\'s latency follows its precision (int8 on the Pi: less time than its default fp32)', async () => {
    const base = await build('p32.yaml', ['network: ethernet-1000base-t']);
    const spec = withPi('p8.yaml', 'int8');
    expect(spec.boards[0]!.precision).toBe('int8');
    const pi8 = buildProblem(await resolveSystem(spec, { workDir: path.join(dir, 'work') }));
    expect(sum(pi8.problem, 'pi')).toBeLessThan(sum(base.problem, 'pi'));
    expect(sum(pi8.problem, 'orin')).toBe(sum(base.problem, 'orin'));
  });

  it('a precision the description has no peak rate for is refused', async () => {
    await expect(resolveSystem(withPi('p16.yaml', 'int16'), { workDir: path.join(dir, 'work') })).rejects.toThrow(/^p16\.yaml:4: boards\[0\]\.describe: .*raspberry-pi-5\.yaml: field peakGops\.int16 is missing; the board has fp32, fp16, int8$/);
  });
});

describe('fidelity constraints', () => {
  it('are kept beside the solver\'s constraints, not in them', async () => {
    const b = await build('fid.yaml', ['network: ethernet-1000base-t', 'constraints: { maxLatencyMs: 100, minCosine: 0.999, minTop1Agreement: 0.95 }']);
    expect(b.spec.fidelity).toEqual({ minCosine: 0.999, minTop1Agreement: 0.95 });
    expect(b.problem.constraints).toEqual({ maxLatencyMs: 100 });
  });

  it.each([
    ['t1.yaml', 'transfer: int4', /^t1\.yaml:7: transfer: must be one of fp32, fp16, int8/],
    ['t2.yaml', 'constraints: { minCosine: 1.5 }', /^t2\.yaml:7: constraints\.minCosine: must be <= 1/],
    ['t3.yaml', 'constraints: { minTop1Agreement: -0.1 }', /^t3\.yaml:7: constraints\.minTop1Agreement: must be >= 0/],
  ])('%s: %s is refused naming the line and field', (name, line, message) => {
    let err: unknown;
    try {
      loadSystem(system(name, ['network: ethernet-1000base-t', line]), name);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemError);
    expect((err as Error).message).toMatch(message);
  });
});
