// What a stage boundary costs on a board, and where that figure comes from.
//
// A stage on a board takes Σ node latencies + fixedMs + inMsPerByte × bytes entering the stage +
// outMsPerByte × bytes leaving it. The node latencies are kernel times; the boundary is what a
// session.run adds around them: the call into onnxruntime and back, feeding inputs from
// JavaScript buffers, and allocating and copying outputs back. It is measured here with synthetic
// one-kernel models of known sizes (calibrateBoundary), stated or derived for described boards
// (estimatedBoundary), or a documented default (DEFAULT_BOUNDARY) for profiles without one.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { median } from 'simple-statistics';
import { ProfileError } from './errors.js';
import { calibrationModel, convChainModel, type CalibrationKind } from './_calibration-models.js';
import { fetchesFor } from './fetches.js';
import { createSession, sessionOptions, timedRun, timedRunOutputs } from './_session.js';
import { round } from './_stats.js';
import { parseTrace } from './_trace.js';
import { DEFAULT_ENCODINGS, calibrateEncodings, scaledEncodings } from './encoding.js';
import type { BoardDescription, BoundaryCost, EncodingCosts, Profile } from './types.js';

/**
 * Used for profiles without a boundary calibration (dnnpart/profile@1, or profiled with the
 * calibration off): the calibration measured on the project's 2-core x86 CI machine at 1 thread
 * (bench/results/profiler-boundary.md), rounded up. Marked method "default".
 */
export const DEFAULT_BOUNDARY: BoundaryCost = {
  fixedMs: 0.05,
  inMsPerByte: 0,
  outMsPerByte: 2e-7,
  method: 'default',
  origin: 'dnnpart default: the calibration of a 2-core x86 machine, rounded up (bench/results/profiler-boundary.md)',
  encodings: DEFAULT_ENCODINGS,
};

/** The time a boundary adds to a stage whose inputs and outputs have these sizes. */
export function boundaryMs(b: Pick<BoundaryCost, 'fixedMs' | 'inMsPerByte' | 'outMsPerByte'>, inBytes: number, outBytes: number): number {
  return b.fixedMs + b.inMsPerByte * inBytes + b.outMsPerByte * outBytes;
}

/**
 * A profile's boundary cost, or DEFAULT_BOUNDARY when it has none; `warning` says so (for the join to
 * pass on). `encodings` is always there: the profile's, else DEFAULT_ENCODINGS (`encodingsWarning`
 * says so, for a system that encodes its transfers).
 */
export function boundaryOf(profile: Profile): BoundaryCost & { readonly encodings: EncodingCosts; readonly calibrated: boolean; readonly warning?: string; readonly encodingsWarning?: string } {
  const own = profile.boundary?.encodings;
  const encodings = own ?? DEFAULT_ENCODINGS;
  const encodingsWarning = own && own.method !== 'default' ? undefined
    : `profile of ${profile.model.name} on board ${profile.board.name} has no calibration of encoding and decoding tensors for a link; they cost the default ${fmt(DEFAULT_ENCODINGS.int8.encodeMsPerByte)} / ${fmt(DEFAULT_ENCODINGS.int8.decodeMsPerByte)} ms/MB (int8) and ${fmt(DEFAULT_ENCODINGS.fp16.encodeMsPerByte)} / ${fmt(DEFAULT_ENCODINGS.fp16.decodeMsPerByte)} ms/MB (fp16) of float32; re-profile with dnnpart profile to measure them`;
  const extra = { encodings, ...(encodingsWarning ? { encodingsWarning } : {}) };
  if (profile.boundary && profile.boundary.method !== 'default') return { ...profile.boundary, ...extra, calibrated: true };
  const why = profile.boundary ? 'was made without a boundary calibration' : `has no boundary calibration (${profile.schema})`;
  return {
    ...(profile.boundary ?? DEFAULT_BOUNDARY),
    ...extra,
    calibrated: false,
    warning: `profile of ${profile.model.name} on board ${profile.board.name} ${why}; stage boundaries cost the default ${DEFAULT_BOUNDARY.fixedMs} ms + ${Number((DEFAULT_BOUNDARY.outMsPerByte * 1e6).toPrecision(6))} ms/MB of outputs; re-profile with dnnpart profile to measure them`,
  };
}

