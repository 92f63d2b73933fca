// The runtime's plain data: what an agent says about itself, link measurements, stage events,
// and a run's result with each measured figure beside its prediction.
import { boardEngines, type ProfileBoard } from '@dnnpart/profiler';
import type { PeerSpec } from './credentials.js';

/** Engines a board description can assume, and an agent can report (one list, the profiler's). */
export const ENGINES = boardEngines;
export type Engine = (typeof boardEngines)[number];

/** What an agent reports in Info. */
export interface AgentInfo {
  readonly agentVersion: string;
  readonly board: ProfileBoard;
  readonly onnxruntime: string;
  /** onnxruntime execution providers that created a session on this board (probed at start). */
  readonly executionProviders: readonly string[];
  /** Engines this agent can run a stage on (`onnxruntime-<provider>`). */
  readonly engines: readonly Engine[];
  /** queueBytes: absent from agents before it. */
  readonly limits: { readonly maxTensorBytes: number; readonly maxModelBytes: number; readonly queueFrames: number; readonly queueBytes?: number };
  /** Stages deployed right now. */
  readonly stages: number;
  readonly tls: boolean;
  readonly token: boolean;
  /**
   * How the agent's C allocator gives the buffers its stages' outputs are copied into (outputMemory):
   * 'fresh' (glibc mapping tensors of 32 MiB or more anew every run), 'reused' (glibc with mmap off),
   * 'other' (another C library). Absent from agents before it.
   */
  readonly outputMemory?: 'fresh' | 'reused' | 'other';
  /** True: takes a stage's weights in a file of their own after its model (DeploySpec.data). Absent from agents before it. */
  readonly stageWeightsFile?: boolean;
  /** True: Profile takes the model's external data files after the model (a Profile header's `data`). Absent from agents before it. */
  readonly profileDataFiles?: boolean;
  /** Encodings its stages send float32 tensors in and read them in (DeploySpec.encode): fp16, int8. Absent from agents before it. */
  readonly transferEncodings?: readonly ('fp16' | 'int8')[];
  /** True: a stage sends the model outputs it makes back itself (DeploySpec.home). Absent from agents before it. */
  readonly outputsHome?: boolean;
}

