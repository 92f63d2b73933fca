// Running a plan for real: split the model by the plan's stages, deploy each stage on its board's
// agent, stream frames through the pipeline, and set every measured figure beside its prediction.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import {
  disposeModelFiles, externalDataAbove, freshOutputAdvice, largeOutputBytes, maxAbsDiff, modelSource, randomFeeds, runModel, runnableModel, splitModel,
  type LoadedModel, type ModelFiles, type SplitResult,
} from '@dnnpart/onnx-graph';
import { nowMs } from './_clock.js';
import { quantile, median } from './_stats.js';
import { encodeMessage, packTensors, WIRE_ENCODINGS, type WireEncoding } from './_wire.js';
import { connectAgent, sha256, type AgentClient, type AgentEndpoint, type StageHandle } from './client.js';
import type { Connect } from './coordinator.js';
import { fileDigest } from './_files.js';
import { RuntimeError, type RuntimeErrorCode } from './errors.js';
import { grpcTransport, type StageChannel, type Transport } from './transport.js';
import type { DeploySpec, Engine, RunPeriod, RunResult, SharedMachine, StageEvent, StageResult } from './types.js';
import { chromeTrace, type TraceSpan } from './trace.js';

/** The part of a plan a run needs: what `dnnpart solve --json` writes. */
export interface RunPlan {
  readonly stages: readonly { readonly board: string; readonly nodes: readonly string[]; readonly computeMs?: number; readonly memoryBytes?: number; readonly framesBytes?: number }[];
  readonly transfers?: readonly { readonly from: string; readonly to: string; readonly bytes: number; readonly ms: number }[];
  readonly throughputFps?: number;
  readonly latencyMs?: number;
}

/** A run whose outputs differ from the unoptimised unsplit model's by more than this is compared with the optimised one too. */
export const OPTIMISED_REFERENCE_ABOVE = 1e-3;

export interface RunOptions {
  readonly model: LoadedModel;
  readonly plan: RunPlan;
  /** Names the plan in errors ("plan.json"). */
  readonly planName?: string;
  readonly agents: readonly AgentEndpoint[];
  /** Frames to stream; default 50. */
  readonly frames?: number;
  /** Frames per second offered at the input; default 0: as fast as the pipeline takes them. */
  readonly rate?: number;
  /** Frames in the pipeline at once; default stages + 1. */
  readonly inFlight?: number;
  /** Frames whose outputs are compared with the unsplit model; default 2. */
  readonly compareFrames?: number;
  /** Frames sent first and left out of every figure (sessions and JIT warming up); default 2. */
  readonly warmupFrames?: number;
  /** The engine each board's figures assume; default onnxruntime-cpu for every board. */
  readonly engines?: Readonly<Record<string, Engine>>;
  /** Stop when no frame makes progress for this long; default 15 s. */
  readonly stallTimeoutMs?: number;
  /**
   * Deploying all stages; default 300 s (an agent has onnxruntime's optimiser save each stage's graph
   * first, up to LEAN_TIMEOUT_MS: VGG-16's 528 MB took 17 s here).
   */
  readonly deployTimeoutMs?: number;
  /** The whole run (the Stage calls' deadline); default 30 min. */
  readonly runTimeoutMs?: number;
  /** onnxruntime threads per stage (default: onnxruntime's). */
  readonly threads?: number;
  /**
   * How float32 tensors travel between stages (a system's `transfer`): one encoding for every hop,
   * or one per hop (stage k to k + 1); default fp32, as they are. The outputs sent back to the
   * coordinator go as they are.
   */
  readonly transfer?: WireEncoding | readonly WireEncoding[];
  /**
   * How the coordinator sends the model inputs to the first stage: as they are (fp32, the default),
   * or encoded, as a plan whose first stage is not on its input board prices the input's transfer
   * when the system encodes its transfers (`dnnpart run` decides it from the plan).
   */
  readonly inputTransfer?: WireEncoding;
  readonly maxTensorBytes?: number;
  readonly connect?: Connect;
  readonly transport?: Transport;
  readonly onProgress?: (message: string, done?: number, total?: number) => void;
  readonly signal?: AbortSignal;
}

export interface RunOutput extends RunResult {
  /** Chrome trace events (write with JSON.stringify). */
  readonly trace: ReturnType<typeof chromeTrace>;
}

/** Where the frame period went (RunPeriod): the slowest timed step and what no step accounts for. */
export function runPeriod(throughputFps: number, stages: readonly StageResult[], out: { readonly from: string; readonly measuredMs: number }): RunPeriod {
  const frameMs = throughputFps > 0 ? 1000 / throughputFps : 0;
  const steps = [
    ...stages.flatMap((s) => [
      { step: `stage ${s.stage} compute on ${s.agent}`, ms: s.computeMs.measured },
      // A hop's own time: not the part its receiver spent computing other frames.
      { step: `transfer into stage ${s.stage} from ${s.transferIn.from}`, ms: Math.max(0, s.transferIn.measuredMs - (s.transferIn.waitingMs ?? 0)) },
    ]),
    { step: `outputs back from ${out.from}`, ms: out.measuredMs },
  ];
  const slowest = steps.reduce((a, b) => (b.ms > a.ms ? b : a));
  return { frameMs, slowest, unaccountedMs: Math.max(0, frameMs - slowest.ms) };
}