/** ms per byte as ms per MB (10^6 bytes, as `dnnpart profile` prints a boundary), for messages. */
function fmt(msPerByte: number): string {
  return String(Number((msPerByte * 1e6).toPrecision(3)));
}

/**
 * A described board's boundary: as the description states it, else derived from its memory
 * bandwidth (inputs read once, outputs written twice: ORT's buffer, then the copy handed to
 * JavaScript, each byte read and written; at the roofline's memory efficiency) plus the default
 * fixed cost scaled by how much slower than the reference machine the board computes.
 */
export function estimatedBoundary(d: BoardDescription, memoryEfficiency = 0.5): BoundaryCost {
  if (d.boundary) {
    return {
      fixedMs: d.boundary.fixedMs, inMsPerByte: d.boundary.inMsPerByte, outMsPerByte: d.boundary.outMsPerByte, method: 'estimated',
      origin: `stated by board description ${d.name}${d.boundary.source ? `: ${d.boundary.source}` : ''}`,
      encodings: scaledEncodings(DEFAULT_ENCODINGS, slowerThanReference(d), 'estimated'),
    };
  }
  const bytesPerMs = (d.memoryBandwidthBytesPerSec * memoryEfficiency) / 1e3;
  const slower = slowerThanReference(d);
  return {
    fixedMs: round(DEFAULT_BOUNDARY.fixedMs * slower, 6),
    inMsPerByte: round(1 / bytesPerMs, 12),
    outMsPerByte: round(4 / bytesPerMs, 12),
    method: 'estimated',
    origin: `derived from board description ${d.name}: memory bandwidth ${d.memoryBandwidthBytesPerSec / 1e9} GB/s at efficiency ${memoryEfficiency} (inputs read once, outputs moved twice), fixed ${DEFAULT_BOUNDARY.fixedMs} ms x ${round(slower, 2)}`,
    encodings: scaledEncodings(DEFAULT_ENCODINGS, slower, 'estimated'),
  };
}

/**
 * How much slower than the reference machine a described board's host runs CPU work (the JavaScript
 * call, ORT's run setup, encoding tensors), taken as fp32 peak relative to the reference's; at least 1.
 */
function slowerThanReference(d: BoardDescription): number {
  const peak = d.peakGops.fp32 ?? Math.max(...Object.values(d.peakGops).filter((x): x is number => x !== undefined));
  return Math.max(1, REFERENCE_FP32_GOPS / peak);
}

/** fp32 peak of the machine DEFAULT_BOUNDARY was measured on (profiles/boards/ci-x86-2core.yaml). */
const REFERENCE_FP32_GOPS = 166.4;

export interface BoundarySample {
  readonly inBytes: number;
  readonly outBytes: number;
  /** Boundary time: session.run wall time minus the kernel time. */
  readonly ms: number;
}

/**
 * Least squares fit of ms = fixedMs + inMsPerByte × inBytes + outMsPerByte × outBytes with every
 * coefficient >= 0 (each subset of coefficients solved, the best feasible kept). Residuals are
 * relative (weights 1/ms²), so 4 kB samples decide the fixed cost as much as 16 MB ones the slopes.
 */
