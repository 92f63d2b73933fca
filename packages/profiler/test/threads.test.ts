// The thread count a profile takes when none is given: all cores, or 1 when the model runs faster
// there (small kernels). The choice is a pure function of the probe; the probe itself is a real run.
import { availableParallelism, tmpdir } from 'node:os';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileModel, validateProfile } from '@dnnpart/profiler';
import { THREAD_PROBE_SKIP_MS, chooseThreads } from '../src/_threads.js';
import { tinyCnn } from './_model.js';

describe('chooseThreads', () => {
  it.each([
    ['1 thread 10 % faster or more: 1', [{ threads: 4, medianMs: 1.0 }, { threads: 1, medianMs: 0.89 }], 1],
    ['1 thread under 10 % faster: all cores', [{ threads: 4, medianMs: 1.0 }, { threads: 1, medianMs: 0.95 }], 4],
    ['1 thread slower: all cores', [{ threads: 4, medianMs: 1.0 }, { threads: 1, medianMs: 1.8 }], 4],
    [`a run over ${THREAD_PROBE_SKIP_MS} ms, 1 thread not tried: all cores`, [{ threads: 4, medianMs: 35 }], 4],
  ])('%s', (_label, probes, chosen) => {
    expect(chooseThreads(probes, 4)).toBe(chosen);
  });
});

describe.skipIf(availableParallelism() < 2)('profileModel without a thread count', () => {
  let dir: string;
  let model: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dnnpart-threads-'));
    model = join(dir, 'tiny.onnx');
    await writeFile(model, tinyCnn());
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('tries 1 thread against all cores, profiles at the faster, and says so when that is 1', async () => {
    const phases: string[] = [];
    const p = validateProfile(await profileModel(model, { board: 'b', runs: 3, warmup: 1, sensor: null, onProgress: (e) => phases.push(e.phase) }));
    const all = availableParallelism();
    const probe = p.settings.threadProbe!;
    // A tiny CNN runs in far less than the skip threshold: both counts are tried.
    expect(probe.map((x) => x.threads)).toEqual([all, 1]);
    for (const x of probe) expect(x.medianMs).toBeGreaterThan(0);
    expect(p.settings.threads).toBe(chooseThreads(probe, all));
    const said = p.warnings.filter((w) => w.includes('ran faster at 1 thread'));
    expect(said).toHaveLength(p.settings.threads === 1 ? 1 : 0);
    if (p.settings.threads === 1) expect(said[0]).toContain(`--threads ${all} profiles at ${all} anyway`);
    expect(phases[phases.lastIndexOf('load') + 1]).toBe('threads');
  });

  it('takes a given thread count as it is, without trying another', async () => {
    const p = await profileModel(model, { board: 'b', runs: 3, warmup: 1, sensor: null, threads: 2 });
    expect(p.settings.threads).toBe(2);
    expect(p.settings.threadProbe).toBeUndefined();
  });
});