/**
 * How much of [start, end] falls in the busy spans (sorted or not, possibly overlapping): the part
 * of a frame's way into an agent during which onnxruntime held that agent's thread for other frames.
 */
export function busyOverlapMs(start: number, end: number, busy: readonly { readonly start: number; readonly end: number }[]): number {
  const cut = busy
    .map((b) => ({ start: Math.max(start, b.start), end: Math.min(end, b.end) }))
    .filter((b) => b.end > b.start)
    .sort((a, b) => a.start - b.start);
  let total = 0;
  let reach = start;
  for (const b of cut) {
    const from = Math.max(reach, b.start);
    if (b.end > from) total += b.end - from;
    reach = Math.max(reach, b.end);
  }
  return total;
}

/** The node -> stage map of a plan, checked against the model. */
export function stageMapFromPlan(plan: RunPlan, model: LoadedModel, planName = 'the plan'): Record<string, number> {
  if (!Array.isArray(plan.stages) || plan.stages.length === 0) throw new RuntimeError('RUNTIME_PLAN', `${planName}: no stages (is it a plan of \`dnnpart solve --json\` with status optimal or feasible?)`);
  const known = new Set(model.graph.nodes.map((n) => n.name));
  const map: Record<string, number> = {};
  // A plan file is the user's JSON: each figure the run sets a measurement beside must be a number.
  const figure = (v: unknown, field: string) => {
    if (v !== undefined && v !== null && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new RuntimeError('RUNTIME_PLAN', `${planName}: ${field}: must be a number >= 0, got ${JSON.stringify(v)}`);
  };
  figure(plan.throughputFps, 'throughputFps');
  figure(plan.latencyMs, 'latencyMs');
  if (plan.transfers !== undefined && plan.transfers !== null) {
    if (!Array.isArray(plan.transfers)) throw new RuntimeError('RUNTIME_PLAN', `${planName}: transfers: must be a list of { from, to, bytes, ms }`);
    plan.transfers.forEach((t, k) => {
      if (t === null || typeof t !== 'object' || typeof t.from !== 'string' || typeof t.to !== 'string') throw new RuntimeError('RUNTIME_PLAN', `${planName}: transfers[${k}]: must be { from, to, bytes, ms }`);
      figure(t.bytes, `transfers[${k}].bytes`);
      figure(t.ms, `transfers[${k}].ms`);
    });
  }
  plan.stages.forEach((s, k) => {
    if (s === null || typeof s !== 'object' || typeof s.board !== 'string' || !Array.isArray(s.nodes)) throw new RuntimeError('RUNTIME_PLAN', `${planName}: stages[${k}] needs board and nodes`);
    figure(s.computeMs, `stages[${k}].computeMs`);
    figure(s.memoryBytes, `stages[${k}].memoryBytes`);
    figure(s.framesBytes, `stages[${k}].framesBytes`);
    for (const n of s.nodes) {
      if (!known.has(n)) throw new RuntimeError('RUNTIME_PLAN', `${planName}: stages[${k}].nodes: node "${n}" is not in model ${model.graph.name}; was the plan made for another model?`);
      if (n in map) throw new RuntimeError('RUNTIME_PLAN', `${planName}: node "${n}" is in stages ${map[n]} and ${k}`);
      map[n] = k;
    }
  });
  for (const n of model.graph.nodes) if (!(n.name in map)) throw new RuntimeError('RUNTIME_PLAN', `${planName}: node "${n.name}" of ${model.graph.name} is in no stage`);
  return map;
}

/** The encoding of each hop between stages (stages - 1 of them) from RunOptions.transfer. */
function hopEncodings(transfer: RunOptions['transfer'], stages: number, planName: string): WireEncoding[] {
  const n = Math.max(0, stages - 1);
  const list = transfer === undefined ? Array<WireEncoding>(n).fill('fp32') : typeof transfer === 'string' ? Array<WireEncoding>(n).fill(transfer) : [...transfer];
  if (list.length !== n) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `${planName}: ${list.length} transfer encodings for ${n} hops between its ${stages} stages`);
  for (const e of list) if (!WIRE_ENCODINGS.includes(e)) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `transfer encoding "${String(e)}" is not one of ${WIRE_ENCODINGS.join(', ')}`);
  return list;
}

/**
 * For each stage, the tensors to pass on after it; index 0 is what the coordinator sends in. With
 * `home` (agents that send the model outputs they make back themselves, homeSets), only what later
 * stages read; without, the model outputs too, relayed to the last stage, which sends them back.
 */
export function forwardSets(split: SplitResult, graphInputs: readonly string[], graphOutputs: readonly string[], home = false): string[][] {
  const k = split.stages.length;
  const out: string[][] = [];
  for (let i = -1; i < k; i++) {
    const available = new Set<string>(graphInputs);
    for (let j = 0; j <= i; j++) for (const o of split.stages[j]!.outputs) available.add(o);
    const needed = new Set<string>(home ? [] : graphOutputs);
    for (let j = i + 1; j < k; j++) for (const x of split.stages[j]!.inputs) needed.add(x);
    out.push([...available].filter((x) => needed.has(x)));
  }
  return out;
}