export function fitBoundary(samples: readonly BoundarySample[]): { fixedMs: number; inMsPerByte: number; outMsPerByte: number; fitR2: number } {
  if (samples.length < 3) throw new ProfileError('PROFILE_BAD_OPTIONS', `boundary fit needs at least 3 samples, got ${samples.length}`);
  for (const [i, s] of samples.entries()) {
    if (![s.inBytes, s.outBytes, s.ms].every((x) => Number.isFinite(x) && x >= 0)) throw new ProfileError('PROFILE_BAD_OPTIONS', `boundary sample ${i} has a negative or non-finite field`);
  }
  const MB = 1 << 20; // bytes in MB keep the normal equations well conditioned
  const rows = samples.map((s) => ({ x: [1, s.inBytes / MB, s.outBytes / MB], y: s.ms, w: 1 / Math.max(s.ms, 1e-4) ** 2 }));
  let best: { coef: number[]; sse: number } | null = null;
  for (let mask = 1; mask < 8; mask++) {
    const cols = [0, 1, 2].filter((c) => mask & (1 << c));
    const sol = weightedLeastSquares(rows, cols);
    if (!sol || sol.some((c) => c < -1e-12)) continue;
    const coef = [0, 0, 0];
    cols.forEach((c, i) => (coef[c] = Math.max(0, sol[i]!)));
    const sse = rows.reduce((s, r) => s + r.w * (r.y - dot(coef, r.x)) ** 2, 0);
    if (!best || sse < best.sse - 1e-15) best = { coef, sse };
  }
  const coef = best?.coef ?? [0, 0, 0];
  const wsum = rows.reduce((s, r) => s + r.w, 0);
  const ybar = rows.reduce((s, r) => s + r.w * r.y, 0) / wsum;
  const sst = rows.reduce((s, r) => s + r.w * (r.y - ybar) ** 2, 0);
  const sse = rows.reduce((s, r) => s + r.w * (r.y - dot(coef, r.x)) ** 2, 0);
  // Data that does not vary (only a fixed cost) has no variance to explain: R² is 1 when it fits.
  const flat = sst <= 1e-20 * rows.reduce((s, r) => s + r.w * r.y * r.y, 0);
  return { fixedMs: coef[0]!, inMsPerByte: coef[1]! / MB, outMsPerByte: coef[2]! / MB, fitR2: flat ? (sse <= 1e-18 * wsum ? 1 : 0) : 1 - sse / sst };
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a.reduce((s, x, i) => s + x * b[i]!, 0);
}

/** Solve the weighted normal equations on the given columns; null when singular. */
function weightedLeastSquares(rows: readonly { x: readonly number[]; y: number; w: number }[], cols: readonly number[]): number[] | null {
  const k = cols.length;
  const a = Array.from({ length: k }, () => new Array<number>(k + 1).fill(0));
  for (const r of rows) {
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) a[i]![j]! += r.w * r.x[cols[i]!]! * r.x[cols[j]!]!;
      a[i]![k]! += r.w * r.x[cols[i]!]! * r.y;
    }
  }
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[p]![c]!)) p = r;
    if (Math.abs(a[p]![c]!) < 1e-300) return null;
    [a[c], a[p]] = [a[p]!, a[c]!];
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j <= k; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return a.map((row, i) => row[k]! / row[i]!);
}

export interface BoundaryCalibrationOptions {
  /** ORT intra-op threads; default: all cores. */
  readonly threads?: number;
  /** Timed runs per model; default 15. */
  readonly runs?: number;
  readonly warmup?: number;
  /** Tensor sizes in bytes; default 4 kB, 64 kB, 1 MB, 4 MB, 16 MB. */
  readonly sizes?: readonly number[];
  /** Fetch outputs into tensors made once (default, what the profiler and the runtime do) or let ORT allocate them. */
  readonly outputs?: 'preallocated' | 'allocated';
  /**
   * Convolution chains [channels, size] timed whole and cut in two (convChainModel), for what a cut
   * between convolutions costs beyond the one-kernel models (blocked layouts left and re-entered);
   * default DEFAULT_CUT_CHAINS; [] for none.
   */
  readonly cutChains?: readonly (readonly [number, number])[];
  /** Where ORT's traces go (in a fresh subdirectory, removed at the end); default the OS temp dir. */
  readonly tempDir?: string;
  /** false: leave out the encoding calibration (calibrateEncodings; about a second); default: run it. */
  readonly encodings?: boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (e: { readonly phase: 'boundary'; readonly done: number; readonly total: number }) => void;
}

export interface BoundaryCalibrationSample extends BoundarySample {
  readonly kind: CalibrationKind;
  /** Median session.run wall time, outputs read back. */
  readonly wallMs: number;
  /** Median kernel time in ORT's trace of a profiled session of the same model. */
  readonly kernelMs: number;
}

