// The coordinator's view of one agent. `AgentClient` is the interface the coordinator uses;
// `connectAgent` is its gRPC implementation. Every call has a deadline, and every failure comes
// back as a RuntimeError that names the agent.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type * as ort from 'onnxruntime-node';
import type { Profile } from '@dnnpart/profiler';
import type { InputShapes } from '@dnnpart/onnx-graph';
import { nowMs } from './_clock.js';
import { agentService } from './_service.js';
import { fromStatus } from './_status.js';
import { decodeMessage, encodeMessage, unpackTensors } from './_wire.js';
import { tokenMetadata, type PeerSpec } from './credentials.js';
import { RuntimeError } from './errors.js';
import { grpcClient } from './transport.js';
import type { AgentInfo, DataFile, DeploySpec, LinkMeasurement, LinkTestOptions, StageEvent } from './types.js';

/** One of a profiled model's external data files: as the header names it, and where it is read from here. */
export interface ProfileData extends DataFile {
  readonly path: string;
}

/** An agent as the agents file names it. */
export interface AgentEndpoint {
  readonly id: string;
  readonly peer: PeerSpec;
}

export interface StageCallbacks {
  onEvent(e: StageEvent): void;
  onOutput(frame: number, sentAt: number, tensors: Record<string, ort.Tensor>): void;
  /** The stage ended with an error, or its call broke (the agent died). */
  onError(e: RuntimeError): void;
}

/** A deployed stage, alive as long as its Stage call. */
/**
 * What an agent said of a deployed stage's memory (absent from agents before it): its resident set
 * size just before the stage was loaded and once it was, whether it loaded onnxruntime's saved
 * optimised graph, and the stage alone in a fresh process on its board (`footprint`).
 */
export interface StageRss {
  readonly beforeBytes: number;
  readonly loadedBytes: number;
  readonly preoptimised?: boolean;
  readonly footprint?: { readonly loadedBytes: number; readonly peakBytes: number };
  /** What the worker thread of the stage's session added before the session was made (beforeBytes is after it). */
  readonly threadBytes?: number;
}

export interface StageHandle {
  /** The agent's clock minus ours (ms), from ping round trips. */
  readonly clockOffsetMs: number;
  readonly loadMs: number;
  /** What the agent said of the stage's memory (absent from agents before it). */
  readonly rss?: StageRss;
  /** The agent's line when it made the stage's session at a lower optimisation level than "all" (onnxruntime refused its optimised graph). */
  readonly levelNote?: string;
  /** Where the agent runs the stage's session: a worker thread of its own, or its main thread (absent: agents before it, main). */
  readonly sessionThread?: 'worker' | 'main';
  /** Estimate the agent's clock offset from sequential ping round trips (call when the coordinator is idle). */
  syncClock(pings?: number): Promise<void>;
  /** End the stage (half-close); the agent releases it. */
  stop(): void;
  /** End the stage now (cancel). */
  cancel(): void;
}

/** What the coordinator asks of an agent. */
export interface AgentClient {
  readonly id: string;
  readonly address: string;
  info(timeoutMs?: number): Promise<AgentInfo & { nowMs: number }>;
  /** `data`: the model's external data files (ProfileData), each sent from its `path` after the model; needs an agent whose Info has profileDataFiles. */
  /** `boundary`: "calibrate" (what an agent does when not told) measures the board's stage-boundary and encoding costs first; "default" records the documented defaults. */
  profile(model: Uint8Array, options: { name: string; board?: string; runs?: number; warmup?: number; threads?: number; boundary?: 'calibrate' | 'default'; inputShapes?: InputShapes; timeoutMs?: number; signal?: AbortSignal; data?: readonly ProfileData[] }): Promise<Profile>;
  linkTest(to: AgentEndpoint, options?: LinkTestOptions & { timeoutMs?: number }): Promise<LinkMeasurement>;
  /** `dataFile`: the file of the stage's weights that `spec.data` describes, sent after the model. */
  deployStage(spec: DeploySpec, model: Uint8Array, callbacks: StageCallbacks, options: { timeoutMs: number; maxTensorBytes: number; dataFile?: string }): Promise<StageHandle>;
  close(): void;
}

const CHUNK = 1 << 20;
const identity = (b: Buffer): Buffer => b;
export const DEFAULT_LINK_SIZES: readonly number[] = [1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];