/** For each stage, the model outputs it makes (sent back by it: DeploySpec.home). */
export function homeSets(split: SplitResult, graphOutputs: readonly string[]): string[][] {
  const wanted = new Set(graphOutputs);
  return split.stages.map((s) => s.outputs.filter((o) => wanted.has(o)));
}

interface Deployed {
  readonly index: number;
  readonly board: string;
  readonly client: AgentClient;
  handle?: StageHandle;
  readonly events: StageEvent[];
}

/** Run `plan` on the agents; throws a RuntimeError naming the agent and stage when one fails or stalls. */
export async function runPlan(o: RunOptions): Promise<RunOutput> {
  const planName = o.planName ?? 'the plan';
  const frames = o.frames ?? 50;
  if (!Number.isInteger(frames) || frames < 1) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `--frames must be a positive integer, got ${frames}`);
  const rate = o.rate ?? 0;
  const progress = o.onProgress ?? (() => {});
  const connect = o.connect ?? connectAgent;
  const transport = o.transport ?? grpcTransport;
  const maxTensorBytes = o.maxTensorBytes ?? 256 * (1 << 20);
  const stall = o.stallTimeoutMs ?? 15_000;
  const byId = new Map(o.agents.map((a) => [a.id, a]));
  const graph = o.model.graph;

  const map = stageMapFromPlan(o.plan, o.model, planName);
  o.plan.stages.forEach((s, k) => {
    if (!byId.has(s.board)) throw new RuntimeError('RUNTIME_PLAN', `${planName}: stage ${k} runs on board "${s.board}", which the agents file does not name (agents: ${[...byId.keys()].join(', ')})`);
  });
  const split = splitModel(o.model, { stages: map });
  const hops = hopEncodings(o.transfer, split.stages.length, planName);
  const inputHop = o.inputTransfer ?? 'fp32';
  if (!WIRE_ENCODINGS.includes(inputHop)) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `input transfer encoding "${String(inputHop)}" is not one of ${WIRE_ENCODINGS.join(', ')}`);

  // Facts first: every agent answers and has the engine its board's figures assume, or nothing is deployed.
  const clients = new Map<string, AgentClient>();
  const closeAll = () => {
    for (const c of clients.values()) c.close();
  };
  const deployed: Deployed[] = [];
  // Models too large for one buffer (the reference, a stage) go through files, removed at the end.
  const files: ModelFiles = {};
  const above = externalDataAbove();
  try {
    for (const s of o.plan.stages) if (!clients.has(s.board)) clients.set(s.board, connect(byId.get(s.board)!));
    progress('asking the agents for their facts');
    const infos = new Map(await Promise.all([...clients.entries()].map(async ([id, c]) => [id, await c.info()] as const)));
    const shared = sharedMachines([...infos.entries()].map(([id, info]) => ({ id, address: byId.get(id)!.peer.address, cores: info.board.cores })));
    o.plan.stages.forEach((s, k) => {
      const need = o.engines?.[s.board] ?? 'onnxruntime-cpu';
      const has = infos.get(s.board)!.engines;
      if (!has.includes(need)) {
        throw new RuntimeError('RUNTIME_ENGINE', `${planName}: stage ${k} on board ${s.board} assumes engine ${need}, but agent ${s.board} at ${byId.get(s.board)!.peer.address} has ${has.join(', ') || 'no engine'}; re-plan with a description of what that board runs`);
      }
    });
    // Each stage sends back the model outputs it makes, where every agent can (older ones relay them to the last stage).
    // (The last stage always makes some: it times the hop back. One that makes none keeps the old way.)
    const made = homeSets(split, graph.outputs);
    const direct = [...infos.values()].every((i) => i.outputsHome === true) && made.at(-1)!.length > 0;
    const forward = forwardSets(split, graph.inputs, graph.outputs, direct);
    const home = direct ? made : split.stages.map((_, k) => (k === split.stages.length - 1 ? forward[k + 1]! : []));
    // Model outputs that are model inputs too: no stage makes them, the frame's own input is them.
    const passThrough = direct ? graph.outputs.filter((x) => graph.inputs.includes(x)) : [];
    const pieces = home.filter((h) => h.length > 0).length;
    // An encoded hop needs both of its agents to know the encoding (agents before it send and read float32 only).
    hops.forEach((enc, k) => {
      if (enc === 'fp32') return;
      for (const board of [o.plan.stages[k]!.board, o.plan.stages[k + 1]!.board]) {
        const info = infos.get(board)!;
        if (!(info.transferEncodings ?? []).includes(enc)) {
          throw new RuntimeError('RUNTIME_ENGINE', `${planName}: the hop from stage ${k} to stage ${k + 1} sends ${enc} tensors, which agent ${board} at ${byId.get(board)!.peer.address} (version ${info.agentVersion}) cannot ${board === o.plan.stages[k]!.board ? 'send' : 'read'}; update its dnnpart-agent, or run with transfer fp32`);
        }
      }
    });
    const firstInfo = infos.get(o.plan.stages[0]!.board)!;
    if (inputHop !== 'fp32' && !(firstInfo.transferEncodings ?? []).includes(inputHop)) {
      throw new RuntimeError('RUNTIME_ENGINE', `${planName}: the model inputs go to stage 0 as ${inputHop}, which agent ${o.plan.stages[0]!.board} at ${byId.get(o.plan.stages[0]!.board)!.peer.address} (version ${firstInfo.agentVersion}) cannot read; update its dnnpart-agent, or run with transfer fp32`);
    }
    // Stages handing back tensors of 32 MiB or more on agents whose allocator maps them afresh every run.
    for (const memory of ['fresh', 'other'] as const) {
      const large = split.stages.flatMap((s, k) => {
        const board = o.plan.stages[k]!.board;
        if ((infos.get(board)!.outputMemory ?? 'other') !== memory) return [];
        return [{ who: `stage ${k} (agent ${board})`, bytes: largeOutputBytes(graph, s.outputs) }];
      });
      const advice = freshOutputAdvice(large, memory, ', which can slow the pipeline');
      if (advice) progress(advice);
    }

    // Reference outputs before the run, so the local runs do not compete with the pipeline.
    const warmup = o.warmupFrames ?? 2;
    if (!Number.isInteger(warmup) || warmup < 0) throw new RuntimeError('RUNTIME_BAD_OPTIONS', `warmupFrames must be a non-negative integer, got ${warmup}`);
    const total = frames + warmup;
    const compare = Math.min(o.compareFrames ?? 2, frames);
    const pool = Array.from({ length: Math.min(frames, 4) }, (_, i) => randomFeeds(graph, i + 1));
    const expected: Record<string, ort.Tensor>[] = [];
    if (compare > 0) {
      progress('running the unsplit model here for reference');
      const bytes = await modelSource(runnableModel(o.model), files, 'reference', above);
      for (let i = 0; i < compare; i++) expected.push(await runModel(bytes, pool[i % pool.length]!, graph.outputs, { label: `${graph.name} (unsplit, for reference)` }));
    }

    const run = randomBytes(6).toString('hex');
    let failure: { error: RuntimeError; stage: number } | undefined;
    let failWake: () => void = () => {};
    const failed = new Promise<void>((r) => (failWake = r));
    const errors: { error: RuntimeError; stage: number }[] = [];
    const onError = (stage: number) => (e: RuntimeError) => {
      errors.push({ error: e, stage });
      if (!failure) {
        failure = { error: e, stage };
        // Other agents' reports arrive within moments; the stage whose own agent broke is the one to name.
        setTimeout(failWake, 300);
      }
    };

    const arrivals = new Map<number, number>();
    const partial = new Map<number, { tensors: Record<string, ort.Tensor>; got: Set<number> }>();
    const outputBytes = new Map<number, number>();
    const lastSend = new Map<number, number>();
    let maxDiff = 0;
    let compared = 0;
    // The compared frames' outputs, for a second reference when the first differs (see below).
    const got: Record<string, ort.Tensor>[] = [];
    let lastProgress = nowMs();
    let outstanding = 0;
    let wakeSender: () => void = () => {};
    let allDone: () => void = () => {};
    const finished = new Promise<void>((r) => (allDone = r));
    const sentAt = new Map<number, number>();

    // What each agent is sent, written before anything is deployed: a stage whose weights go in a file of
    // their own needs an agent that takes one.
    const sent: Awaited<ReturnType<typeof stageFiles>>[] = [];
    for (const [k, s] of split.stages.entries()) {
      const parts = await stageFiles(s.proto, files, `stage-${k}`, above);
      const board = o.plan.stages[k]!.board;
      if (parts.data && infos.get(board)!.stageWeightsFile !== true) {
        throw new RuntimeError('RUNTIME_TOO_LARGE', `${planName}: stage ${k}'s weights (${parts.data.spec.size} bytes) pass what one model message carries and go in a file of their own, which agent ${board} at ${byId.get(board)!.peer.address} (version ${infos.get(board)!.agentVersion}) cannot take; update its dnnpart-agent`);
      }
      sent.push(parts);
    }
    progress(`deploying ${split.stages.length} stages`);
    const deployDeadline = o.deployTimeoutMs ?? 300_000;
    const last = split.stages.length - 1;
    for (const [k, s] of split.stages.entries()) {
      deployed.push({ index: k, board: o.plan.stages[k]!.board, client: clients.get(o.plan.stages[k]!.board)!, events: [] });
      void s;
    }
    await withTimeout(Promise.all(deployed.map(async (d) => {
      const s = split.stages[d.index]!;
      const next = d.index < last ? byId.get(deployed[d.index + 1]!.board)!.peer : undefined;
      const { model: stageBytes, data } = sent[d.index]!;
      const spec: DeploySpec = {
        run, stage: d.index, stages: split.stages.length, sha256: sha256(stageBytes), size: stageBytes.length,
        ...(data ? { data: data.spec } : {}),
        inputs: s.inputs, outputs: s.outputs, forward: d.index < last ? forward[d.index + 1]! : (direct ? [] : forward[d.index + 1]!), nodes: s.nodes.length,
        ...(direct ? { home: home[d.index]! } : {}),
        ...(next ? { next } : {}), ...(o.threads ? { threads: o.threads } : {}),
        ...(next && hops[d.index] !== 'fp32' ? { encode: hops[d.index] } : {}),
      };
      d.handle = await d.client.deployStage(spec, stageBytes, {
        onEvent: (e) => {
          d.events.push(e);
          lastProgress = nowMs();
        },
        onOutput: (frame, sent, piece) => {
          const t = nowMs();
          lastProgress = t;
          if (arrivals.has(frame)) return;
          // The frame's outputs come from each stage that makes some; the last stage's piece times the hop back.
          const p = partial.get(frame) ?? { tensors: {} as Record<string, ort.Tensor>, got: new Set<number>() };
          partial.set(frame, p);
          if (p.got.has(d.index)) return;
          p.got.add(d.index);
          Object.assign(p.tensors, piece);
          if (d.index === last) {
            lastSend.set(frame, sent);
            let b = 0;
            for (const v of Object.values(piece)) b += (v.data as ArrayBufferView).byteLength;
            outputBytes.set(frame, b);
          }
          if (p.got.size < pieces) return;
          partial.delete(frame);
          const feeds = pool[Math.max(0, frame - warmup) % pool.length]!;
          for (const x of passThrough) p.tensors[x] = feeds[x]!;
          const tensors = p.tensors;
          arrivals.set(frame, t);
          if (frame >= warmup && frame - warmup < compare) {
            maxDiff = Math.max(maxDiff, maxAbsDiff(expected[frame - warmup]!, tensors, graph.outputs));
            got[frame - warmup] = tensors;
            compared++;
          }
          outstanding--;
          wakeSender();
          if (arrivals.size === total) allDone();
        },
        onError: onError(d.index),
      }, { timeoutMs: o.runTimeoutMs ?? 30 * 60_000, maxTensorBytes, ...(data ? { dataFile: data.path } : {}) });
      progress(`stage ${d.index} ready on ${d.board}`, deployed.filter((x) => x.handle).length, deployed.length);
      if (d.handle.levelNote) progress(`agent ${d.board}: ${d.handle.levelNote}`);
    })), deployDeadline, () => new RuntimeError('RUNTIME_DEADLINE', `deploying the stages took longer than ${deployDeadline / 1000} s (stages not ready: ${deployed.filter((d) => !d.handle).map((d) => `${d.index} on ${d.board}`).join(', ')})`));

    // Clocks after every deployment, while this process has nothing else to do.
    for (const d of deployed) await d.handle!.syncClock();
    const first = byId.get(deployed[0]!.board)!;
    const channel: StageChannel = transport.openStageChannel(first.peer, {
      who: `stage 0 on agent ${first.id} at ${first.peer.address}`, deadlineMs: o.runTimeoutMs ?? 30 * 60_000, maxMessageBytes: Math.max(64 << 20, 4 * maxTensorBytes),
    });
    const window = o.inFlight ?? split.stages.length + 1;
    const inputs = forward[0]!;
    const encoded = pool.map((feeds) => packTensors(Object.fromEntries(inputs.map((n) => [n, feeds[n]!])), inputHop));

    progress(`streaming ${frames} frames${warmup ? ` after ${warmup} to warm up` : ''}`, 0, frames);
    const t0 = nowMs();
    lastProgress = t0;
    let channelError: RuntimeError | undefined;
    let stopping = false;
    const sender = (async () => {
      for (let i = 0; i < total; i++) {
        while ((outstanding >= window || (rate > 0 && nowMs() < t0 + (i * 1000) / rate)) && !failure && !stopping) {
          const wait = rate > 0 ? Math.max(0, t0 + (i * 1000) / rate - nowMs()) : 50;
          await new Promise<void>((r) => {
            wakeSender = r;
            setTimeout(r, outstanding >= window ? 50 : wait);
          });
        }
        if (failure || stopping || o.signal?.aborted) return;
        // The warm-up frames reuse the pool; the first measured frame is the first compared one.
        const { headers, parts } = encoded[Math.max(0, i - warmup) % encoded.length]!;
        const at = nowMs();
        sentAt.set(i, at);
        outstanding++;
        await channel.send(encodeMessage({ run, stage: 0, frame: i, sentAt: at, tensors: headers }, parts));
      }
      await channel.close();
    })().catch((e) => {
      channelError = e instanceof RuntimeError ? e : new RuntimeError('RUNTIME_AGENT_FAILED', String(e));
      onError(0)(channelError);
    });

    let stalled: RuntimeError | undefined;
    const watchdog = setInterval(() => {
      if (o.signal?.aborted) {
        stalled = new RuntimeError('RUNTIME_ABORTED', 'the run was interrupted');
        failWake();
        return;
      }
      if (nowMs() - lastProgress < stall) return;
      // The stalled stage: the last one holding frames (back-pressure backs up every stage before it).
      let k = deployed.length - 1;
      let into = 0;
      for (let j = 0, prev = sentAt.size; j < deployed.length; prev = deployed[j]!.events.length, j++) {
        if (deployed[j]!.events.length < prev) {
          k = j;
          into = prev;
        }
      }
      const d = deployed[k]!;
      stalled = new RuntimeError('RUNTIME_STALLED', `stage ${k} on agent ${d.board} at ${byId.get(d.board)!.peer.address} made no progress for ${(stall / 1000).toFixed(1)} s (${into} frames went in, ${d.events.length} came out); stopped the run`);
      failWake();
    }, Math.min(500, stall / 4));

    await Promise.race([finished, failed]);
    clearInterval(watchdog);
    if (failure || stalled) {
      // Stop every stage on every agent before reporting.
      stopping = true;
      for (const d of deployed) d.handle?.cancel();
      channel.abort();
      await sender;
      if (stalled) throw stalled;
      const chosen = pickCause(errors);
      const d = deployed[chosen.stage]!;
      throw new RuntimeError(chosen.error.code as RuntimeErrorCode, `run stopped at stage ${chosen.stage} on agent ${d.board}: ${chosen.error.message}`, { cause: chosen.error });
    }
    const wallMs = nowMs() - t0;
    await sender;
    for (const d of deployed) d.handle?.stop();

    // Figures from the measured frames only.
    const measured = <T>(m: ReadonlyMap<number, T>) => new Map([...m].filter(([f]) => f >= warmup));
    for (const d of deployed) d.events.splice(0, d.events.length, ...d.events.filter((e) => e.frame >= warmup));
    // Past OPTIMISED_REFERENCE_ABOVE, the unsplit model again with every optimisation on, as the
    // stages run: onnxruntime's fused kernels (quantized MatMuls above all) round differently from the
    // unfused graph, by as much as a split would ever be blamed for (Moonshine's encoder: 0.2).
    let maxDiffOptimised: number | undefined;
    // With tensors encoded between stages (fp16, int8), the outputs differ by the encoding: that is the
    // difference to report (dnnpart accuracy scores it), not onnxruntime's rounding.
    if (maxDiff > OPTIMISED_REFERENCE_ABOVE && hops.every((e) => e === 'fp32') && inputHop === 'fp32') {
      progress('running the unsplit model here again, optimised as the stages run');
      const bytes = await modelSource(runnableModel(o.model), files, 'reference', above);
      maxDiffOptimised = 0;
      for (const [i, tensors] of got.entries()) {
        if (!tensors) continue;
        const ref = await runModel(bytes, pool[i % pool.length]!, graph.outputs, { optimised: true, label: `${graph.name} (unsplit, optimised, for reference)` });
        maxDiffOptimised = Math.max(maxDiffOptimised, maxAbsDiff(ref, tensors, graph.outputs));
      }
    }
    return summarise({ o, deployed, split, frames, t0, wallMs, sentAt: measured(sentAt), arrivals: measured(arrivals), lastSend: measured(lastSend), outputBytes: measured(outputBytes), maxDiff, compared, byId, hops, inputHop, sharedMachines: shared, ...(maxDiffOptimised !== undefined ? { maxDiffOptimised } : {}) });
  } catch (e) {
    for (const d of deployed) d.handle?.cancel();
    throw e;
  } finally {
    // Give the cancellations a moment to leave before the channels close.
    await new Promise((r) => setTimeout(r, 20));
    closeAll();
    await disposeModelFiles(files);
  }
}