/** A file sent after a model on a call: its name (a path relative to the model's directory), sha256 and size. */
export interface DataFile {
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

/** One timed transfer of a link test. */
export interface LinkSample {
  readonly bytes: number;
  /** Time per message of `bytes` sent back to back on one stream (ms). */
  readonly ms: number;
}

/** A measured directed link: time(bytes) = latencyMs + bytes / bandwidthBytesPerSec. */
export interface LinkMeasurement {
  readonly from: string;
  readonly to: string;
  readonly latencyMs: number;
  readonly bandwidthBytesPerSec: number;
  /** Median round trip of a 1-byte message (ms). */
  readonly rttMs: number;
  readonly samples: readonly LinkSample[];
}

/** Options of a link test. */
export interface LinkTestOptions {
  /** Payload sizes in bytes; default 1 KB .. 16 MB by powers of 4. */
  readonly sizes?: readonly number[];
  /** Timed transfers per size; default 5. */
  readonly repeats?: number;
}

/** What a stage is told when it is deployed (the header of the first Stage message). */
export interface DeploySpec {
  readonly run: string;
  readonly stage: number;
  readonly stages: number;
  readonly sha256: string;
  readonly size: number;
  /**
   * The stage's weights in a file beside the model (a stage whose weights pass 1.5 GiB: onnxruntime
   * loads no model over 2 GB from one buffer). Its chunks follow the model's; `name` is the location
   * the model's initializers give, a plain file name.
   */
  readonly data?: DataFile;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Tensors to pass on after this stage (its outputs and earlier ones that later stages read). */
  readonly forward: readonly string[];
  /**
   * The model outputs this stage makes, sent back on the Stage call as soon as it has run (a later
   * stage does not relay them: the plan prices a model output as leaving the stage that makes it).
   * Absent (coordinators before it): the last stage sends `forward` back, and earlier stages forward
   * model outputs with the rest.
   */
  readonly home?: readonly string[];
  /** The next stage's agent; absent: send outputs back on the Stage call. */
  readonly next?: PeerSpec;
  /**
   * How this stage sends float32 tensors on to the next stage (the system's `transfer`): fp16, or int8
   * with one scale and zero point a tensor; absent or fp32: as they are. Outputs sent back on the Stage
   * call always go as they are.
   */
  readonly encode?: 'fp32' | 'fp16' | 'int8';
  readonly threads?: number;
  /** Node count, for the agent's log. */
  readonly nodes?: number;
}

/** Timings of one frame on one stage, in the agent's clock (ms since the epoch). */
export interface StageEvent {
  readonly frame: number;
  /** When the sender started sending it (the sender's clock). */
  readonly sentAt: number;
  readonly arrivedAt: number;
  readonly computeStart: number;
  readonly computeEnd: number;
  readonly sendStart: number;
  readonly sendEnd: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** The agent's resident set size right after the frame was sent on (absent from agents before it). */
  readonly rssBytes?: number;
  /** Time its tensors took to encode for the next stage (fp16, int8; absent at fp32 and from agents before it). */
  readonly encodeMs?: number;
  /** Time the frame's encoded tensors took to decode on arrival (absent when none came encoded). */
  readonly decodeMs?: number;
}

/** Measured next to predicted, for one stage. */
export interface StageResult {
  readonly stage: number;
  readonly agent: string;
  readonly nodes: number;
  readonly computeMs: {
    readonly measured: number;
    readonly p95: number;
    readonly predicted: number | null;
    /**
     * Median time a frame's tensors took this stage to decode on arrival and to encode for the next
     * stage (absent when neither was encoded): its own CPU time beside the session's, which a plan
     * solved with a system's fp16 or int8 `transfer` prices in the stage's predicted time.
     */
    readonly codingMs?: number;
  };
  /** The hop into this stage (from the previous stage, or from the coordinator for stage 0). */
  readonly transferIn: {
    readonly from: string;
    readonly bytes: number;
    /** Median time from the previous hop's send to the frame's arrival here. */
    readonly measuredMs: number;
    /**
     * Median part of that time during which this agent was computing other frames on its JavaScript
     * thread (a stage whose session runs there: onnxruntime-node runs a session on the thread that
     * calls it), so that a frame that came in meanwhile was taken in after; 0 when the agent runs its
     * sessions in threads of their own. measuredMs − waitingMs is the hop's own time. Absent in
     * results of versions before it.
     */
    readonly waitingMs?: number;
    readonly predictedMs: number | null;
    readonly predictedBytes: number | null;
    /** How its float32 tensors travelled when not as they are (RunOptions.transfer; inputTransfer into stage 0): `bytes` are the encoded ones. */
    readonly encoding?: 'fp16' | 'int8';
    /**
     * With an encoding: the median time the sender took to encode a frame's tensors (part of
     * measuredMs) and this agent to decode them on arrival (not part of it: after the arrival), each
     * on its agent's JavaScript thread. A plan's transfer time does not hold them.
     */
    readonly encodeMs?: number;
    readonly decodeMs?: number;
  };
  /**
   * The resident memory of the agent's process that the stage added: once loaded (`loadedBytes`) and
   * the most after any frame (`peakBytes`), from just before it was deployed, beside the plan's memory
   * of the stage. The agent process's own growth: frames in flight and garbage not yet collected are in
   * it, and with other stages on the same agent, what they added meanwhile. Absent when the agent does
   * not report it (versions before it). `preoptimised`: the agent loaded the graph onnxruntime's
   * optimiser saved (one copy of the weights, mapped from the file beside it: they count in loadedBytes
   * as far as onnxruntime read them while loading, in peakBytes once the frames have) rather than the
   * stage model as sent; absent from agents
   * before it. `alone`: the stage's own footprint on its agent's board, free of what else the agent
   * holds or reuses: the resident memory one session of it (1 thread) added to a fresh process there,
   * once made and at most over three runs (as `dnnpart verify` measures a stage); absent when the agent
   * could not measure it or predates it. `threadBytes`: what starting the worker thread its session
   * runs in added (its JavaScript heap, onnxruntime's module), counted apart from the stage's own
   * loadedBytes and peakBytes; absent for a session on the agent's main thread. `predictedFramesBytes`:
   * the part of predictedBytes the plan holds for frames in flight (its stage's framesBytes), which
   * peakBytes includes and `alone` does not; absent when the plan does not say.
   */
  readonly memory?: {
    readonly loadedBytes: number;
    readonly peakBytes: number;
    readonly predictedBytes: number | null;
    readonly predictedFramesBytes?: number;
    readonly preoptimised?: boolean;
    readonly threadBytes?: number;
    readonly alone?: { readonly loadedBytes: number; readonly peakBytes: number };
  };
}

/**
 * Where a run's frame period went: the slowest step the run timed (a stage's compute, the hop into a
 * stage, the outputs back), and what none of them accounts for: the agents' channel and the
 * coordinator's per-frame work, which a plan prices only through links measured between the agents.
 */
export interface RunPeriod {
  /** One frame out every this many ms (1000 / throughput). */
  readonly frameMs: number;
  readonly slowest: { readonly step: string; readonly ms: number };
  /** frameMs − the slowest step, at least 0. */
  readonly unaccountedMs: number;
}

/** A run's result. */
export interface RunResult {
  readonly frames: number;
  readonly throughputFps: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number };
  readonly predicted: { readonly throughputFps: number | null; readonly latencyMs: number | null };
  /** The largest difference of the compared frames' outputs from the unsplit model's, run unoptimised (ONNX's own semantics). */
  readonly maxAbsDiff: number;
  /**
   * When maxAbsDiff is over OPTIMISED_REFERENCE_ABOVE: the same frames against the unsplit model with
   * every onnxruntime optimisation on, as the stages run. Fused kernels (quantized MatMuls above all)
   * round differently from the unfused graph; what remains here is what the split itself changed.
   */
  readonly maxAbsDiffOptimised?: number;
  /** Frames whose outputs were compared with the unsplit model. */
  readonly compared: number;
  readonly stages: readonly StageResult[];
  /** The hop from the last stage back to the coordinator. */
  readonly transferOut: { readonly from: string; readonly bytes: number; readonly measuredMs: number };
  readonly wallMs: number;
  readonly period: RunPeriod;
  /**
   * Agents of the plan that run on one machine (the same host in their addresses; 127.x, ::1 and
   * localhost as one), with that machine's cores: their stages shared those cores, which a plan of one
   * board per stage does not price. Absent when every agent has a machine of its own.
   */
  readonly sharedMachines?: readonly SharedMachine[];
}

/** Agents that share one machine (RunResult.sharedMachines). */
export interface SharedMachine {
  /** The host of their addresses, or `loopback` for this machine's own addresses. */
  readonly host: string;
  readonly agents: readonly string[];
  /** The cores the first of them reports. */
  readonly cores: number;
}
