// Every field of a user's file set to every kind of wrong value, or left out: the command either works
// or refuses in one line that starts "dnnpart: " and names the file, with exit 2. Never exit 1 (an
// unexpected failure), a stack trace, or a second line. The files are the ones users write or keep:
// a problem file, a system file, a profile it names, and a plan given to split. Each case is one
// in-process run of the real command (real GLPK, real onnx-graph, real analytic profiles).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { run, type RunResult } from './_run.js';

const fixtures = fileURLToPath(new URL('./fixtures/cli/', import.meta.url));

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Path = readonly (string | number)[];

/** The wrong values a field may get: wrong types, signs, sizes and empties. */
const WRONG: readonly Json[] = [null, -1, 0, 1.5, 'x', '', [], {}, 1e308, true];

/** Every path into a value, the root included; `keep` decides which subtrees are walked. */
function paths(v: Json, keep: (p: Path) => boolean, p: Path = []): Path[] {
  if (!keep(p)) return [];
  const out: Path[] = [p];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, keep, [...p, i])));
  else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) out.push(...paths(v[k]!, keep, [...p, k]));
  return out;
}

/** A copy of `root` with the value at `p` replaced (or removed when `value` is undefined). */
function mutate(root: Json, p: Path, value: Json | undefined): Json | undefined {
  if (p.length === 0) return value;
  const copy = structuredClone(root);
  let at = copy as Record<string | number, Json>;
  for (const k of p.slice(0, -1)) at = at[k] as Record<string | number, Json>;
  const last = p[p.length - 1]!;
  if (value !== undefined) at[last] = value;
  else if (Array.isArray(at)) at.splice(last as number, 1);
  else delete at[last];
  return copy;
}

/** The mutations of one file: each path given each wrong value, and left out. */
function* mutations(base: Json, keep: (p: Path) => boolean): Generator<{ label: string; value: Json | undefined }> {
  for (const p of paths(base, keep)) {
    const where = p.length === 0 ? '(the whole file)' : p.join('.');
    for (const w of WRONG) yield { label: `${where} = ${JSON.stringify(w)}`, value: mutate(base, p, w) };
    if (p.length > 0) yield { label: `${where} left out`, value: mutate(base, p, undefined) };
  }
}

