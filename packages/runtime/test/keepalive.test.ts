// onnxruntime-node creates sessions and runs them on the JavaScript thread, so a coordinator running
// its reference (ISNet's unoptimised: 7 s, twice) or an agent loading a large stage answers no
// HTTP/2 ping for seconds. The connections must outlast that: with a 5 s keepalive timeout the
// agents dropped the coordinator during its reference run, and deploying the stages was refused
// ("Stream refused by server").
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPlan } from '@dnnpart/runtime';
import { ensureBuilt, spawnAgent, type SpawnedAgent } from './_agents.js';
import { prefixPlan, squeezenet } from './_models.js';

let agents: SpawnedAgent[] = [];
beforeAll(async () => {
  ensureBuilt();
  agents = await Promise.all(['a', 'b'].map((id) => spawnAgent(id)));
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill()));
});

describe('a coordinator whose thread is held for longer than a ping may wait', () => {
  it('still deploys and runs (held 17 s between the agents\' facts and the deployment)', async () => {
    const { model } = await squeezenet();
    let held = 0;
    const r = await runPlan({
      model, plan: prefixPlan(model, ['a', 'b']), agents: agents.map((a) => a.endpoint), frames: 2, compareFrames: 0,
      onProgress: (m) => {
        if (!m.startsWith('deploying')) return;
        // What a long synchronous onnxruntime call does to the event loop: the agents' pings (every
        // 10 s) go unanswered until it returns.
        const t0 = Date.now();
        while (Date.now() - t0 < 17_000) held++;
      },
    });
    expect(held).toBeGreaterThan(0);
    expect(r.frames).toBe(2);
  }, 60_000);
});