/** A convolution chain timed whole and as its two stages, back to back in turn. */
export interface BoundaryCutSample {
  readonly channels: number;
  readonly size: number;
  /** Bytes of the tensor crossing the cut. */
  readonly cutBytes: number;
  /** Median session.run wall times (outputs read back) of the whole chain and of each stage. */
  readonly wholeMs: number;
  readonly firstMs: number;
  readonly secondMs: number;
  /** firstMs + secondMs - wholeMs: what the cut costs. */
  readonly cutMs: number;
}

export interface BoundaryCalibration {
  readonly boundary: BoundaryCost;
  readonly samples: readonly BoundaryCalibrationSample[];
  /** The convolution cuts behind fixedMs and inMsPerByte (absent with cutChains []). */
  readonly cuts?: readonly BoundaryCutSample[];
  /** The fixed and input costs the one-kernel models alone gave, before the cuts raised them. */
  readonly oneKernel?: { readonly fixedMs: number; readonly inMsPerByte: number };
}

export const DEFAULT_CALIBRATION_SIZES: readonly number[] = [4096, 65536, 1 << 20, 4 << 20, 16 << 20];
/** [channels, size] of the default convolution chains: cut tensors of 50 kB, 400 kB, 800 kB and 3.2 MB. */
export const DEFAULT_CUT_CHAINS: readonly (readonly [number, number])[] = [[16, 28], [32, 56], [64, 56], [64, 112]];

/**
 * The fixed and input costs that make the boundary model price the measured convolution cuts: a cut
 * of b bytes adds a stage, so its fixed cost, and the first stage's output and the second's input,
 * fixedMs + (outMsPerByte + inMsPerByte) x b, to the whole. The cuts' line is fitted robustly (the
 * median of the slopes between every two cuts, then the median intercept: one stalled chain cannot
 * move it far); the fixed cost is its intercept, at most the smallest cut's whole cost and at least
 * the one-kernel models' (a run whose kernels wake the thread pool costs more than theirs); the input
 * cost is the slope less the output cost, at least the one-kernel models'. One cut size keeps the
 * fixed cost and puts what the output cost leaves of it in the input cost.
 */
export function boundaryFromCuts(
  cuts: readonly Pick<BoundaryCutSample, 'cutBytes' | 'cutMs'>[],
  fit: { readonly fixedMs: number; readonly inMsPerByte: number; readonly outMsPerByte: number },
): { fixedMs: number; inMsPerByte: number } {
  const slopes: number[] = [];
  for (const [i, a] of cuts.entries()) {
    for (const b of cuts.slice(i + 1)) if (b.cutBytes !== a.cutBytes) slopes.push((b.cutMs - a.cutMs) / (b.cutBytes - a.cutBytes));
  }
  if (slopes.length === 0) {
    const c = cuts.find((x) => x.cutBytes > 0);
    if (!c) return { fixedMs: fit.fixedMs, inMsPerByte: fit.inMsPerByte };
    return { fixedMs: fit.fixedMs, inMsPerByte: Math.max(fit.inMsPerByte, (c.cutMs - fit.fixedMs - fit.outMsPerByte * c.cutBytes) / c.cutBytes) };
  }
  const slope = median(slopes);
  const intercept = median(cuts.map((c) => c.cutMs - slope * c.cutBytes));
  const fixedMs = Math.max(fit.fixedMs, Math.min(intercept, ...cuts.map((c) => c.cutMs)));
  return { fixedMs, inMsPerByte: Math.max(fit.inMsPerByte, slope - fit.outMsPerByte) };
}

/**
 * Measure this machine's boundary cost: for each size, three one-kernel models (a large input, a
 * large output, both), each timed the way the runtime runs a stage (optimised session, no
 * spinning, tensors from JavaScript buffers, outputs read back) alternating with a profiled
 * session of the same model for its kernel time; boundary = wall − kernel; fitBoundary over all.
 */
