// What a stage's large outputs cost in memory, and the advice the agent, verify and run give: in a
// Node process of its own, onnxruntime-node's output of 40 MB faults in all its pages every run under
// glibc as it starts, and none once glibc is started with REUSE_ENV; dnnpart-agent starts itself again
// that way, and one kept as it started (DNNPART_MALLOC=as-is) says so in its log and to the coordinator.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { FRESH_OUTPUT_BYTES, REUSE_ENV, REUSE_PREFIX, freshOutputAdvice, glibcVersion, loadModel, outputMemory } from '@dnnpart/onnx-graph';
import { checkAgents, runPlan } from '@dnnpart/runtime';
import { ensureBuilt, spawnAgent, type SpawnedAgent } from './_agents.js';
import { largeOutputModel } from './_models.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-output-memory-'));
const MB = 2 ** 20;
/** The environment without any malloc setting of the test's own. */
const plainEnv = (): NodeJS.ProcessEnv => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('MALLOC_') && k !== 'GLIBC_TUNABLES' && k !== 'DNNPART_MALLOC'));
/** The same, with the agent kept as it started (no second start under REUSE_ENV). */
const asStarted = (): NodeJS.ProcessEnv => ({ ...plainEnv(), DNNPART_MALLOC: 'as-is' });

