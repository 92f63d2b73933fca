// The board agent: a gRPC server with Info, Profile, Sink, LinkTest, Stage and Push. Every
// handler validates what it receives and answers a bad message with a status, so one bad client
// never stops the agent serving the others.
import { createHash, randomUUID } from 'node:crypto';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as ort from 'onnxruntime-node';
import {
  FRESH_OUTPUT_BYTES, OPTIMIZATION_LEVELS, atUsableLevel, freshOutputAdvice, levelChoice, levelNote, outputMemory, runtimeLoadFailure, runtimeMessage, type LevelChoice,
} from '@dnnpart/onnx-graph';
import { boardFacts, chooseModelThreads, profileModel, profileSessionOptions } from '@dnnpart/profiler';
import { nowMs } from './_clock.js';
import { probeEngines } from './_engines.js';
import { agentService, channelOptions } from './_service.js';
import { fromStatus, toStatus } from './_status.js';
import { decodeMessage, encodeMessage, packTensors, unpackTensors, WIRE_ENCODINGS, type WireLimits } from './_wire.js';
import { serverCredentials, tokenInterceptor, tokenMetadata, type TlsMaterial } from './credentials.js';
import { RuntimeError, messageOf } from './errors.js';
import { stageModelFile, stageProbe } from './lean-load.js';
import { grpcClient, grpcTransport, type StageChannel, type Transport } from './transport.js';
import type { AgentInfo, DataFile, DeploySpec, Engine, LinkSample, StageEvent } from './types.js';
import { AGENT_VERSION } from './version.js';
import { mainThreadSession, workerSession, WorkerUnavailable, type StageSession } from './stage-session.js';
import { linearFit, median } from './_stats.js';

export interface AgentOptions {
  /** host:port to listen on; default 127.0.0.1:7070 (port 0: any free port). */
  readonly listen?: string;
  /** Refuse every call without this bearer token. */
  readonly token?: string;
  /** Mutual TLS: this agent's certificate and key, and the CA its clients' certificates must chain to. */
  readonly tls?: TlsMaterial;
  /** Largest tensor accepted in a frame; default 64 MiB. */
  readonly maxTensorBytes?: number;
  /** Largest model accepted by Profile and Stage; default 2 GiB. */
  readonly maxModelBytes?: number;
  /** Frames queued per stage before the agent stops reading (back-pressure); default 4. */
  readonly queueFrames?: number;
  /**
   * Bytes of frames queued per stage before the agent stops reading, however few the frames (one is
   * always taken); default 256 MiB: four of ISNet's 117 MB frames would hold 470 MB besides the stage.
   */
  readonly queueBytes?: number;
  /** Board name in Info and profiles; default the host name. */
  readonly board?: string;
  /** Engines to report instead of probing (for a board whose engine is not onnxruntime-node's). */
  readonly engines?: readonly Engine[];
  /** How frames go to the next stage; default gRPC. */
  readonly transport?: Transport;
  /** One line per notable event (stage deployed, client refused...). */
  readonly onLog?: (line: string) => void;
  /**
   * Load each stage from the graph onnxruntime's optimiser saves, made in a process of its own, so
   * that the stage keeps one copy of its weights (see lean-load.ts); default true. False loads the
   * stage model as sent.
   */
  readonly preoptimise?: boolean;
}

/** A running agent. */
export interface RunningAgent {
  /** host:port it listens on (the real port when 0 was asked for). */
  readonly address: string;
  readonly info: () => Promise<AgentInfo>;
  /** Stop serving; deployed stages are torn down. */
  close(): Promise<void>;
}

const MIB = 1 << 20;

/** A name a profile accepts, from the host name. */
function boardName(): string {
  const n = hostname().toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '');
  return n || 'board';
}

interface ModelHeader {
  readonly kind: 'model';
  readonly sha256: string;
  readonly size: number;
}