/**
 * What a stage's agent is sent: the model's bytes, and for a stage whose weights pass `above` the file
 * its weights were written to beside it (streamed from disk after the model; see DeploySpec.data).
 */
async function stageFiles(proto: SplitResult['stages'][number]['proto'], files: ModelFiles, name: string, above: number): Promise<{ model: Uint8Array; data?: { path: string; spec: NonNullable<DeploySpec['data']> } }> {
  const source = await modelSource(proto, files, name, above);
  if (typeof source !== 'string') return { model: source };
  const model = await readFile(source);
  const dataPath = `${source}.data`;
  if (!existsSync(dataPath)) return { model };
  return { model, data: { path: dataPath, spec: { name: path.basename(dataPath), ...(await fileDigest(dataPath)) } } };
}

/** The error to report: a stage whose own agent broke beats one that only failed to forward to it. */
function pickCause(errors: readonly { error: RuntimeError; stage: number }[]): { error: RuntimeError; stage: number } {
  const own = errors.find((e) => e.error.code === 'RUNTIME_UNAVAILABLE' && !/receiving frames|forward/.test(e.error.message));
  if (own) return own;
  const specific = errors.find((e) => e.error.code !== 'RUNTIME_AGENT_FAILED' && e.error.code !== 'RUNTIME_UNAVAILABLE' && e.error.code !== 'RUNTIME_ABORTED');
  return specific ?? errors[0]!;
}

