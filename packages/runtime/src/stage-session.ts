// A deployed stage's session, run off the agent's main thread. onnxruntime-node runs a model on the
// thread that calls `run`, so a stage run on the main thread holds gRPC still for the whole run: no
// frame arrives, none leaves, no keepalive is answered, and a frame's transfer to the next stage
// cannot overlap the next frame's compute, which is what a plan's pipeline assumes. The session lives
// in a worker thread of its own (worker/session-worker.mjs); the in-process form remains for a
// stage loaded from bytes (no file to hand the worker) and where no worker can be started.
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** No worker thread could run the session (not onnxruntime refusing the model): run it on the main thread instead. */
export class WorkerUnavailable extends Error {}

export interface StageSession {
  /**
   * Run one frame: its inputs by name, the outputs wanted by name. `givenUp`: inputs the caller no
   * longer needs, whose buffers a session in a thread of its own may take over instead of copying
   * (they are detached here afterwards).
   */
  run(feeds: Readonly<Record<string, ort.Tensor>>, outputs: readonly string[], givenUp?: ReadonlySet<string>): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
  /** Where it runs: 'worker' (a thread of its own) or 'main' (the agent's event loop). */
  readonly where: 'worker' | 'main';
  /** What starting its thread added to the process's resident memory, before the session was made (a worker's). */
  readonly threadBytes?: number;
}

/** An onnxruntime session on this thread, behind the same interface. */
export function mainThreadSession(session: ort.InferenceSession): StageSession {
  return {
    where: 'main',
    run: async (feeds, outputs) => (await session.run(feeds as Record<string, ort.Tensor>, outputs as string[])) as Record<string, ort.Tensor>,
    release: () => session.release(),
  };
}

const WORKER = new URL('../worker/session-worker.mjs', import.meta.url);

type Wire = { type: ort.Tensor.Type; dims: readonly number[]; data: ort.Tensor.DataType };

/**
 * A session of the model file (or bytes) at `options`, made and run in a worker thread. Rejects with
 * onnxruntime's own message when it cannot make the session (so the caller's fallbacks, such as a
 * lower optimisation level, read it as they would a session made here).
 */
export function workerSession(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<StageSession> {
  return new Promise((resolve, reject) => {
    const rssBefore = process.memoryUsage().rss;
    const worker = new Worker(WORKER, { workerData: { model, options } });
    let threadBytes = 0;
    const pending = new Map<number, { resolve: (o: Record<string, ort.Tensor>) => void; reject: (e: Error) => void }>();
    let nextId = 0;
    let ready = false;
    let gone: Error | undefined;
    let released: (() => void) | undefined;
    const failAll = (e: Error) => {
      gone ??= e;
      for (const p of pending.values()) p.reject(e);
      pending.clear();
    };
    worker.on('message', (msg: { kind: string; id?: number; message?: string; outputs?: Record<string, Wire> }) => {
      switch (msg.kind) {
        case 'booted':
          threadBytes = Math.max(0, process.memoryUsage().rss - rssBefore);
          worker.postMessage({ kind: 'create' });
          break;
        case 'ready':
          ready = true;
          resolve(session);
          break;
        case 'error':
          void worker.terminate();
          reject(new Error(msg.message));
          break;
        case 'result': {
          const p = pending.get(msg.id!);
          pending.delete(msg.id!);
          p?.resolve(Object.fromEntries(Object.entries(msg.outputs!).map(([name, t]) => [name, new ort.Tensor(t.type, t.data as never, t.dims)])));
          break;
        }
        case 'failed': {
          const p = pending.get(msg.id!);
          pending.delete(msg.id!);
          p?.reject(new Error(msg.message));
          break;
        }
        case 'released':
          released?.();
          break;
      }
    });
    worker.on('error', (e) => {
      if (!ready) reject(new WorkerUnavailable(e.message));
      failAll(e);
    });
    worker.on('exit', (code) => {
      const e = new Error(`the stage's session thread ended (exit ${code})`);
      if (!ready) reject(new WorkerUnavailable(e.message));
      failAll(e);
      released?.();
    });
    const session: StageSession = {
      where: 'worker',
      get threadBytes() {
        return threadBytes;
      },
      run: (feeds, outputs, givenUp) => new Promise((res, rej) => {
        if (gone) return rej(gone);
        const id = nextId++;
        pending.set(id, { resolve: res, reject: rej });
        // Each input moved to the thread, not copied: one given up that fills a buffer of its own as
        // is (a received tensor does), the others copied into one first (a view into a larger
        // buffer, such as a whole message, would otherwise be moved or copied whole).
        const wire: Record<string, Wire> = {};
        const moved: ArrayBuffer[] = [];
        for (const [name, t] of Object.entries(feeds)) {
          const d = t.data;
          if (ArrayBuffer.isView(d)) {
            const whole = d.byteOffset === 0 && d.byteLength === d.buffer.byteLength && d.buffer instanceof ArrayBuffer && !moved.includes(d.buffer);
            const own = givenUp?.has(name) === true && whole ? d : (d as unknown as { slice(): ArrayBufferView }).slice();
            moved.push(own.buffer as ArrayBuffer);
            wire[name] = { type: t.type, dims: t.dims, data: own as unknown as ort.Tensor.DataType };
          } else wire[name] = { type: t.type, dims: t.dims, data: d };
        }
        worker.postMessage({ kind: 'run', id, feeds: wire, outputs }, moved);
      }),
      release: () => new Promise<void>((res) => {
        if (gone) return void worker.terminate().then(() => res(), () => res());
        released = res;
        worker.postMessage({ kind: 'release' });
        // A worker that does not answer within a few seconds is ended.
        setTimeout(() => void worker.terminate(), 5000).unref();
      }),
    };
  });
}
