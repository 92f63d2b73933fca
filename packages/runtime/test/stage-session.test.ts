// A deployed stage's session in a thread of its own: the agent's event loop (gRPC's reads, writes and
// keepalives) goes on while a frame computes, and the outputs are the session's own.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { profileSessionOptions } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';
import { mainThreadSession, workerSession, WorkerUnavailable, type StageSession } from '../src/stage-session.js';
import { sessionPlace, WORKER_SESSION_MIN_BYTES, WORKER_SESSION_MIN_MS } from '../src/agent.js';

const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-stage-session-'));
// ResNet-18 at 1x3x640x640: a run of several hundred milliseconds at one thread.
const file = path.join(dir, 'resnet18-640.onnx');
writeFileSync(file, buildZooModel('resnet18', { inputShape: [1, 3, 640, 640] }));
const input = new ort.Tensor('float32', Float32Array.from({ length: 3 * 640 * 640 }, (_, i) => Math.sin(i)), [1, 3, 640, 640]);
const open: StageSession[] = [];
afterAll(async () => {
  for (const s of open) await s.release();
});

/** Whether a 10 ms timer set as the run starts fires before the run ends, and the run's outputs. */
async function timerDuringRun(s: StageSession): Promise<{ firedFirst: boolean; out: Record<string, ort.Tensor> }> {
  let fired = false;
  const timer = setTimeout(() => (fired = true), 10);
  const out = await s.run({ input: input }, ['output']);
  clearTimeout(timer);
  return { firedFirst: fired, out };
}

describe('a stage session in a thread of its own', () => {
  it('leaves the event loop free while it runs, with the same outputs as a session on this thread', async () => {
    const options = profileSessionOptions(1, 'all');
    const threaded = await workerSession(file, options);
    open.push(threaded);
    expect(threaded.where).toBe('worker');
    const here = mainThreadSession(await ort.InferenceSession.create(file, options));
    open.push(here);
    const a = await timerDuringRun(threaded);
    const b = await timerDuringRun(here);
    // On this thread the run holds the loop: the timer can only fire after it (the control).
    expect(b.firedFirst).toBe(false);
    expect(a.firedFirst).toBe(true);
    expect(a.out['output']!.dims).toEqual([1, 1000]);
    expect(Array.from(a.out['output']!.data as Float32Array)).toEqual(Array.from(b.out['output']!.data as Float32Array));
    // An input that is a view into a larger buffer (as a tensor received over gRPC is) runs the same.
    const big = new Float32Array(3 * 640 * 640 + 16);
    big.set(input.data as Float32Array, 16);
    const view = new ort.Tensor('float32', big.subarray(16), [1, 3, 640, 640]);
    const c = await threaded.run({ input: view }, ['output']);
    expect(Array.from(c['output']!.data as Float32Array)).toEqual(Array.from(b.out['output']!.data as Float32Array));
    // Given up, an input that fills its own buffer is moved to the thread, not copied: it is gone here
    // (detached) and the outputs are the same. A view of a larger buffer is copied even when given up,
    // and an input not given up stays.
    const own = new ort.Tensor('float32', Float32Array.from(input.data as Float32Array), [1, 3, 640, 640]);
    const d = await threaded.run({ input: own }, ['output'], new Set(['input']));
    expect(Array.from(d['output']!.data as Float32Array)).toEqual(Array.from(b.out['output']!.data as Float32Array));
    expect((own.data as Float32Array).buffer.byteLength).toBe(0);
    await threaded.run({ input: view }, ['output'], new Set(['input']));
    expect(big.buffer.byteLength).toBe((3 * 640 * 640 + 16) * 4);
    const kept = new ort.Tensor('float32', Float32Array.from(input.data as Float32Array), [1, 3, 640, 640]);
    await threaded.run({ input: kept }, ['output']);
    expect((kept.data as Float32Array).length).toBe(3 * 640 * 640);
  });

  it('is where a stage goes whose frames are large and whose runs are long, unless the agent is told', () => {
    const big = WORKER_SESSION_MIN_BYTES;
    expect(sessionPlace(WORKER_SESSION_MIN_MS, big, undefined)).toEqual({ threaded: true, note: ' (8.0 MiB of tensors a frame, a run of 5.00 ms)' });
    expect(sessionPlace(WORKER_SESSION_MIN_MS, big - 1, undefined)).toEqual({ threaded: false, note: ' (8.0 MiB of tensors a frame, under 8.0 MiB)' });
    expect(sessionPlace(4.9, big, undefined)).toEqual({ threaded: false, note: ' (a run of 4.9 ms, under 5 ms)' });
    expect(sessionPlace(undefined, undefined, undefined)).toEqual({ threaded: false, note: ' (its run was not timed)' });
    expect(sessionPlace(1, 1, 'worker')).toEqual({ threaded: true, note: ' (DNNPART_STAGE_SESSION=worker)' });
    expect(sessionPlace(1000, 1e9, 'main')).toEqual({ threaded: false, note: ' (DNNPART_STAGE_SESSION=main)' });
  });

  it("says onnxruntime's own reason when it cannot make the session, and a failed run as the run's", async () => {
    const bad = path.join(dir, 'not-a-model.onnx');
    writeFileSync(bad, 'not a model');
    const e = await workerSession(bad, profileSessionOptions(1, 'all')).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Error);
    expect(e).not.toBeInstanceOf(WorkerUnavailable);
    expect((e as Error).message).toMatch(/protobuf|parse|model/i);
    const s = await workerSession(file, profileSessionOptions(1, 'all'));
    open.push(s);
    await expect(s.run({ input: new ort.Tensor('float32', new Float32Array(3), [1, 3, 1, 1]) }, ['output'])).rejects.toThrow(/./);
    // Still serving after it.
    expect((await s.run({ input }, ['output']))['output']!.dims).toEqual([1, 1000]);
  });
});