describe('outputMemory', () => {
  it('reads glibc\'s mmap setting from MALLOC_MMAP_MAX_ or GLIBC_TUNABLES, the former winning', () => {
    expect(outputMemory({}, '2.36')).toBe('fresh');
    expect(outputMemory({ ...REUSE_ENV }, '2.36')).toBe('reused');
    expect(outputMemory({ MALLOC_MMAP_MAX_: '0' }, '2.36')).toBe('reused');
    expect(outputMemory({ MALLOC_MMAP_MAX_: '65536' }, '2.36')).toBe('fresh');
    expect(outputMemory({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1:glibc.malloc.mmap_max=0' }, '2.36')).toBe('reused');
    expect(outputMemory({ GLIBC_TUNABLES: 'glibc.malloc.mmap_max=00' }, '2.36')).toBe('reused');
    expect(outputMemory({ GLIBC_TUNABLES: 'glibc.malloc.mmap_max=10' }, '2.36')).toBe('fresh');
    expect(outputMemory({ GLIBC_TUNABLES: 'glibc.malloc.mmap_max=0', MALLOC_MMAP_MAX_: '8' }, '2.36')).toBe('fresh');
    expect(outputMemory({ ...REUSE_ENV }, null)).toBe('other');
  });

  it('says nothing without large outputs or when memory is reused, and names each stage and the remedy otherwise', () => {
    const stages = [{ who: 'stage 0', bytes: [64 * MB, 40 * MB] }, { who: 'stage 1', bytes: [] }];
    expect(freshOutputAdvice([{ who: 'stage 0', bytes: [] }], 'fresh')).toBeNull();
    expect(freshOutputAdvice(stages, 'reused')).toBeNull();
    const fresh = freshOutputAdvice(stages, 'fresh', ', which X')!;
    expect(fresh).toMatch(/^stage 0 hands back 104 MB a run in 2 tensor\(s\) of 32 MB or more: .*every run \([^)]*\), which X; started with MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=\d+, glibc reuses them/);
    expect(fresh).not.toContain('stage 1');
    expect(fresh).toContain(REUSE_PREFIX);
    expect(freshOutputAdvice(stages, 'other')).toMatch(/^stage 0 hands back 104 MB .*measured on glibc only/);
  });
});

describe('a 40 MB output in a process of its own', () => {
  const model = path.join(dir, 'big40.onnx');
  writeFileSync(model, largeOutputModel(40, true));
  const ort = pathToFileURL(createRequire(import.meta.url).resolve('onnxruntime-node')).href;
  // Minor page faults of each of 6 runs, the previous output released (gc) before each.
  const child = `const m = await import(process.argv[1]); const ort = m.default ?? m;
const s = await ort.InferenceSession.create(process.argv[2], { intraOpNumThreads: 1 });
const x = new ort.Tensor('float32', Float32Array.of(1), [1]);
const faults = [];
for (let i = 0; i < 6; i++) { globalThis.gc(); const f0 = process.resourceUsage().minorPageFault; const out = await s.run({ x }); faults.push(process.resourceUsage().minorPageFault - f0); if (out.big.data.length !== ${(40 * MB) / 4}) throw new Error('wrong size'); }
console.log(JSON.stringify(faults));`;
  const faultsPerRun = (env: NodeJS.ProcessEnv): number[] =>
    JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', child, ort, model], { env, encoding: 'utf8' })) as number[];
  const pages = (40 * MB) / 4096;

  it('faults in every page each run under glibc as it starts, none with REUSE_ENV', () => {
    if (glibcVersion() === undefined) {
      // Another C library: nothing was measured on it, and the advice says so.
      expect(outputMemory()).toBe('other');
      return;
    }
    const fresh = faultsPerRun(plainEnv()).slice(2);
    const reused = faultsPerRun({ ...plainEnv(), ...REUSE_ENV }).slice(2);
    // Mapped afresh: every run faults in every page. Reused: none, but V8 may free the last run's
    // buffer after the next one was allocated (its sweeper runs beside the script), so 3 of 4.
    for (const f of fresh) expect(f).toBeGreaterThanOrEqual(0.95 * pages);
    expect(reused.filter((f) => f < 0.05 * pages).length, `page faults per run: ${reused.join(', ')}`).toBeGreaterThanOrEqual(3);
  });
});

describe('agents whose stage hands back a 40 MB tensor', () => {
  let agents: SpawnedAgent[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill()));
  });

  it.runIf(glibcVersion() !== undefined)('an agent kept as started says it, to its log and to the coordinator; one started with REUSE_ENV, neither; dnnpart-agent starts itself that way', async () => {
    ensureBuilt();
    const m = await loadModel(largeOutputModel(40));
    expect(m.graph.tensors.get('big')!.bytes).toBeGreaterThanOrEqual(FRESH_OUTPUT_BYTES);
    agents = await Promise.all([
      spawnAgent('plain', [], { env: asStarted() }), spawnAgent('tail', [], { env: asStarted() }),
      spawnAgent('tuned', [], { env: { ...plainEnv(), ...REUSE_ENV } }), spawnAgent('default', [], { env: plainEnv() }),
    ]);
    const [plain, tail, tuned, byDefault] = agents as [SpawnedAgent, SpawnedAgent, SpawnedAgent, SpawnedAgent];
    expect((await checkAgents([plain.endpoint, tuned.endpoint, byDefault.endpoint])).map((s) => s.info?.outputMemory)).toEqual(['fresh', 'reused', 'reused']);
    for (const first of [plain, tuned]) {
      const notes: string[] = [];
      const plan = { stages: [{ board: first.id, nodes: ['expand'], computeMs: 1 }, { board: tail.id, nodes: ['sum'], computeMs: 1 }] };
      const r = await runPlan({ model: m, plan, agents: [first.endpoint, tail.endpoint], frames: 2, compareFrames: 1, onProgress: (msg) => notes.push(msg) });
      expect(r.maxAbsDiff).toBe(0);
      const advice = notes.filter((n) => n.includes('32 MB or more'));
      const log = first.log().split('\n').filter((l) => l.includes('32 MB or more'));
      if (first === plain) {
        expect(advice).toEqual([expect.stringMatching(/^stage 0 \(agent plain\) hands back 40 MB a run in 1 tensor\(s\) of 32 MB or more: .*which can slow the pipeline; started with MALLOC_MMAP_MAX_=0/)]);
        expect(log).toEqual([expect.stringMatching(/^dnnpart-agent: stage 0 of run \w+ hands back 40 MB a run in 1 tensor\(s\)/)]);
      } else {
        expect(advice).toEqual([]);
        expect(log).toEqual([]);
      }
    }
    // The last stage hands back 4 bytes: nothing said.
    expect(tail.log()).not.toContain('32 MB or more');
  });
});