/** Receives a model streamed in chunks; checks size and sha256. */
class ModelReceiver {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private readonly hash = createHash('sha256');
  constructor(private readonly head: ModelHeader, private readonly what: string, maxBytes: number) {
    if (typeof head.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(head.sha256) || !Number.isInteger(head.size) || head.size <= 0) {
      throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${what}: the first message must say the model's sha256 (64 hex digits) and size (bytes)`);
    }
    if (head.size > maxBytes) throw new RuntimeError('RUNTIME_TOO_LARGE', `${what}: the model has ${head.size} bytes, over this agent's limit of ${maxBytes} (--max-model-bytes)`);
  }
  /** Add a chunk; true once the whole model is here (and its hash checked). */
  add(payload: Buffer): boolean {
    this.received += payload.length;
    if (this.received > this.head.size) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${this.what}: received more than the ${this.head.size} bytes announced`);
    this.chunks.push(Buffer.from(payload));
    this.hash.update(payload);
    return this.received === this.head.size && this.check();
  }
  get complete(): boolean {
    return this.received === this.head.size;
  }
  private check(): true {
    const got = this.hash.digest('hex');
    if (got !== this.head.sha256.toLowerCase()) {
      throw new RuntimeError('RUNTIME_HASH_MISMATCH', `${this.what}: the model's sha256 is ${got.slice(0, 12)}…, not ${this.head.sha256.slice(0, 12)}… as announced; it was damaged on the way, send it again`);
    }
    return true;
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/**
 * Files that follow a model on a call (a stage's weights, DeploySpec.data; a profiled model's
 * external data, ProfileData), written in order into a temporary directory of their own, each
 * one's size and sha256 checked; `what` names the call in errors.
 */
class DataReceiver {
  readonly dir: string;
  private index = 0;
  private fd = -1;
  private received = 0;
  private hash = createHash('sha256');
  constructor(private readonly files: readonly DataFile[], private readonly what: string, prefix = 'dnnpart-stage-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
    try {
      const { bavail, bsize } = statfsSync(this.dir);
      const total = files.reduce((n, f) => n + f.size, 0);
      if (total > bavail * bsize) {
        throw new RuntimeError('RUNTIME_TOO_LARGE', `${what}: ${this.label()} ${files.length === 1 ? 'has' : 'have'} ${total} bytes, more than the ${bavail * bsize} free in ${tmpdir()} (TMPDIR)`);
      }
      this.open();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }
  private label(f?: DataFile): string {
    return this.files.length === 1 ? 'its weights file' : f ? `its weights file ${f.name}` : `its ${this.files.length} weights files`;
  }
  /** Opens the next file to fill (files of no bytes are made at once). */
  private open(): void {
    for (; this.index < this.files.length; this.index++) {
      const f = this.files[this.index]!;
      const path = join(this.dir, f.name);
      mkdirSync(dirname(path), { recursive: true });
      this.fd = openSync(path, 'wx');
      this.received = 0;
      this.hash = createHash('sha256');
      if (f.size > 0) return;
      closeSync(this.fd);
      this.fd = -1;
    }
  }
  get complete(): boolean {
    return this.index >= this.files.length;
  }
  /** Add a chunk; true once every file is here (and their hashes checked). */
  add(payload: Buffer): boolean {
    const f = this.files[this.index];
    if (!f) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${this.what}: received more than the bytes of weights announced`);
    this.received += payload.length;
    if (this.received > f.size) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${this.what}: received more than the ${f.size} bytes of ${this.label(f)} announced`);
    for (let o = 0; o < payload.length;) o += writeSync(this.fd, payload, o);
    this.hash.update(payload);
    if (this.received < f.size) return false;
    closeSync(this.fd);
    this.fd = -1;
    const got = this.hash.digest('hex');
    if (got !== f.sha256.toLowerCase()) {
      const whose = this.files.length === 1 ? "the weights'" : `weights file ${f.name}'s`;
      throw new RuntimeError('RUNTIME_HASH_MISMATCH', `${this.what}: ${whose} sha256 is ${got.slice(0, 12)}…, not ${f.sha256.slice(0, 12)}… as announced; they were damaged on the way, send them again`);
    }
    this.index++;
    this.open();
    return this.complete;
  }
  /** The model written beside its weights as `name` (a name none of them has): the path to load. */
  writeModel(bytes: Uint8Array, name = 'model.onnx'): string {
    const taken = new Set(this.files.map((f) => f.name));
    const file = join(this.dir, taken.has(name) ? `model-${randomUUID()}.onnx` : name);
    writeFileSync(file, bytes);
    return file;
  }
  dispose(): void {
    if (this.fd >= 0) {
      try {
        closeSync(this.fd);
      } catch {}
      this.fd = -1;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A frame a stage has run, waiting to be passed on (its tensors: `forward`). */
interface Computed {
  readonly frame: Omit<QueuedFrame, 'tensors'>;
  /** Emptied once the frame is encoded for sending: its tensors are not held while it travels. */
  forward: Record<string, ort.Tensor>;
  /** The model outputs it made, to send back on the Stage call (DeploySpec.home); emptied the same way. */
  home: Record<string, ort.Tensor>;
  readonly computeStart: number;
  readonly computeEnd: number;
}

interface QueuedFrame {
  readonly frame: number;
  readonly sentAt: number;
  readonly arrivedAt: number;
  readonly tensors: Record<string, ort.Tensor>;
  readonly bytesIn: number;
  /** Time its encoded tensors took to decode (absent: none came encoded). */
  readonly decodeMs?: number;
}

/** One deployed stage: its session, where its outputs go, and the Stage call that owns it. */
class StageHost {
  closed = false;
  private channel: StageChannel | undefined;
  /** Whether its outputs' memory was looked at (after its first frame). */
  private outputsSeen = false;
  /** Inputs not passed on: their buffers go to the session (a worker takes them over without a copy). */
  private get givenUp(): ReadonlySet<string> {
    return (this.givenUpSet ??= new Set(this.spec.inputs.filter((n) => !this.spec.forward.includes(n))));
  }
  private givenUpSet: Set<string> | undefined;
  constructor(
    readonly spec: DeploySpec,
    private readonly session: StageSession,
    private readonly call: grpc.ServerDuplexStream<Buffer, Buffer>,
    private readonly transport: Transport,
    private readonly maxMessageBytes: number,
    readonly label: string,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Run one frame: its tensors to pass on, and when it ran. In a worker thread (StageSession), the
   * agent's event loop goes on meanwhile: the frame before it leaves (pass) and the next arrive.
   */
  async compute(f: QueuedFrame): Promise<Computed> {
    if (this.closed) throw new RuntimeError('RUNTIME_STAGE_FAILED', `${this.label} was stopped`);
    const feeds: Record<string, ort.Tensor> = {};
    for (const name of this.spec.inputs) {
      const t = f.tensors[name];
      if (!t) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${this.label}: frame ${f.frame} lacks input tensor ${name}`);
      feeds[name] = t;
    }
    const computeStart = nowMs();
    let out: Record<string, ort.Tensor>;
    try {
      out = await this.session.run(feeds, this.spec.outputs, this.givenUp);
    } catch (e) {
      throw new RuntimeError('RUNTIME_STAGE_FAILED', `${this.label}: frame ${f.frame}: onnxruntime failed: ${runtimeMessage(e)}`);
    }
    const computeEnd = nowMs();
    if (!this.outputsSeen) {
      this.outputsSeen = true;
      const bytes = Object.values(out).map((t) => { const d = (t as ort.Tensor).data; return Array.isArray(d) ? 0 : d.byteLength; }).filter((b) => b >= FRESH_OUTPUT_BYTES);
      const advice = freshOutputAdvice([{ who: this.label, bytes }], outputMemory());
      if (advice) this.log(advice);
    }
    const bag: Record<string, ort.Tensor> = { ...f.tensors, ...out };
    const pick = (names: readonly string[], what: string) => {
      const out: Record<string, ort.Tensor> = {};
      for (const name of names) {
        const t = bag[name];
        if (!t) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `${this.label}: frame ${f.frame}: tensor ${name} to ${what} is neither an input nor an output of this stage`);
        out[name] = t;
      }
      return out;
    };
    // Without `home` (a coordinator before it), the last stage sends back what it would pass on.
    const forward = pick(this.spec.next || this.spec.home === undefined ? this.spec.forward : [], 'pass on');
    const home = pick(this.spec.home ?? [], 'send back');
    // The frame's own tensors stay only as far as they are passed on: a frame received while the one
    // before is still being sent would otherwise hold its inputs (117 MB for ISNet's second stage) too.
    const { tensors: _inputs, ...frame } = f;
    return { frame, forward, home, computeStart, computeEnd };
  }

  /** Whether a frame can be passed on while the next computes (a session in a thread of its own). */
  get overlaps(): boolean {
    return this.session.where === 'worker';
  }

  /** Pass a computed frame on (to the next stage, or back on the Stage call); resolves when the next hop has taken it. */
  async pass(c: Computed): Promise<void> {
    const { frame: f, computeStart, computeEnd } = c;
    if (this.closed) throw new RuntimeError('RUNTIME_STAGE_FAILED', `${this.label} was stopped`);
    // Encoding is part of the hop: timed from here, as a link's time (float32 tensors to the next stage
    // in the run's encoding; outputs back to the coordinator as they are).
    const sendStart = nowMs();
    // The model outputs it made go back first, as they are: the coordinator has the frame's outputs
    // once each stage that makes some has sent them (DeploySpec.home).
    let homeBytes = 0;
    if (Object.keys(c.home).length > 0) {
      const back = packTensors(c.home);
      c.home = {};
      homeBytes = back.headers.reduce((n, h) => n + h.bytes, 0);
      await this.write(encodeMessage({ kind: 'output', run: this.spec.run, stage: this.spec.stage + 1, frame: f.frame, sentAt: nowMs(), tensors: back.headers }, back.parts));
    }
    const hopStart = homeBytes > 0 ? nowMs() : sendStart;
    const encoding = this.spec.next ? this.spec.encode ?? 'fp32' : 'fp32';
    const { headers, parts } = packTensors(c.forward, encoding);
    const encodeMs = encoding === 'fp32' ? undefined : nowMs() - hopStart;
    const bytesOut = homeBytes + headers.reduce((n, h) => n + h.bytes, 0);
    const header = { run: this.spec.run, stage: this.spec.stage + 1, frame: f.frame, sentAt: hopStart, tensors: headers };
    const message = (h: object) => {
      const m = encodeMessage(h, parts);
      // The message holds the frame's bytes now: its tensors (onnxruntime's outputs) are let go.
      parts.length = 0;
      c.forward = {};
      return m;
    };
    if (this.spec.next) {
      this.channel ??= this.transport.openStageChannel(this.spec.next, {
        who: `stage ${this.spec.stage + 1} at ${this.spec.next.address}`,
        deadlineMs: this.remainingMs(),
        maxMessageBytes: this.maxMessageBytes,
      });
      await this.channel.send(message(header));
    } else if (this.spec.home === undefined) {
      await this.write(message({ kind: 'output', ...header }));
    }
    const sendEnd = nowMs();
    const ev: StageEvent & { kind: 'event' } = {
      kind: 'event', frame: f.frame, sentAt: f.sentAt, arrivedAt: f.arrivedAt, computeStart, computeEnd, sendStart, sendEnd, bytesIn: f.bytesIn, bytesOut,
      rssBytes: process.memoryUsage().rss,
      ...(encodeMs !== undefined ? { encodeMs } : {}),
      ...(f.decodeMs !== undefined ? { decodeMs: f.decodeMs } : {}),
    };
    await this.write(encodeMessage(ev));
  }

  /** What is left of the Stage call's deadline: the stage's onward stream gets no more. */
  private remainingMs(): number {
    const d = this.call.getDeadline();
    const at = d instanceof Date ? d.getTime() : typeof d === 'number' && Number.isFinite(d) ? d : Date.now() + 3600_000;
    return Math.max(1000, at - Date.now());
  }

  /** Write on the Stage call, waiting while its buffer is full. */
  async write(buf: Buffer): Promise<void> {
    if (this.closed) return;
      if (this.call.cancelled || this.call.write(buf)) return;
    await new Promise<void>((resolve) => {
      // A cancelled call never drains: do not hang on it.
      const done = () => {
        this.call.off('drain', done);
        this.call.off('cancelled', done);
        resolve();
      };
      this.call.on('drain', done);
      this.call.on('cancelled', done);
    });
  }

  /** End the stage with an error the coordinator will read on the Stage call. */
  fail(e: unknown): void {
    if (this.closed) return;
    const status = toStatus(e);
    void this.close();
    this.call.emit('error', status);
  }

  /** Finish cleanly once the upstream has sent everything. */
  async finish(): Promise<void> {
    if (this.channel) await this.channel.close();
    this.channel = undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.channel?.abort();
    this.channel = undefined;
    await this.session.release().catch(() => {});
  }
}

/**
 * A deployed stage's session. Without a thread count from the coordinator, the stage runs at the
 * count a profile here would take (all cores, or 1 when that runs it 10 % faster: small kernels),
 * so it runs as its profile was made; when that cannot be tried, at onnxruntime's default.
 */
async function openStage(
  sent: Uint8Array | { readonly path: string }, s: DeploySpec, preoptimise: boolean, log: (line: string) => void,
): Promise<OpenedStage & { preoptimised: boolean }> {
  if (!(sent instanceof Uint8Array)) {
    // Weights in a file beside the model: onnxruntime's optimiser would have to write them out again.
    log(`stage ${s.stage}: loaded as sent, with its weights from the file beside it (${s.data?.size ?? '?'} bytes)`);
    return { ...(await openSession(sent.path, s, log)), preoptimised: false };
  }
  let file;
  try {
    file = await stageModelFile(sent, { preoptimise });
  } catch (e) {
    // No file to load from (a full or read-only temporary directory): the session takes the bytes.
    log(`stage ${s.stage}: cannot write the stage model to a file (${messageOf(e)}); loaded from memory`);
    return { ...(await openSession(sent, s, log)), preoptimised: false };
  }
  try {
    log(`stage ${s.stage}: ${file.note}`);
    if (!file.preoptimised) return { ...(await openSession(file.path, s, log)), preoptimised: false };
    try {
      return { ...(await openSession(file.path, s, log)), preoptimised: true };
    } catch (e) {
      // A saved graph onnxruntime cannot load back is its own failure, not the stage's: load it as sent.
      log(`stage ${s.stage}: onnxruntime cannot load its own optimised graph (${runtimeMessage(e)}); loaded as sent`);
      return { ...(await openSession(file.sentPath, s, log)), preoptimised: false };
    }
  } finally {
    await file.dispose();
  }
}

/** onnxruntime's two ways in (a file, or bytes) behind one call. */
function createFrom(model: Uint8Array | string, opts: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  return typeof model === 'string' ? ort.InferenceSession.create(model, opts) : ort.InferenceSession.create(model, opts);
}

const probeNote = (threads: number, probe: readonly { threads: number; medianMs: number }[]) =>
  `${threads} thread(s)${probe.length > 0 ? `: ${probe.map((p) => `${p.medianMs.toPrecision(3)} ms at ${p.threads}`).join(', ')}` : ''}`;

interface OpenedStage {
  readonly session: StageSession;
  /** Why the session runs where it does (sessionPlace's note), for the agent's log. */
  readonly placeNote?: string;
  readonly threadsNote: string;
  /** The optimisation level it was made at ("all", or lower when onnxruntime refused its optimised graph). */
  readonly level: LevelChoice;
  /** The stage's footprint, measured in a process of its own on this board (stageProbe). */
  readonly footprint?: { readonly loadedBytes: number; readonly peakBytes: number };
}

/** A session of the stage model (its bytes, or better its file: see lean-load.ts). */
async function openSession(model: Uint8Array | string, s: DeploySpec, log: (line: string) => void): Promise<OpenedStage> {
  let level = levelChoice('all');
  // On this thread, or in a thread of its own (stage-session.ts) where the stage probe finds its frames
  // large and its runs long (sessionPlace) and a thread can be started.
  let { threaded, note: placeNote } = sessionPlace(undefined, undefined);
  const create = (threads: number): Promise<StageSession> => atUsableLevel(level, async (l) => {
    const options = profileSessionOptions(threads, l);
    if (threaded) {
      try {
        return await workerSession(model, options);
      } catch (e) {
        if (!(e instanceof WorkerUnavailable)) throw e;
        threaded = false;
        placeNote = ' (no thread could be started)';
        log(`stage ${s.stage}: no thread of its own for its session (${e.message}); it runs on the agent's main thread`);
      }
    }
    return mainThreadSession(await createFrom(model, options));
  });
  if (typeof model === 'string') {
    // In a process of its own: the stage's footprint, and its thread count when not given, so that
    // only the session kept stays in this one.
    const probe = await stageProbe(model, `stage ${s.stage}`, { chooseThreads: s.threads === undefined });
    if ('failure' in probe) log(`stage ${s.stage}: could not probe the stage in a process of its own (${probe.failure})${s.threads === undefined ? '; trying thread counts here' : ''}`);
    else {
      if (probe.footprintError !== undefined) log(`stage ${s.stage}: its memory alone was not measured (${probe.footprintError})`);
      const footprint = probe.footprint ? { footprint: probe.footprint } : {};
      // The level the probe's sessions were made at: a graph refused at "all" is not tried again.
      if (probe.level && OPTIMIZATION_LEVELS.includes(probe.level.level)) level = { ...probe.level };
      const place = sessionPlace(probe.runMs, probe.frameBytes);
      threaded = place.threaded;
      placeNote = place.note;
      if (s.threads === undefined) {
        const session = await create(probe.threads!);
        return { session, threadsNote: probeNote(probe.threads!, probe.probe!), level, placeNote, ...footprint };
      }
      const session = await create(s.threads);
      return { session, threadsNote: `${s.threads} thread(s), as asked`, level, placeNote, ...footprint };
    }
  }
  if (s.threads === undefined) {
    try {
      // The session the choice was timed on, kept open: a large stage is loaded once.
      const choice = await chooseModelThreads(model, `stage ${s.stage}`, undefined, level);
      return { session: mainThreadSession(choice.session), threadsNote: probeNote(choice.threads, choice.probe), level };
    } catch (e) {
      log(`stage ${s.stage}: could not try thread counts (${runtimeMessage(e)}); onnxruntime's default threads`);
      const session = await atUsableLevel(level, (l) => createFrom(model, { graphOptimizationLevel: l, executionMode: 'sequential', enableMemPattern: false }));
      return { session: mainThreadSession(session), threadsNote: "onnxruntime's default threads", level };
    }
  }
  // The profiler's session options (threads that do not spin, one inter-op thread), so the stage
  // runs as its profile was made.
  const session = await create(s.threads);
  return { session, threadsNote: `${s.threads} thread(s), as asked`, level, placeNote };
}

/**
 * A stage runs its session in a worker thread of its own when a frame's tensors (its inputs and
 * outputs) come to this many bytes or more and a run takes WORKER_SESSION_MIN_MS or more (the stage
 * probe's figures). There the main thread, left free, moves each frame while the next computes
 * (ISNet's 117 MB hop between two local agents: 3.4-4.7 s on the main thread, 0.31-0.48 s beside a
 * worker). Below, the hand-over costs more than it saves: each input copied into the worker and each
 * frame two thread hops (SqueezeNet 1.1: 4.0 ms a run, 4.2 in a worker; ResNet-18 after its first
 * Relu, 3.2 MB in, on three agents sharing two cores: 20 ms a frame, 31-35 in a worker).
 */
export const WORKER_SESSION_MIN_BYTES = 8 * 2 ** 20;
export const WORKER_SESSION_MIN_MS = 5;

/**
 * Where a stage's session runs: see WORKER_SESSION_MIN_BYTES (unknown figures: the main thread);
 * DNNPART_STAGE_SESSION=worker or main decides instead.
 */
export function sessionPlace(runMs: number | undefined, frameBytes: number | undefined, asked = process.env['DNNPART_STAGE_SESSION']): { threaded: boolean; note: string } {
  if (asked === 'main') return { threaded: false, note: ' (DNNPART_STAGE_SESSION=main)' };
  if (asked === 'worker') return { threaded: true, note: ' (DNNPART_STAGE_SESSION=worker)' };
  if (runMs === undefined || frameBytes === undefined) return { threaded: false, note: ' (its run was not timed)' };
  const mb = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  if (frameBytes < WORKER_SESSION_MIN_BYTES) return { threaded: false, note: ` (${mb(frameBytes)} of tensors a frame, under ${mb(WORKER_SESSION_MIN_BYTES)})` };
  if (runMs < WORKER_SESSION_MIN_MS) return { threaded: false, note: ` (a run of ${runMs.toPrecision(2)} ms, under ${WORKER_SESSION_MIN_MS} ms)` };
  return { threaded: true, note: ` (${mb(frameBytes)} of tensors a frame, a run of ${runMs.toPrecision(3)} ms)` };
}

/** Start an agent; resolves once it listens. */
export async function startAgent(options: AgentOptions = {}): Promise<RunningAgent> {
  const listen = options.listen ?? '127.0.0.1:7070';
  const m = /^(.+):(\d+)$/.exec(listen);
  if (!m || Number(m[2]) > 65535) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `--listen ${listen}: give host:port, e.g. 127.0.0.1:7070`);
  const limits: WireLimits & { maxModelBytes: number; queueFrames: number; queueBytes: number } = {
    maxTensorBytes: options.maxTensorBytes ?? 64 * MIB,
    maxModelBytes: options.maxModelBytes ?? 2048 * MIB,
    queueFrames: options.queueFrames ?? 4,
    queueBytes: options.queueBytes ?? 256 * MIB,
  };
  for (const [k, v] of Object.entries(limits)) {
    if (!Number.isInteger(v) || v < 1) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `agent option ${k} must be a positive integer, got ${v}`);
  }
  // Frames carry several tensors; each one is checked against maxTensorBytes in _wire.ts.
  const maxMessageBytes = Math.min(2 ** 31 - 1, Math.max(4 * limits.maxTensorBytes, 8 * MIB) + MIB);
  const log = options.onLog ?? (() => {});
  const preoptimise = options.preoptimise ?? true;
  const transport = options.transport ?? grpcTransport;
  const board = options.board ?? boardName();
  const probed = options.engines ? { providers: [] as string[], engines: [...options.engines] } : await probeEngines();
  const facts = await boardFacts(board);
  const stages = new Map<string, StageHost>();
  let profiling: Promise<unknown> = Promise.resolve();