export async function calibrateBoundary(options: BoundaryCalibrationOptions = {}): Promise<BoundaryCalibration> {
  const threads = options.threads ?? availableParallelism();
  const runs = options.runs ?? 15;
  const warmup = options.warmup ?? 2;
  const sizes = options.sizes ?? DEFAULT_CALIBRATION_SIZES;
  const outputs = options.outputs ?? 'preallocated';
  for (const [field, v, min] of [['threads', threads, 1], ['runs', runs, 3], ['warmup', warmup, 0]] as const) {
    if (!Number.isInteger(v) || v < min) throw new ProfileError('PROFILE_BAD_OPTIONS', `boundary calibration option ${field} must be an integer >= ${min}, got ${v}`);
  }
  if (sizes.length < 2 || sizes.some((s) => !Number.isFinite(s) || s < 4)) throw new ProfileError('PROFILE_BAD_OPTIONS', 'boundary calibration option sizes needs at least 2 sizes of >= 4 bytes');
  const chains = options.cutChains ?? DEFAULT_CUT_CHAINS;
  const badChain = chains.find((c) => c.length !== 2 || !c.every((x) => Number.isInteger(x) && x >= 1));
  if (badChain) throw new ProfileError('PROFILE_BAD_OPTIONS', `boundary calibration option cutChains: each chain is [channels, size] of positive integers, got [${badChain.join(', ')}]`);
  const kinds: CalibrationKind[] = ['in', 'out', 'both'];
  const total = sizes.length * kinds.length + chains.length;
  const opts = sessionOptions(threads, 'all');
  const samples: BoundaryCalibrationSample[] = [];
  const tmp = await mkdtemp(join(options.tempDir ?? tmpdir(), 'dnnpart-boundary-'));
  try {
    for (const size of sizes) {
      for (const kind of kinds) {
        if (options.signal?.aborted) throw new ProfileError('PROFILE_INTERRUPTED', 'boundary calibration was interrupted');
        const m = calibrationModel(kind, size);
        const label = `boundary calibration model ${kind} ${size} B`;
        const prefix = join(tmp, `${kind}-${size}`);
        const plain = await createSession(m.bytes, opts, label);
        const prof = await createSession(m.bytes, { ...opts, enableProfiling: true, profileFilePrefix: prefix }, label);
        try {
          const feeds = { x: new ort.Tensor('float32', new Float32Array(m.inElements).fill(0.5), [m.inElements]) };
          // One set of output tensors per session (shared ones slow the alternating runs down).
          const fetches = outputs === 'preallocated' ? fetchesFor([{ name: 'y', dtype: 'float32', shape: [m.outElements] }]) : null;
          const profFetches = outputs === 'preallocated' ? fetchesFor([{ name: 'y', dtype: 'float32', shape: [m.outElements] }]) : null;
          const wall: number[] = [];
          for (let i = 0; i < warmup + runs; i++) {
            const ms = await timedRun(plain, feeds, label, fetches);
            if (i >= warmup) wall.push(ms);
            await timedRun(prof, feeds, label, profFetches);
          }
          prof.endProfiling();
          const file = (await readdir(tmp)).find((f) => f.startsWith(`${kind}-${size}`) && f.endsWith('.json'));
          if (!file) throw new ProfileError('PROFILE_TRACE', `ORT wrote no profile trace for ${label} in ${tmp}`);
          const trace = parseTrace(JSON.parse(await readFile(join(tmp, file), 'utf8')), file);
          const kernel = trace.runs.slice(-runs).map((r) => [...r.kernels.values()].reduce((s, x) => s + x, 0));
          const wallMs = median(wall);
          const kernelMs = kernel.length ? median(kernel) : 0;
          samples.push({ kind, inBytes: m.inBytes, outBytes: m.outBytes, wallMs: round(wallMs), kernelMs: round(kernelMs), ms: round(Math.max(0, wallMs - kernelMs)) });
        } finally {
          await plain.release().catch(() => {});
          await prof.release().catch(() => {});
        }
        options.onProgress?.({ phase: 'boundary', done: samples.length, total });
      }
    }
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  const fit = fitBoundary(samples);
  const cuts: BoundaryCutSample[] = [];
  for (const [channels, size] of chains) {
    if (options.signal?.aborted) throw new ProfileError('PROFILE_INTERRUPTED', 'boundary calibration was interrupted');
    cuts.push(await timeCut(channels, size, opts, runs, warmup, outputs));
    options.onProgress?.({ phase: 'boundary', done: samples.length + cuts.length, total });
  }
  const { fixedMs, inMsPerByte } = cuts.length > 0 ? boundaryFromCuts(cuts, fit) : fit;
  const encodings = options.encodings === false ? undefined : calibrateEncodings().costs;
  const origin = `${samples.length} one-kernel models (Slice, Expand, Add) of ${sizes.map((s) => bytesLabel(s)).join(', ')} at ${threads} thread(s): session.run wall time minus ORT's kernel time`
    + (cuts.length > 0 ? `; the fixed and input costs from ${cuts.length} chains of two 1x1 convolutions cut between them (${cuts.map((c) => bytesLabel(c.cutBytes)).join(', ')}): the stages' wall time minus the whole chain's` : '');
  return {
    boundary: {
      fixedMs: round(fixedMs, 6),
      inMsPerByte: round(inMsPerByte, 12),
      outMsPerByte: round(fit.outMsPerByte, 12),
      method: 'measured',
      runs,
      fitR2: round(fit.fitR2, 4),
      outputs,
      origin,
      ...(encodings ? { encodings } : {}),
    },
    samples,
    ...(cuts.length > 0 ? { cuts, oneKernel: { fixedMs: round(fit.fixedMs, 6), inMsPerByte: round(fit.inMsPerByte, 12) } } : {}),
  };
}

/** A convolution chain whole and cut: each run times the whole, then its first stage, then its second on the first's output. */
async function timeCut(channels: number, size: number, opts: ort.InferenceSession.SessionOptions, runs: number, warmup: number, outputs: 'preallocated' | 'allocated'): Promise<BoundaryCutSample> {
  const parts = (['whole', 'first', 'second'] as const).map((p) => convChainModel(p, channels, size));
  const label = `boundary calibration chain ${channels}x${size}x${size}`;
  const sessions: ort.InferenceSession[] = [];
  try {
    for (const p of parts) sessions.push(await createSession(p.bytes, opts, `${label} (${p.part})`));
    const shape = parts[0]!.shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const x = new ort.Tensor('float32', new Float32Array(n).map((_, i) => (i % 13) / 13), [...shape]);
    const fetch = (name: string) => (outputs === 'preallocated' ? fetchesFor([{ name, dtype: 'float32', shape }]) : null);
    const fetches = [fetch('y'), fetch('mid'), fetch('y')];
    const times: number[][] = [[], [], []];
    // A cut costs a fraction of a millisecond against chains of a few: more runs than a one-kernel model, all interleaved.
    const n3 = warmup + Math.max(runs, 3) * 3;
    for (let i = 0; i < n3; i++) {
      const w = await timedRun(sessions[0]!, { x }, label, fetches[0]!);
      const first = await timedRunOutputs(sessions[1]!, { x }, label, fetches[1]!);
      const a = first.ms;
      const b = await timedRun(sessions[2]!, { mid: first.outputs.mid as ort.Tensor }, label, fetches[2]!);
      if (i >= warmup) {
        times[0]!.push(w);
        times[1]!.push(a);
        times[2]!.push(b);
      }
    }
    const [wholeMs, firstMs, secondMs] = times.map((t) => median(t)) as [number, number, number];
    return { channels, size, cutBytes: parts[0]!.cutBytes, wholeMs: round(wholeMs), firstMs: round(firstMs), secondMs: round(secondMs), cutMs: round(firstMs + secondMs - wholeMs) };
  } finally {
    for (const s of sessions) await s.release().catch(() => {});
  }
}

function bytesLabel(b: number): string {
  return b >= 1 << 20 ? `${b / (1 << 20)} MB` : b >= 1024 ? `${b / 1024} kB` : `${b} B`;
}
