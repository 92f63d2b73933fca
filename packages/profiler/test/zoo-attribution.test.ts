// Attribution on a real network, on whatever CPU runs the test: EfficientNet-B0 at level "all" has
// fused convolutions and activations, SiLU pattern fusions, squeeze-excite blocks and, depending on
// the CPU, layout conversions. The per-CPU kernel names are in attribution-cpus.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { profileModel, type Profile } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

let dir: string;
let profile: Profile;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnnpart-zoo-attr-'));
  const model = join(dir, 'efficientnet_b0.onnx');
  await writeFile(model, buildZooModel('efficientnet_b0'));
  profile = await profileModel(model, { board: 'ci-x86-2core', runs: 2, warmup: 1, threads: 1, sensor: null });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('kernel attribution on efficientnet_b0', () => {
  it('gives every convolution and the classifier time of its own', () => {
    const macNodes = profile.nodes.filter((n) => (n.macs ?? 0) > 0);
    expect(macNodes.length).toBeGreaterThan(80);
    // The trace counts whole microseconds: the tiniest squeeze-excite convolutions may read 0.
    for (const n of macNodes.filter((x) => x.macs! > 1e5)) expect(n.latencyMs.median, n.name).toBeGreaterThan(0);
  });

  it('never puts two MAC nodes into one kernel', () => {
    const macs = new Map(profile.nodes.map((n) => [n.name, n.macs ?? 0]));
    for (const f of profile.fusedNodes!) expect(f.nodes.filter((n) => macs.get(n)! > 0).length, f.kernel).toBeLessThanOrEqual(1);
  });

  it('keeps each SiLU (Sigmoid, Mul) in one kernel group of its own', () => {
    // Whatever the kernel is called on this CPU (a pattern fusion, with or without a layout reorder).
    // (The squeeze-excite gates' Sigmoids go with the convolution before them.)
    const node = (n: string) => profile.nodes.find((x) => x.name === n)!;
    const silu = profile.fusedNodes!.filter((f) => f.nodes.some((n) => node(n).op === 'Sigmoid') && f.nodes.every((n) => (node(n).macs ?? 0) === 0));
    expect(silu.length).toBe(49);
    for (const f of silu) expect(f.nodes.map((n) => node(n).op)).toEqual(['Sigmoid', 'Mul']);
  });

  it('attributes every kernel, layout conversions included, and drops no node', () => {
    expect(profile.eliminatedNodes).toEqual([]);
    expect(profile.warnings.join(' ')).not.toMatch(/map to no original node/);
    // What is left is the time between kernels.
    expect(profile.unattributedShare).toBeLessThan(0.5);
  });
});