/** The model's chunks as Stage/Profile messages. */
function* modelChunks(model: Uint8Array): Generator<Buffer> {
  for (let o = 0; o < model.length; o += CHUNK) yield encodeMessage({ kind: 'chunk' }, model.subarray(o, Math.min(model.length, o + CHUNK)));
}

/** A file's chunks as Stage messages, read as they are sent (a stage's weights may be gigabytes). */
async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK })) yield encodeMessage({ kind: 'chunk' }, chunk as Buffer);
}

/**
 * Writes the model's chunks, then each file's as read, on `call`, waiting while its buffer is full;
 * stops (without ending the call) once `stopped()` says the call is over.
 */
async function sendModelAndFiles(call: grpc.ClientWritableStream<Buffer>, model: Uint8Array, files: readonly string[], stopped: () => boolean): Promise<boolean> {
  const write = async (c: Buffer) => {
    if (!call.write(c)) await new Promise((r) => call.once('drain', r));
  };
  for (const c of modelChunks(model)) {
    if (stopped()) return false;
    await write(c);
  }
  for (const f of files) {
    for await (const c of fileChunks(f)) {
      if (stopped()) return false;
      await write(c);
    }
  }
  return true;
}

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A gRPC client for one agent. */
export function connectAgent(endpoint: AgentEndpoint, maxMessageBytes = 512 * (1 << 20)): AgentClient {
  const client = grpcClient(endpoint.peer, maxMessageBytes);
  const who = `agent ${endpoint.id} at ${endpoint.peer.address}`;
  const md = () => tokenMetadata(endpoint.peer.token);
  const unary = (method: 'Info' | 'LinkTest', req: Buffer, timeoutMs: number, what: string) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      client.makeUnaryRequest<Buffer, Buffer>(agentService[method].path, identity, identity, req, md(), { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) return reject(fromStatus(err, who, what));
        try {
          resolve(decodeMessage(res, `${who}: ${what}`).header);
        } catch (e) {
          reject(e);
        }
      });
    });

  return {
    id: endpoint.id,
    address: endpoint.peer.address,

    info: async (timeoutMs = 5000) => (await unary('Info', encodeMessage({}), timeoutMs, 'Info')) as unknown as AgentInfo & { nowMs: number },

    profile: (model, o) =>
      new Promise<Profile>((resolve, reject) => {
        // False once the call has ended (answered or failed): what is left of the files is not sent.
        let sent = true;
        const call = client.makeClientStreamRequest<Buffer, Buffer>(agentService.Profile.path, identity, identity, md(), { deadline: Date.now() + (o.timeoutMs ?? 600_000) }, (err, res) => {
          sent = false;
          o.signal?.removeEventListener('abort', onAbort);
          if (err || !res) return reject(fromStatus(err, who, 'Profile'));
          try {
            resolve(decodeMessage<{ profile: Profile }>(res, `${who}: Profile`).header.profile);
          } catch (e) {
            reject(e);
          }
        });
        const onAbort = () => call.cancel();
        o.signal?.addEventListener('abort', onAbort, { once: true });
        call.on('error', () => {});
        const { timeoutMs: _t, signal: _s, data, ...rest } = o;
        void (async () => {
          call.write(encodeMessage({ kind: 'model', sha256: sha256(model), size: model.length, ...rest, ...(data && data.length > 0 ? { data: data.map(({ name, sha256, size }) => ({ name, sha256, size })) } : {}) }));
          if (await sendModelAndFiles(call, model, (data ?? []).map((f) => f.path), () => !sent)) call.end();
        })().catch((e: unknown) => {
          sent = false;
          o.signal?.removeEventListener('abort', onAbort);
          reject(new RuntimeError('RUNTIME_BAD_OPTIONS', `${who}: Profile: cannot send the model's weights files: ${(e as Error).message}`));
          call.cancel();
        });
      }),

    linkTest: async (to, o = {}) => {
      const sizes = o.sizes ?? DEFAULT_LINK_SIZES;
      const r = await unary('LinkTest', encodeMessage({ peer: to.peer, sizes, repeats: o.repeats ?? 5 }), o.timeoutMs ?? 120_000, `LinkTest to ${to.id}`);
      return { from: endpoint.id, to: to.id, ...(r as unknown as Omit<LinkMeasurement, 'from' | 'to'>) };
    },

    deployStage: (spec, model, cb, o) =>
      new Promise<StageHandle>((resolve, reject) => {
        let ready = false;
        let failed = false;
        const call = client.makeBidiStreamRequest<Buffer, Buffer>(agentService.Stage.path, identity, identity, md(), { deadline: Date.now() + o.timeoutMs });
        const label = `stage ${spec.stage} on ${who}`;
        const fail = (e: RuntimeError) => {
          if (failed) return;
          failed = true;
          if (ready) cb.onError(e);
          else reject(e);
        };
        const pings = new Map<number, (agentNow: number) => void>();
        let best = { rtt: Infinity, offset: 0 };
        let loadMs = 0;
        let rss: StageRss | undefined;
        let levelNote: string | undefined;
        let sessionThread: 'worker' | 'main' | undefined;
        const handle: StageHandle = {
          get rss() {
            return rss;
          },
          get levelNote() {
            return levelNote;
          },
          get sessionThread() {
            return sessionThread;
          },
          get clockOffsetMs() {
            return best.offset;
          },
          get loadMs() {
            return loadMs;
          },
          syncClock: async (count = 8) => {
            // One at a time: a ping queued behind another measures the queue, not the clock.
            for (let i = 0; i < count && !failed; i++) {
              const t0 = nowMs();
              const agentNow = await new Promise<number>((resolve) => {
                pings.set(i, resolve);
                call.write(encodeMessage({ kind: 'ping', t: i }));
              });
              const t1 = nowMs();
              if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: agentNow - (t0 + t1) / 2 };
            }
          },
          stop: () => call.end(),
          cancel: () => {
            failed = true;
            call.cancel();
          },
        };
        call.on('data', (buf: Buffer) => {
          try {
            const { header, payload } = decodeMessage<Record<string, unknown>>(buf, label);
            switch (header.kind) {
              case 'ready':
                loadMs = header.loadMs as number;
                if (typeof header.levelNote === 'string') levelNote = header.levelNote;
                if (header.sessionThread === 'worker' || header.sessionThread === 'main') sessionThread = header.sessionThread;
                if (typeof header.rssBeforeBytes === 'number' && typeof header.rssLoadedBytes === 'number') {
                  const fp = header.footprint as { loadedBytes?: unknown; peakBytes?: unknown } | undefined;
                  rss = {
                    beforeBytes: header.rssBeforeBytes, loadedBytes: header.rssLoadedBytes,
                    ...(typeof header.threadBytes === 'number' ? { threadBytes: header.threadBytes } : {}),
                    ...(typeof header.preoptimised === 'boolean' ? { preoptimised: header.preoptimised } : {}),
                    ...(typeof fp?.loadedBytes === 'number' && typeof fp.peakBytes === 'number' ? { footprint: { loadedBytes: fp.loadedBytes, peakBytes: fp.peakBytes } } : {}),
                  };
                }
                ready = true;
                resolve(handle);
                break;
              case 'pong': {
                // The fastest of several round trips bounds the clock offset's error by half of it.
                pings.get(header.t as number)?.(header.nowMs as number);
                pings.delete(header.t as number);
                break;
              }
              case 'event':
                cb.onEvent(header as unknown as StageEvent);
                break;
              case 'output':
                cb.onOutput(header.frame as number, header.sentAt as number, unpackTensors(header.tensors, payload, { maxTensorBytes: o.maxTensorBytes }, `output of ${label}`));
                break;
              default:
                throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${label}: unexpected message "${String(header.kind)}"`);
            }
          } catch (e) {
            fail(e instanceof RuntimeError ? e : new RuntimeError('RUNTIME_BAD_MESSAGE', `${label}: ${String(e)}`));
            call.cancel();
          }
        });
        call.on('error', (err) => fail(fromStatus(err, who, `stage ${spec.stage}`)));
        call.on('end', () => {
          if (!ready) fail(new RuntimeError('RUNTIME_AGENT_FAILED', `${label}: the agent ended the stage before it was ready`));
        });
        void (async () => {
          call.write(encodeMessage({ kind: 'deploy', ...spec }));
          await sendModelAndFiles(call, model, o.dataFile === undefined ? [] : [o.dataFile], () => failed);
        })().catch((e: unknown) => {
          fail(new RuntimeError('RUNTIME_STAGE_FAILED', `${label}: cannot send the stage's weights from ${o.dataFile}: ${(e as Error).message}`));
          call.cancel();
        });
      }),

    close: () => client.close(),
  };
}