  const info = async (): Promise<AgentInfo> => ({
    agentVersion: AGENT_VERSION,
    board: facts,
    onnxruntime: ort.env.versions?.node ?? 'unknown',
    executionProviders: probed.providers,
    engines: probed.engines,
    limits: { maxTensorBytes: limits.maxTensorBytes, maxModelBytes: limits.maxModelBytes, queueFrames: limits.queueFrames, queueBytes: limits.queueBytes },
    stages: [...stages.values()].filter((s) => !s.closed).length,
    tls: options.tls !== undefined,
    token: options.token !== undefined,
    outputMemory: outputMemory(),
    stageWeightsFile: true,
    transferEncodings: ['fp16', 'int8'],
    outputsHome: true,
    profileDataFiles: true,
  });

  const server = new grpc.Server({ ...channelOptions(maxMessageBytes), ...(options.token ? { interceptors: [tokenInterceptor(options.token)] } : {}) });

  const handlers: grpc.UntypedServiceImplementation = {
    Info: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      info().then((i) => cb(null, encodeMessage({ ...i, nowMs: nowMs() })), (e) => cb(toStatus(e)));
    },

    Sink: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      cb(null, encodeMessage({ bytes: call.request.length }));
    },

    Drain: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      let bytes = 0;
      let messages = 0;
      call.on('data', (b: Buffer) => {
        bytes += b.length;
        messages++;
      });
      call.on('error', () => {});
      call.on('end', () => cb(null, encodeMessage({ bytes, messages })));
    },

    Profile: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const abort = new AbortController();
      call.on('cancelled', () => abort.abort());
      let receiver: ModelReceiver | undefined;
      // The model's external data (ProfileData): its files follow the model's chunks.
      let dataReceiver: DataReceiver | undefined;
      let options: Record<string, unknown> = {};
      let failed = false;
      const reject = (e: unknown) => {
        dataReceiver?.dispose();
        if (failed) return;
        failed = true;
        cb(toStatus(e));
        call.destroy();
      };
      call.on('cancelled', () => dataReceiver?.dispose());
      call.on('data', (buf: Buffer) => {
        if (failed) return;
        try {
          const msg = decodeMessage<Record<string, unknown>>(buf, 'Profile');
          if (!receiver) {
            if (msg.header.kind !== 'model') throw new RuntimeError('RUNTIME_BAD_MESSAGE', 'Profile: the first message must be the model header');
            const data = checkProfileData(msg.header.data);
            receiver = new ModelReceiver(msg.header as unknown as ModelHeader, 'Profile', limits.maxModelBytes);
            options = msg.header;
            if (data.length > 0) dataReceiver = new DataReceiver(data, 'Profile', 'dnnpart-agent-');
          } else if (!receiver.complete) {
            receiver.add(msg.payload);
          } else if (dataReceiver && !dataReceiver.complete) {
            dataReceiver.add(msg.payload);
          } else {
            throw new RuntimeError('RUNTIME_BAD_MESSAGE', 'Profile: received more than the model and the weights files announced');
          }
        } catch (e) {
          reject(e);
        }
      });
      call.on('error', () => {});
      call.on('end', () => {
        if (failed) return;
        if (!receiver || !receiver.complete) return reject(new RuntimeError('RUNTIME_BAD_MESSAGE', 'Profile: the stream ended before the whole model arrived'));
        if (dataReceiver && !dataReceiver.complete) return reject(new RuntimeError('RUNTIME_BAD_MESSAGE', "Profile: the stream ended before the model's weights files arrived"));
        const bytes = receiver.bytes();
        const files = dataReceiver;
        // One profile at a time: two would share the cores and both be wrong.
        const job = profiling.then(async () => {
          const where = files ?? new DataReceiver([], 'Profile', 'dnnpart-agent-');
          try {
            const name = typeof options.name === 'string' && /^[A-Za-z0-9._-]+$/.test(options.name) ? options.name : 'model';
            // Beside its external data, whose locations are relative to the model's directory.
            const file = where.writeModel(bytes, `${name}.onnx`);
            const dir = where.dir;
            const num = (k: string) => (typeof options[k] === 'number' ? { [k]: options[k] as number } : {});
            log(`profiling ${name} (${bytes.length} bytes)`);
            try {
              return await profileModel(file, {
                board: typeof options.board === 'string' ? options.board : board,
                ...num('runs'), ...num('warmup'), ...num('threads'),
                // The board's own stage-boundary and encoding costs, as `dnnpart profile` measures them here.
                ...(options.boundary === 'default' ? {} : { boundary: 'calibrate' as const }),
                ...(options.inputShapes ? { inputShapes: options.inputShapes as never } : {}),
                modelName: name,
                tempDir: dir,
                signal: abort.signal,
              });
            } catch (e) {
              // What the user sent, not where this agent keeps it: "rec.onnx: dim 3 ... is dynamic".
              if (e instanceof Error) e.message = e.message.split(file).join(`${name}.onnx`);
              throw e;
            }
          } finally {
            where.dispose();
          }
        });
        profiling = job.catch(() => {});
        job.then((profile) => cb(null, encodeMessage({ profile })), reject);
      });
    },

    LinkTest: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      (async () => {
        const { header } = decodeMessage<Record<string, unknown>>(call.request, 'LinkTest');
        const peer = header.peer as { address?: unknown } | undefined;
        const sizes = header.sizes;
        const repeats = header.repeats;
        if (!peer || typeof peer.address !== 'string') throw new RuntimeError('RUNTIME_BAD_MESSAGE', 'LinkTest: the request must name the peer (peer.address)');
        if (!Array.isArray(sizes) || sizes.length < 2 || !sizes.every((s) => Number.isInteger(s) && s >= 1 && s <= limits.maxTensorBytes)) {
          throw new RuntimeError('RUNTIME_BAD_MESSAGE', `LinkTest: sizes must be at least two byte counts from 1 to ${limits.maxTensorBytes}`);
        }
        if (!Number.isInteger(repeats) || (repeats as number) < 1 || (repeats as number) > 100) throw new RuntimeError('RUNTIME_BAD_MESSAGE', 'LinkTest: repeats must be an integer from 1 to 100');
        const deadline = call.getDeadline();
        return await measureLink(header.peer as never, sizes as number[], repeats as number, maxMessageBytes, () => call.cancelled, deadline);
      })().then((r) => cb(null, encodeMessage(r)), (e) => cb(toStatus(e)));
    },

    Stage: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      let receiver: ModelReceiver | undefined;
      // A stage whose weights come in a file of their own (DeploySpec.data): the model, then those.
      let dataReceiver: DataReceiver | undefined;
      let modelBytes: Buffer | undefined;
      let spec: DeploySpec | undefined;
      let host: StageHost | undefined;
      let key = '';
      let over = false;
      const end = (e?: unknown) => {
        if (over) return;
        over = true;
        dataReceiver?.dispose();
        if (host) {
          stages.delete(key);
          if (e) host.fail(e);
          else void host.close().then(() => call.end());
        } else if (e) call.emit('error', toStatus(e));
        else call.end();
      };
      call.on('cancelled', () => {
        if (host) log(`${host.label}: the coordinator went away; stage stopped`);
        over = true;
        dataReceiver?.dispose();
        if (host) {
          stages.delete(key);
          void host.close();
        }
      });
      call.on('error', () => {});
      call.on('end', () => end());
      /** Open the stage's session (from its bytes, or its file beside its weights), then say it is ready; `done` after either way. */
      const load = (model: Uint8Array | { readonly path: string }, bytes: Uint8Array, s: DeploySpec, done?: () => void) => {
        const t0 = nowMs();
        // The agent's resident memory before the stage is loaded: what the stage adds is measured from here.
        const rssBeforeBytes = process.memoryUsage().rss;
        call.pause();
        openStage(model, s, preoptimise, log)
          .then(({ session, threadsNote, preoptimised, footprint, level, placeNote }) => {
            if (over) return void session.release();
            host = new StageHost(s, session, call, transport, maxMessageBytes, `stage ${s.stage} of run ${s.run}`, log);
            stages.set(key, host);
            log(`${host.label} deployed (${s.nodes ?? '?'} nodes, ${bytes.length} bytes, ${threadsNote}) -> ${s.next?.address ?? 'coordinator'}; its session runs ${session.where === 'worker' ? 'in a thread of its own' : "on the agent's main thread"}${placeNote ?? ''}`);
            const lowered = levelNote(host.label, level);
            if (lowered) log(lowered);
            // A session in a thread of its own: the thread's cost (its JavaScript heap, onnxruntime's
            // module) is said apart, and what the stage adds is counted from after it.
            const threadBytes = session.threadBytes ?? 0;
            call.write(encodeMessage({
              kind: 'ready', loadMs: nowMs() - t0, nowMs: nowMs(), rssBeforeBytes: rssBeforeBytes + threadBytes, rssLoadedBytes: process.memoryUsage().rss, preoptimised,
              sessionThread: session.where, ...(session.where === 'worker' ? { threadBytes } : {}),
              ...(footprint ? { footprint } : {}), ...(lowered ? { levelNote: lowered } : {}),
            }));
            call.resume();
          })
          .catch((e) => end(new RuntimeError('RUNTIME_STAGE_FAILED', `stage ${s.stage}: ${runtimeLoadFailure(e).message}`)))
          .finally(() => done?.());
      };
      call.on('data', (buf: Buffer) => {
        if (over) return;
        try {
          const msg = decodeMessage<Record<string, unknown>>(buf, 'Stage');
          if (!spec) {
            spec = checkDeploy(msg.header);
            key = `${spec.run}/${spec.stage}`;
            if (stages.has(key)) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `Stage: stage ${spec.stage} of run ${spec.run} is already deployed here`);
            receiver = new ModelReceiver({ kind: 'model', sha256: spec.sha256, size: spec.size }, `stage ${spec.stage}`, limits.maxModelBytes);
            return;
          }
          if (!host && (receiver || dataReceiver)) {
            if (msg.header.kind !== 'chunk') throw new RuntimeError('RUNTIME_BAD_MESSAGE', `stage ${spec.stage}: expected model chunks before "${String(msg.header.kind)}"`);
            if (receiver) {
              if (!receiver.add(msg.payload)) return;
              const bytes = receiver.bytes();
              receiver = undefined;
              if (spec.data) {
                // The weights' chunks follow; the model waits for them.
                modelBytes = bytes;
                dataReceiver = new DataReceiver([spec.data], `stage ${spec.stage}`);
                return;
              }
              load(bytes, bytes, spec);
            } else if (dataReceiver!.add(msg.payload)) {
              const files = dataReceiver!;
              const bytes = modelBytes!;
              modelBytes = undefined;
              load({ path: files.writeModel(bytes) }, bytes, spec, () => {
                files.dispose();
                if (dataReceiver === files) dataReceiver = undefined;
              });
            }
            return;
          }
          if (msg.header.kind === 'ping') {
            call.write(encodeMessage({ kind: 'pong', t: msg.header.t, nowMs: nowMs() }));
          } else if (msg.header.kind === 'stop') {
            end();
          } else {
            throw new RuntimeError('RUNTIME_BAD_MESSAGE', `stage ${spec.stage}: unexpected message "${String(msg.header.kind)}" on the Stage call`);
          }
        } catch (e) {
          end(e);
        }
      });
    },

    Push: (call: grpc.ServerReadableStream<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const queue: QueuedFrame[] = [];
      let host: StageHost | undefined;
      let busy = false;
      let ended = false;
      let done = false;
      let frames = 0;
      // The frame being passed on while the next one computes (one at a time, in order).
      let passing: Promise<void> = Promise.resolve();
      const finish = (e?: unknown) => {
        if (done) return;
        done = true;
        if (e) {
          cb(toStatus(e));
          call.destroy();
          // The stage cannot go on without this frame: tell its coordinator too.
          host?.fail(e);
        } else cb(null, encodeMessage({ frames }));
      };
      // Bounded by frames and by bytes: a full queue stops reading, so HTTP/2 flow control holds the sender back.
      let queuedBytes = 0;
      const full = () => queue.length >= limits.queueFrames || (queue.length > 0 && queuedBytes >= limits.queueBytes);
      const take = (): QueuedFrame => {
        const f = queue.shift()!;
        queuedBytes -= f.bytesIn;
        if (!full()) call.resume();
        return f;
      };
      const pump = async () => {
        if (busy || done) return;
        busy = true;
        try {
          while (queue.length > 0 && !done) {
            // Taken from the queue straight into compute: nothing here holds the frame's inputs after it.
            const c = await host!.compute(take());
            await passing;
            const h = host!;
            passing = h.pass(c).then(() => void frames++);
            // A failure to pass it on ends the call; the next frame's wait sees it too.
            passing.catch((e: unknown) => finish(e));
            // A session on this thread would hold the frame's sending still while the next computes:
            // there the frame is handed over whole first, as before sessions had threads of their own.
            if (!h.overlaps) await passing;
          }
          if (ended && queue.length === 0 && host) {
            await passing;
            await host.finish();
            finish();
          }
        } catch (e) {
          finish(e);
        } finally {
          busy = false;
        }
      };
      call.on('data', (buf: Buffer) => {
        if (done) return;
        const arrivedAt = nowMs();
        try {
          const { header, payload } = decodeMessage<Record<string, unknown>>(buf, 'Push');
          const key = `${String(header.run)}/${String(header.stage)}`;
          const h = stages.get(key);
          if (!h || h.closed) throw new RuntimeError('RUNTIME_BAD_MESSAGE', `Push: no stage ${String(header.stage)} of run ${String(header.run)} is deployed on this agent`);
          if (host && h !== host) throw new RuntimeError('RUNTIME_BAD_MESSAGE', 'Push: all frames of one call must go to one stage');
          host = h;
          if (!Number.isInteger(header.frame) || typeof header.sentAt !== 'number') throw new RuntimeError('RUNTIME_BAD_MESSAGE', `Push: ${h.label}: a frame needs an integer frame number and sentAt`);
          const encoded = Array.isArray(header.tensors) && header.tensors.some((t) => typeof t === 'object' && t !== null && 'encoding' in t);
          const tensors = unpackTensors(header.tensors, payload, limits, `Push to ${h.label}, frame ${String(header.frame)}`);
          const decodeMs = encoded ? nowMs() - arrivedAt : undefined;
          queue.push({ frame: header.frame as number, sentAt: header.sentAt, arrivedAt, tensors, bytesIn: payload.length, ...(decodeMs !== undefined ? { decodeMs } : {}) });
          queuedBytes += payload.length;
          // Bounded queue: stop reading, so HTTP/2 flow control holds the sender back.
          if (full()) call.pause();
          void pump();
        } catch (e) {
          finish(e);
        }
      });
      call.on('end', () => {
        ended = true;
        if (!host) finish();
        else void pump();
      });
      call.on('error', () => {});
      call.on('cancelled', () => {
        done = true;
      });
    },
  };
  server.addService(agentService, handlers);

  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(listen, serverCredentials(options.tls), (err, p) => {
      if (err) reject(new RuntimeError('RUNTIME_LISTEN', `--listen ${listen}: cannot listen there (${messageOf(err)})`));
      else resolve(p);
    });
  });
  widenFlowControl(server);
  const address = `${m[1]}:${port}`;
  log(`listening on ${address}${options.tls ? ' (mutual TLS)' : ''}${options.token ? ' (bearer token)' : ''}; engines: ${probed.engines.join(', ') || 'none'}`);
  return {
    address,
    info,
    close: async () => {
      for (const h of stages.values()) await h.close();
      stages.clear();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** HTTP/2 receive window of the agent's connections and streams (the bandwidth-delay product of 1 Gbit/s x 64 ms). */
export const FLOW_CONTROL_WINDOW = 8 << 20;

/**
 * grpc-js servers keep Node's 64 KB stream window, which caps a stream at 64 KB per round trip
 * (about 50 Mbit/s at 10 ms): too little for tensors. grpc-js offers no server option for it, so
 * reach its HTTP/2 servers and widen the window of every new session.
 */
function widenFlowControl(server: grpc.Server): void {
  const http2Servers = (server as unknown as { http2Servers?: Map<import('node:http2').Http2Server, unknown> }).http2Servers;
  for (const h of http2Servers?.keys() ?? []) {
    h.on('session', (session) => {
      try {
        session.settings({ initialWindowSize: FLOW_CONTROL_WINDOW });
        session.setLocalWindowSize(FLOW_CONTROL_WINDOW);
      } catch {
        // an old Node without setLocalWindowSize: the default window still works, only slower
      }
    });
  }
}

function checkDeploy(h: Record<string, unknown>): DeploySpec {
  const bad = (why: string): never => {
    throw new RuntimeError('RUNTIME_BAD_MESSAGE', `Stage: the deploy header ${why}`);
  };
  if (h.kind !== 'deploy') bad('must come first (kind "deploy")');
  if (typeof h.run !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(h.run)) bad('needs a run id of letters, digits, . _ -');
  if (!Number.isInteger(h.stage) || (h.stage as number) < 0) bad('needs a stage number');
  const names = (k: string) => {
    const v = h[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) bad(`needs ${k} as a list of tensor names`);
  };
  names('inputs');
  names('outputs');
  names('forward');
  if (h.home !== undefined) names('home');
  if (h.next !== undefined && (typeof h.next !== 'object' || h.next === null || typeof (h.next as { address?: unknown }).address !== 'string')) bad('has a next hop without an address');
  if (h.threads !== undefined && (!Number.isInteger(h.threads) || (h.threads as number) < 1)) bad('has threads that is not a positive integer');
  if (h.encode !== undefined && !(WIRE_ENCODINGS as readonly unknown[]).includes(h.encode)) bad(`has encode ${JSON.stringify(h.encode)}, not one of ${WIRE_ENCODINGS.join(', ')}`);
  if (h.data !== undefined) {
    const d = h.data as { name?: unknown; sha256?: unknown; size?: unknown } | null;
    // The name is the location the model's initializers give, taken as a file in the agent's own directory.
    if (typeof d !== 'object' || d === null || typeof d.name !== 'string' || !/^[\w][\w.-]{0,200}$/.test(d.name) || d.name === 'model.onnx') bad('has a weights file (data) whose name is not a plain file name');
    if (typeof d!.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(d!.sha256) || !Number.isSafeInteger(d!.size) || (d!.size as number) <= 0) bad("has a weights file (data) without its sha256 (64 hex digits) and size (bytes)");
  }
  return h as unknown as DeploySpec;
}

/**
 * A Profile header's `data`: the model's external data files (absent: none), each a relative path
 * inside the model's directory (no absolute path, no `..`), with its sha256 and size.
 */
function checkProfileData(v: unknown): DataFile[] {
  if (v === undefined) return [];
  const bad = (why: string): never => {
    throw new RuntimeError('RUNTIME_BAD_MESSAGE', `Profile: the model header's weights files (data) ${why}`);
  };
  if (!Array.isArray(v) || v.length > 100_000) return bad('must be a list');
  const seen = new Set<string>();
  for (const d of v as { name?: unknown; sha256?: unknown; size?: unknown }[]) {
    const name = typeof d === 'object' && d !== null ? d.name : undefined;
    if (typeof name !== 'string' || name.length > 1024 || !name.split('/').every((s) => s.length > 0 && s.length <= 255 && s !== '.' && s !== '..' && !/[\\\0]/.test(s))) {
      bad(`name ${JSON.stringify(name)}, not a relative path inside the model's directory`);
    }
    if (seen.has(name as string)) bad(`name ${name as string} twice`);
    seen.add(name as string);
    if (typeof d.sha256 !== 'string' || !/^[0-9a-f]{64}$/i.test(d.sha256) || !Number.isSafeInteger(d.size) || (d.size as number) < 0) bad(`include ${name as string} without its sha256 (64 hex digits) and size (bytes)`);
  }
  return v as DataFile[];
}

/** Time transfers from this agent to `peer`: 1-byte round trips, then each size `repeats` times. */
async function measureLink(
  peer: { address: string; token?: string; tls?: TlsMaterial },
  sizes: readonly number[],
  repeats: number,
  maxMessageBytes: number,
  cancelled: () => boolean,
  deadline: grpc.Deadline,
): Promise<{ rttMs: number; samples: LinkSample[]; latencyMs: number; bandwidthBytesPerSec: number }> {
  const client = grpcClient(peer, maxMessageBytes);
  const who = `the peer at ${peer.address}`;
  const md = tokenMetadata(peer.token);
  const sink = (payload: Buffer) =>
    new Promise<number>((resolve, reject) => {
      const t0 = nowMs();
      client.makeUnaryRequest<Buffer, Buffer>(agentService.Sink.path, (b) => b, (b) => b, payload, md, { deadline }, (err) => {
        if (err) reject(fromStatus(err, who, 'a link-test transfer'));
        else resolve(nowMs() - t0);
      });
    });
  try {
    const tiny = encodeMessage({});
    await sink(tiny); // connect first: the handshake is not the link
    const rtts: number[] = [];
    for (let i = 0; i < Math.max(5, repeats); i++) rtts.push(await sink(tiny));
    // Bulk transfers as the pipeline makes them: messages back to back on one stream, so each
    // costs its bytes over the bandwidth and the latency is paid once per stream.
    const drain = (payload: Buffer, count: number) =>
      new Promise<number>((resolve, reject) => {
        const t0 = nowMs();
        const call = client.makeClientStreamRequest<Buffer, Buffer>(agentService.Drain.path, (b) => b, (b) => b, md, { deadline }, (err) => {
          if (err) reject(fromStatus(err, who, 'a link-test stream'));
          else resolve(nowMs() - t0);
        });
        call.on('error', () => {});
        void (async () => {
          // At most two messages handed to HTTP/2 and not yet taken by the network, as a stage sends frames.
          let pending = 0;
          let wake: () => void = () => {};
          for (let i = 0; i < count; i++) {
            while (pending >= 2) await new Promise<void>((r) => (wake = r));
            pending++;
            call.write(payload, () => {
              pending--;
              wake();
            });
          }
          call.end();
        })();
      });
    const samples: LinkSample[] = [];
    for (const bytes of sizes) {
      if (cancelled()) throw new RuntimeError('RUNTIME_ABORTED', 'LinkTest: cancelled by the coordinator');
      const payload = encodeMessage({}, Buffer.alloc(bytes, 7));
      await drain(payload, 1); // warm the window for this size
      // Time per message of a stream: the stream's set-up and round trip, spread over its
      // messages, is the same at every size, so it lands in the fit's intercept, not its slope.
      samples.push({ bytes, ms: (await drain(payload, repeats)) / repeats });
    }
    const rttMs = median(rtts);
    const fit = linearFit(samples.map((s) => s.bytes), samples.map((s) => s.ms));
    // Half the 1-byte round trip is the one-way latency; the slope of the bulk transfers is the time per byte.
    const slope = Math.max(fit.slope, 1e-12);
    return { rttMs, samples, latencyMs: rttMs / 2, bandwidthBytesPerSec: 1000 / slope };
  } finally {
    client.close();
  }
}