async function withTimeout<T>(p: Promise<T>, ms: number, error: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(error()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

interface Collected {
  readonly o: RunOptions;
  readonly deployed: readonly Deployed[];
  readonly split: SplitResult;
  readonly frames: number;
  readonly t0: number;
  readonly wallMs: number;
  readonly sentAt: ReadonlyMap<number, number>;
  readonly arrivals: ReadonlyMap<number, number>;
  readonly lastSend: ReadonlyMap<number, number>;
  readonly outputBytes: ReadonlyMap<number, number>;
  readonly maxDiff: number;
  readonly maxDiffOptimised?: number;
  readonly compared: number;
  readonly byId: ReadonlyMap<string, AgentEndpoint>;
  /** Each hop's encoding (hopEncodings). */
  readonly hops: readonly WireEncoding[];
  readonly inputHop: WireEncoding;
  readonly sharedMachines: readonly SharedMachine[];
}

/** The host part of an agent's address (host:port, [v6]:port), lower case; this machine's own addresses as `loopback`. */
export function hostOfAddress(address: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address.trim());
  const host = (bracketed ? bracketed[1]! : address.trim().replace(/:\d+$/, '')).toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\./.test(host) ? 'loopback' : host;
}

/** The plan's agents grouped by the machine their addresses name, groups of two or more (RunResult.sharedMachines). */
export function sharedMachines(agents: readonly { readonly id: string; readonly address: string; readonly cores: number }[]): SharedMachine[] {
  const byHost = new Map<string, { id: string; cores: number }[]>();
  for (const a of agents) {
    const h = hostOfAddress(a.address);
    byHost.set(h, [...(byHost.get(h) ?? []), { id: a.id, cores: a.cores }]);
  }
  return [...byHost.entries()].filter(([, as]) => as.length > 1).map(([host, as]) => ({ host, agents: as.map((a) => a.id), cores: as[0]!.cores }));
}

/** Medians of an encoded hop's encoding (the sender's events) and decoding (the receiver's); absent where an agent did not say. */
function codingMs(sender: readonly StageEvent[], receiver: readonly StageEvent[]): { encodeMs?: number; decodeMs?: number } {
  const of = (xs: (number | undefined)[]) => xs.filter((x): x is number => typeof x === 'number');
  const enc = of(sender.map((e) => e.encodeMs));
  const dec = of(receiver.map((e) => e.decodeMs));
  return { ...(enc.length ? { encodeMs: median(enc) } : {}), ...(dec.length ? { decodeMs: median(dec) } : {}) };
}

/** A stage's own encoding and decoding time per frame (median of their sums), when it did either. */
function stageCodingMs(events: readonly StageEvent[]): { codingMs?: number } {
  const coded = events.filter((e) => typeof e.encodeMs === 'number' || typeof e.decodeMs === 'number');
  return coded.length > 0 ? { codingMs: median(coded.map((e) => (e.encodeMs ?? 0) + (e.decodeMs ?? 0))) } : {};
}

function summarise(c: Collected): RunOutput {
  const { o, deployed, frames } = c;
  const { hops } = c;
  const plan = o.plan;
  const times = [...c.arrivals.values()].sort((a, b) => a - b);
  const firstSent = Math.min(...c.sentAt.values());
  const throughputFps = frames >= 2 ? ((frames - 1) * 1000) / (times[times.length - 1]! - times[0]!) : 1000 / (times[0]! - firstSent);
  const latencies = [...c.arrivals.entries()].map(([f, t]) => t - c.sentAt.get(f)!);
  // Agent clocks to ours: t_ours = t_agent - offset.
  const local = (d: Deployed, t: number) => t - (d.handle?.clockOffsetMs ?? 0);
  const spans: TraceSpan[] = [];
  const stages: StageResult[] = deployed.map((d, k) => {
    const prev = k > 0 ? deployed[k - 1]! : undefined;
    const prevSend = new Map(prev ? prev.events.map((e) => [e.frame, local(prev, e.sendStart)]) : [...c.sentAt.entries()]);
    const compute = d.events.map((e) => e.computeEnd - e.computeStart);
    const transfer = d.events.map((e) => local(d, e.arrivedAt) - (prevSend.get(e.frame) ?? local(d, e.arrivedAt)));
    // onnxruntime-node runs a session on the thread that calls it: where that is the agent's
    // JavaScript thread (a stage whose frames are small, every stage of agents before sessions could
    // have threads, or DNNPART_STAGE_SESSION=main), a frame that comes in while the agent computes
    // another is taken in only after it. That wait is not the link's. A session in a thread of its own
    // (sessionThread 'worker') holds nothing up.
    // One thread computes one frame at a time: the spans, sorted by start, are sorted by end too.
    const busy = deployed.filter((x) => x.board === d.board && x.handle?.sessionThread !== 'worker')
      .flatMap((x) => x.events.map((e) => ({ frame: e.frame, stage: x.index, start: local(x, e.computeStart), end: local(x, e.computeEnd) })))
      .sort((a, b) => a.start - b.start);
    const waiting = d.events.map((e) => {
      const arrived = local(d, e.arrivedAt);
      const sent = prevSend.get(e.frame) ?? arrived;
      // The spans that can overlap [sent, arrived]: from the first ending after `sent` (binary search).
      let lo = 0;
      for (let hi = busy.length; lo < hi; ) {
        const mid = (lo + hi) >> 1;
        if (busy[mid]!.end <= sent) lo = mid + 1;
        else hi = mid;
      }
      const window: typeof busy = [];
      for (let k = lo; k < busy.length && busy[k]!.start < arrived; k++) if (busy[k]!.frame !== e.frame || busy[k]!.stage !== d.index) window.push(busy[k]!);
      return busyOverlapMs(sent, arrived, window);
    });
    for (const e of d.events) {
      const ps = prevSend.get(e.frame);
      if (ps !== undefined) spans.push({ track: d.board, name: 'receive', frame: e.frame, start: ps - c.t0, end: local(d, e.arrivedAt) - c.t0 });
      spans.push({ track: d.board, name: `compute stage ${k}`, frame: e.frame, start: local(d, e.computeStart) - c.t0, end: local(d, e.computeEnd) - c.t0 });
      spans.push({ track: d.board, name: 'send', frame: e.frame, start: local(d, e.sendStart) - c.t0, end: local(d, e.sendEnd) - c.t0 });
    }
    const from = prev ? prev.board : 'coordinator';
    const rss = d.handle?.rss;
    const rssAfter = d.events.map((e) => e.rssBytes).filter((x): x is number => typeof x === 'number');
    const memory = rss ? {
      loadedBytes: Math.max(0, rss.loadedBytes - rss.beforeBytes),
      peakBytes: Math.max(0, rssAfter.reduce((a, x) => Math.max(a, x), rss.loadedBytes) - rss.beforeBytes),
      // A plan file is the user's JSON: only a number is a prediction.
      predictedBytes: typeof plan.stages[k]!.memoryBytes === 'number' ? plan.stages[k]!.memoryBytes! : null,
      ...(typeof plan.stages[k]!.framesBytes === 'number' ? { predictedFramesBytes: plan.stages[k]!.framesBytes! } : {}),
      ...(rss.preoptimised !== undefined ? { preoptimised: rss.preoptimised } : {}),
      ...(rss.threadBytes !== undefined ? { threadBytes: rss.threadBytes } : {}),
      ...(rss.footprint ? { alone: rss.footprint } : {}),
    } : undefined;
    const predicted = (plan.transfers ?? []).filter((t) => t.to === d.board && (prev ? t.from === prev.board : true));
    const chosen = prev ? predicted : predicted.slice(0, 1);
    return {
      stage: k,
      agent: d.board,
      nodes: c.split.stages[k]!.nodes.length,
      computeMs: { measured: median(compute), p95: quantile(compute, 0.95), predicted: plan.stages[k]!.computeMs ?? null, ...stageCodingMs(d.events) },
      transferIn: {
        from,
        bytes: d.events[0]?.bytesIn ?? 0,
        measuredMs: median(transfer),
        waitingMs: median(waiting),
        predictedMs: chosen.length > 0 ? chosen.reduce((s, t) => s + t.ms, 0) : null,
        predictedBytes: chosen.length > 0 ? chosen.reduce((s, t) => s + t.bytes, 0) : null,
        ...(k > 0 && hops[k - 1] !== 'fp32' ? { encoding: hops[k - 1] as 'fp16' | 'int8', ...codingMs(prev!.events, d.events) } : {}),
        // The model inputs, encoded once before the frames are sent: only their decoding is this run's.
        ...(k === 0 && c.inputHop !== 'fp32' ? { encoding: c.inputHop as 'fp16' | 'int8', ...codingMs([], d.events) } : {}),
      },
      ...(memory ? { memory } : {}),
    };
  });
  const lastStage = deployed[deployed.length - 1]!;
  const outMs = [...c.arrivals.entries()].map(([f, t]) => t - local(lastStage, c.lastSend.get(f)!));
  for (const [f, t] of c.arrivals) {
    spans.push({ track: 'coordinator', name: 'input', frame: f, start: c.sentAt.get(f)! - c.t0, end: c.sentAt.get(f)! - c.t0 + 0.01 });
    spans.push({ track: 'coordinator', name: 'output', frame: f, start: local(lastStage, c.lastSend.get(f)!) - c.t0, end: t - c.t0 });
  }
  return {
    frames,
    throughputFps,
    latencyMs: { p50: median(latencies), p95: quantile(latencies, 0.95) },
    predicted: { throughputFps: plan.throughputFps ?? null, latencyMs: plan.latencyMs ?? null },
    maxAbsDiff: c.maxDiff,
    ...(c.maxDiffOptimised !== undefined ? { maxAbsDiffOptimised: c.maxDiffOptimised } : {}),
    compared: c.compared,
    stages,
    transferOut: { from: lastStage.board, bytes: [...c.outputBytes.values()][0] ?? 0, measuredMs: median(outMs) },
    wallMs: c.wallMs,
    period: runPeriod(throughputFps, stages, { from: lastStage.board, measuredMs: median(outMs) }),
    ...(c.sharedMachines.length > 0 ? { sharedMachines: c.sharedMachines } : {}),
    trace: chromeTrace(spans, ['coordinator', ...new Set(deployed.map((d) => d.board))]),
  };
}