/** What is wrong with a run's outcome, or undefined when it worked or refused properly (naming `file`, or as `alsoFine` says). */
function misbehaviour(r: RunResult, file: string, alsoFine?: RegExp): string | undefined {
  if (r.code === 0) return undefined;
  if (r.code !== 2) return `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  const lines = r.stderr.trimEnd().split('\n').filter((l) => l.startsWith('dnnpart: ') || /^\s+at /.test(l) || l.startsWith('Error'));
  if (lines.length !== 1) return `exit 2 with ${lines.length} error lines: ${r.stderr.trim()}`;
  if (!lines[0]!.includes(path.basename(file)) && !alsoFine?.test(lines[0]!)) return `exit 2 without naming ${path.basename(file)}: ${lines[0]}`;
  return undefined;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'dnnpart-mutations-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs every mutation of `base` written to `file` by `write`, and collects the misbehaviours. */
async function sweep(base: Json, keep: (p: Path) => boolean, file: string, write: (v: Json | undefined) => string, argv: readonly string[], alsoFine?: RegExp): Promise<{ cases: number; bad: string[] }> {
  const bad: string[] = [];
  let cases = 0;
  for (const m of mutations(base, keep)) {
    cases++;
    writeFileSync(file, write(m.value));
    const r = await run(argv, { cwd: dir });
    const wrong = misbehaviour(r, file, alsoFine);
    if (wrong) bad.push(`${m.label}: ${wrong}`);
  }
  return { cases, bad };
}

const asJson = (v: Json | undefined) => (v === undefined ? '' : JSON.stringify(v));
const asYaml = (v: Json | undefined) => (v === undefined ? '' : YAML.stringify(v));

// Each case here is a sweep of 60 to a few hundred CLI runs (report --verify: 88 s on a quiet 2-core
// CI machine, over the global 120 s once that machine was busy): they get 5 minutes each.
describe('every field of a user file, wrong or left out', { timeout: 300_000 }, () => {
  it('a problem file (solve --problem)', async () => {
    const base = JSON.parse(readFileSync(path.join(fixtures, 'tiny.problem.json'), 'utf8')) as Json;
    const file = path.join(dir, 'p.problem.json');
    // One board's and one link's fields stand for the others'.
    const keep = (p: Path) => !((p[0] === 'boards' || p[0] === 'links' || p[0] === 'nodes' || p[0] === 'tensors') && typeof p[1] === 'number' && p[1] > 0);
    const { cases, bad } = await sweep(base, keep, file, asJson, ['solve', '--problem', file, '--json', '-q', '--time-limit', '10']);
    expect(cases).toBeGreaterThan(300);
    expect(bad).toEqual([]);
  });

  it('a system file and the profile it names (solve --system)', async () => {
    // A measured profile of the model, made here, so that the system's first board reads a file.
    const model = path.join(dir, 'sq.onnx');
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '--output', model, '-q'])).code).toBe(0);
    const profile = path.join(dir, 'sq.profile.json');
    const made = await run(['profile', model, '--runs', '2', '--warmup', '1', '--threads', '1', '--board', 'here', '--output', profile, '-q']);
    expect(made.code, made.stderr).toBe(0);

    const system: Json = {
      version: 1,
      name: 'mutations',
      model: { file: model, input: '1x3x64x64' },
      boards: [
        { id: 'here', profile, memoryBytes: 8e9 },
        { id: 'pi', describe: 'raspberry-pi-5' },
      ],
      links: [{ from: 'here', to: 'pi', link: 'ethernet-1000base-t', bidirectional: true }],
      inputBoard: 'here',
      objective: 'throughput',
      boardOrder: 'free',
      constraints: { maxLatencyMs: 100 },
    };
    const sysFile = path.join(dir, 'm.system.yaml');
    const solve = ['solve', '--system', sysFile, '--json', '-q', '--time-limit', '10'];
    const systemSweep = await sweep(system, () => true, sysFile, asYaml, solve);
    expect(systemSweep.cases).toBeGreaterThan(200);
    expect(systemSweep.bad).toEqual([]);

    // The profile: its top-level fields, its settings and boundary, and the first node's fields.
    const prof = JSON.parse(readFileSync(profile, 'utf8')) as Json;
    const profFile = path.join(dir, 'm.profile.json');
    writeFileSync(sysFile, YAML.stringify({ ...(system as object), boards: [{ id: 'here', profile: profFile }, { id: 'pi', describe: 'raspberry-pi-5' }] }));
    const keep = (p: Path) => p.length <= 1 || ['settings', 'boundary', 'endToEnd', 'model', 'board', 'overhead'].includes(p[0] as string) || (p[0] === 'nodes' && p[1] === 0);
    const profileSweep = await sweep(prof, keep, profFile, asJson, solve);
    expect(profileSweep.cases).toBeGreaterThan(200);
    expect(profileSweep.bad).toEqual([]);
  });

  it('a board description and a link description the system names (solve --system)', async () => {
    const root = fileURLToPath(new URL('../../../profiles/', import.meta.url));
    const model = path.join(dir, 'sq-desc.onnx');
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '--output', model, '-q'])).code).toBe(0);
    const sysFile = path.join(dir, 'd.system.yaml');
    const solve = ['solve', '--system', sysFile, '--json', '-q', '--time-limit', '10'];
    const board = path.join(dir, 'm.board.yaml');
    writeFileSync(sysFile, YAML.stringify({ version: 1, model: { file: model, input: '1x3x64x64' }, boards: [{ id: 'a', describe: board }, { id: 'b', describe: 'jetson-orin-nano' }], network: 'ethernet-1000base-t' }));
    // Prose (sources, notes) is free text: its wrong values are the type ones, which the walk still gives it.
    const boards = await sweep(YAML.parse(readFileSync(path.join(root, 'boards', 'raspberry-pi-5.yaml'), 'utf8')) as Json, (p) => p[0] !== 'sources' || p.length < 2, board, asYaml, solve);
    expect(boards.cases).toBeGreaterThan(150);
    expect(boards.bad).toEqual([]);
    const link = path.join(dir, 'm.link.yaml');
    writeFileSync(sysFile, YAML.stringify({ version: 1, model: { file: model, input: '1x3x64x64' }, boards: [{ id: 'a', describe: 'raspberry-pi-5' }, { id: 'b', describe: 'jetson-orin-nano' }], network: link }));
    const links = await sweep(YAML.parse(readFileSync(path.join(root, 'links', 'ethernet-1000base-t.yaml'), 'utf8')) as Json, (p) => p[0] !== 'sources' || p.length < 2, link, asYaml, solve);
    expect(links.cases).toBeGreaterThan(80);
    expect(links.bad).toEqual([]);
  });

  it('a model file with bytes cut off or overwritten (inspect)', async () => {
    const model = path.join(dir, 'sq-bytes.onnx');
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '--output', model, '-q'])).code).toBe(0);
    const base = readFileSync(model);
    const file = path.join(dir, 'm.onnx');
    // A fixed pseudo-random sequence: the same cases every run.
    let seed = 12345;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bad: string[] = [];
    for (let i = 0; i < 48; i++) {
      const b = Buffer.from(base);
      let bytes: Buffer = b;
      if (i % 3 === 0) bytes = b.subarray(0, Math.floor(rnd() * b.length));
      else if (i % 3 === 1) for (let j = 0; j < 8; j++) b[Math.floor(rnd() * Math.min(b.length, 4096))] = Math.floor(rnd() * 256);
      else for (let j = 0; j < 3; j++) b[Math.floor(rnd() * b.length)] = 0xff;
      writeFileSync(file, bytes);
      const r = await run(['inspect', file, '--json', '-q'], { cwd: dir });
      const wrong = misbehaviour(r, file);
      if (wrong) bad.push(`mutation ${i}: ${wrong}`);
    }
    expect(bad).toEqual([]);
  });

  it('a plan given to split (split --plan)', async () => {
    const model = path.join(dir, 'sq-split.onnx');
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '--output', model, '-q'])).code).toBe(0);
    const system = path.join(dir, 'split.system.yaml');
    writeFileSync(system, YAML.stringify({ version: 1, name: 'split', model: { file: model, input: '1x3x64x64' }, boards: [{ id: 'pi', describe: 'raspberry-pi-5' }, { id: 'orin', describe: 'jetson-orin-nano' }], network: 'ethernet-1000base-t', objective: 'throughput' }));
    const solved = await run(['solve', '--system', system, '--json', '-q']);
    expect(solved.code, solved.stderr).toBe(0);
    const plan = JSON.parse(solved.stdout) as Json & { stages: { nodes: string[] }[] };
    // The plan must split in two, or its mutations test little.
    expect(plan.stages.length).toBeGreaterThan(1);
    const planFile = path.join(dir, 'm.plan.json');
    // Every field, but of each stage's node list only its first name.
    const keep = (p: Path) => !(p[0] === 'stages' && p[2] === 'nodes' && p.length > 3 && (p[3] as number) > 0) && !(p[0] === 'baselines' && p.length > 2);
    const { cases, bad } = await sweep(plan, keep, planFile, asJson, ['split', model, '--plan', planFile, '--output', path.join(dir, 'stages'), '--json', '-q']);
    expect(cases).toBeGreaterThan(100);
    expect(bad).toEqual([]);

    // The same plan given to run: refused before any agent is asked, or the agents (nobody listens
    // there) refuse it, each in one line.
    const agents = path.join(dir, 'nobody.agents.yaml');
    writeFileSync(agents, YAML.stringify({ version: 1, agents: [{ id: 'pi', address: '127.0.0.1:9' }, { id: 'orin', address: '127.0.0.1:9' }] }));
    const onRun = await sweep(plan, keep, planFile, asJson, ['run', '--plan', planFile, '--agents', agents, '--model', model, '--frames', '2', '-q'], /^dnnpart: agent \w+ at 127\.0\.0\.1:9 does not answer/);
    expect(onRun.cases).toBeGreaterThan(100);
    expect(onRun.bad).toEqual([]);
  });

  /** SqueezeNet at 64x64 and a system file of it on two described boards, named after `name`. */
  async function squeezenetSystem(name: string): Promise<string> {
    const model = path.join(dir, `sq-${name}.onnx`);
    expect((await run(['zoo', 'export', 'squeezenet1_1', '--input', '1x3x64x64', '--output', model, '-q'])).code).toBe(0);
    const system = path.join(dir, `${name}.system.yaml`);
    writeFileSync(system, YAML.stringify({ version: 1, name, model: { file: model, input: '1x3x64x64' }, boards: [{ id: 'pi', describe: 'raspberry-pi-5' }, { id: 'orin', describe: 'jetson-orin-nano' }], network: 'ethernet-1000base-t' }));
    return system;
  }

  /** Each kept field of a JSON result given each of `values` (undefined: left out), through `argv(file)`. */
  async function sweepResult(result: Json, keep: (p: Path) => boolean, values: readonly (Json | undefined)[], file: string, argv: readonly string[]): Promise<{ cases: number; bad: string[] }> {
    const bad: string[] = [];
    let cases = 0;
    for (const p of paths(result, keep)) {
      for (const value of values) {
        if (p.length === 0 && value === undefined) continue;
        cases++;
        writeFileSync(file, asJson(mutate(result, p, value)));
        const wrong = misbehaviour(await run(argv, { cwd: dir }), file);
        if (wrong) bad.push(`${p.join('.')} = ${JSON.stringify(value) ?? '(left out)'}: ${wrong}`);
      }
    }
    return { cases, bad };
  }

  it('a verify result given to report (report --verify)', async () => {
    const system = await squeezenetSystem('verify');
    const made = await run(['verify', '--system', system, '--runs', '2', '--warmup', '1', '--frames', '4', '--json', '-q'], { cwd: dir });
    expect(made.code, made.stderr).toBe(0);
    const result = JSON.parse(made.stdout) as Json;
    const file = path.join(dir, 'm.verify.json');
    // The fields the report reads: the top level, the first stage's and the pipeline's; a few wrong values each.
    const keep = (p: Path) => p.length <= 1 || (p[0] === 'stages' && p[1] === 0) || ((p[0] === 'pipeline' || p[0] === 'backToBack') && p.length <= 2) || (p[0] === 'stages' && p.length === 2);
    const { cases, bad } = await sweepResult(result, keep, [null, 'x', {}, undefined], file, ['report', '--system', system, '--verify', file, '-o', path.join(dir, 'rep'), '--time-limit', '10', '-q']);
    expect(cases).toBeGreaterThan(60);
    expect(bad).toEqual([]);
  });

  it('a run result given to report (report --run)', async () => {
    const system = await squeezenetSystem('run');
    // The fields of a dnnpart run --json result that the report reads (@dnnpart/runtime's RunResult).
    const result: Json = {
      frames: 40, throughputFps: 51.5, latencyMs: { p50: 30.25, p95: 41 }, predicted: { throughputFps: 50, latencyMs: 25 }, maxAbsDiff: 0, compared: 2,
      stages: [{
        stage: 0, agent: 'pi', nodes: 30, computeMs: { measured: 10, p95: 11, predicted: 12 },
        memory: { loadedBytes: 1e6, peakBytes: 3e6, predictedBytes: 4e6, preoptimised: true, alone: { loadedBytes: 3e6, peakBytes: 5e6 } },
      }],
    };
    const file = path.join(dir, 'm.run.json');
    const { cases, bad } = await sweepResult(result, (p) => p.length <= 2 || p[0] === 'stages', [null, 'x', {}, -1, undefined], file, ['report', '--system', system, '--run', file, '-o', path.join(dir, 'rep-run'), '--time-limit', '10', '-q']);
    expect(cases).toBeGreaterThan(80);
    expect(bad).toEqual([]);
  });
});
