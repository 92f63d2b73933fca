// Agents on separate hosts joined by a real, slow network: network namespaces on a bridge, each
// link limited to 100 Mbit/s with 5 ms one-way delay (tc netem; where the kernel lacks sch_netem,
// tbf limits the rate and there is no added delay, which the test's name says). Needs root and
// iproute2, as CI has; elsewhere the suite is skipped and its name says why.
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LinkMeasurement, RunResult } from '@dnnpart/runtime';
// @ts-expect-error: a plain ESM script shared with the benchmark, without types
import { createNetwork, netnsSupport } from '../scripts/netns.mjs';
import { ROOT, ensureBuilt, spawnAgent, type SpawnedAgent } from './_agents.js';
import { prefixPlan, squeezenet } from './_models.js';

const support = netnsSupport() as { ok: boolean; why: string; netem?: boolean; tbf?: boolean };
const shaped = support.ok && (support.netem || support.tbf);
const why = !support.ok ? support.why : !shaped ? 'neither netem nor tbf queueing disciplines in this kernel' : '';
const DELAY = support.netem ? 5 : 0;
const RATE = 100e6 / 8;

describe.skipIf(!shaped)(`agents in network namespaces, 100 Mbit/s${support.netem ? ' and 5 ms' : ' (no netem in this kernel: tbf, no added delay)'}${why ? ` (skipped: ${why})` : ''}`, () => {
  let net: { hosts: { ns: string; address: string; prefix: string[] }[]; destroy(): void };
  let agents: SpawnedAgent[] = [];
  let result: { links: LinkMeasurement[]; runs: (RunResult & { name: string })[] };

  beforeAll(async () => {
    ensureBuilt();
    net = createNetwork(2, { rateMbit: 100, delayMs: 5, netem: support.netem === true });
    try {
      agents = await Promise.all(['a', 'b'].map((id, i) => spawnAgent(id, [], { prefix: net.hosts[i]!.prefix, listen: `${net.hosts[i]!.address}:7070` })));
      const { bytes, model } = await squeezenet();
      const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-netns-'));
      writeFileSync(path.join(dir, 'model.onnx'), bytes);
      const job = {
        agents: agents.map((a) => a.endpoint),
        model: path.join(dir, 'model.onnx'),
        links: { sizes: [262144, 1048576, 4194304], repeats: 2 },
        plans: [{ name: 'a>b', ...prefixPlan(model, ['a', 'b']) }],
        frames: 8,
        threads: 1,
      };
      writeFileSync(path.join(dir, 'job.json'), JSON.stringify(job));
      // The coordinator runs on host a, as a camera board would: its frames reach stage 0 locally.
      const { stdout } = await promisify(execFile)(net.hosts[0]!.prefix[0]!, [...net.hosts[0]!.prefix.slice(1), process.execPath, path.join(ROOT, 'packages/runtime/scripts/coordinate.mjs'), path.join(dir, 'job.json')], { maxBuffer: 1 << 24 });
      result = JSON.parse(stdout);
    } catch (e) {
      await Promise.all(agents.map((a) => a.kill()));
      net.destroy();
      throw e;
    }
  });
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.kill()));
    net?.destroy();
  });

  it('measures both directions as slow as the limit: bandwidth at most 100 Mbit/s, latency at least the added delay', () => {
    expect(result.links.map((l) => `${l.from}->${l.to}`)).toEqual(['a->b', 'b->a']);
    for (const l of result.links) {
      expect(l.bandwidthBytesPerSec).toBeLessThanOrEqual(RATE * 1.02);
      expect(l.latencyMs).toBeGreaterThanOrEqual(DELAY);
    }
  });

  it('runs a 2-stage plan across the link with outputs equal to the unsplit model', () => {
    const r = result.runs[0]!;
    expect(r.frames).toBe(8);
    expect(r.maxAbsDiff).toBeLessThan(1e-4);
    // The cut tensor crosses the limited link: no transfer can beat bytes / rate + delay.
    const hop = r.stages[1]!.transferIn;
    expect(hop.from).toBe('a');
    expect(hop.measuredMs).toBeGreaterThanOrEqual((hop.bytes / RATE) * 1000 + DELAY);
  });
});
