// Fidelity of a plan, measured by running it: the full-precision model and the plan's stages
// (each at its precision, transfers encoded between them) on the same inputs, in onnxruntime.
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema, type ModelProto } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { atUsableLevel, disposeModelFiles, edgeDtype, levelChoice, modelSource, weightBytes, type ModelFiles, fromHalfBits, onnxElementType, runnableModel, runtimeLoadFailure, runtimeMessage, sampleInputs, splitModel, toHalfBits, zeroInputsAdvice, type LoadedModel, type SplitSpec } from '@dnnpart/onnx-graph';
import { AccuracyError } from './errors.js';
import { FidelityAccumulator, type Fidelity } from './metrics.js';
import { calibrate, type ActivationRange, type CalibrationMethod } from './calibrate.js';
import { quantizeInt8 } from './quantize.js';
import { convertFp16 } from './fp16.js';
import { isTransferEncoding, roundTrip, type TransferEncoding } from './transfer.js';
import { generatedInputs, type Feeds } from './inputs.js';
import { node, withOwnLists } from './_onnx.js';

/** The arithmetic a stage runs in. */
export type Precision = 'fp32' | 'fp16' | 'int8';

export const precisions: readonly Precision[] = ['fp32', 'fp16', 'int8'];

/** Fewer rows than this give a top-1 interval wider than about +-0.1 at 90 % agreement: warn. */
export const MIN_STABLE_SAMPLES = 30;

export interface EvaluateOptions {
  /** How to split: `{ after: [...] }` or `{ stages: { node: k } }` (onnx-graph's SplitSpec). */
  readonly split: SplitSpec;
  /** One precision for every stage, or one per stage. */
  readonly precision?: Precision | readonly Precision[];
  /** One encoding for every cut, or one per stage (the encoding of the tensors that stage sends). */
  readonly transfer?: TransferEncoding | readonly TransferEncoding[];
  /**
   * How the model inputs reach the first stage: as they are (fp32, the default), or encoded, for a
   * plan whose first stage is not on the board the inputs come from (they cross a link, as its
   * tensors between stages do).
   */
  readonly inputTransfer?: TransferEncoding;
  /** Evaluation inputs (default: `samples` seeded generated inputs). */
  readonly inputs?: readonly Feeds[];
  readonly samples?: number;
  readonly seed?: number;
  /** True class of each input, for true top-1. */
  readonly labels?: readonly number[];
  /** Calibration inputs for int8 stages (default: 16 generated inputs with other seeds than the evaluation's). */
  readonly calibration?: readonly Feeds[];
  readonly calibrationMethod?: CalibrationMethod;
  /** Activation ranges already calibrated (from `calibrate`): skips calibration. */
  readonly ranges?: ReadonlyMap<string, ActivationRange>;
  readonly percentile?: number;
  /** Per-channel int8 weights (default true). */
  readonly perChannel?: boolean;
  /** Also time each stage here, at fp32 and at its precision (onnxruntime with all graph optimisations, so QDQ runs as int8 kernels). */
  readonly time?: { readonly runs?: number; readonly warmup?: number; readonly threads?: number };
  readonly onProgress?: (message: string, done: number, total: number) => void;
}

/** A stage's median time on this machine, at float32 and at its precision (same inputs). */
export interface StageTiming {
  readonly fp32Ms: number;
  /** null when onnxruntime's optimiser refuses the stage model at this precision (a warning says why). */
  readonly ms: number | null;
  readonly runs: number;
  readonly threads: number | null;
}

export interface StageFidelity {
  readonly index: number;
  readonly nodes: number;
  readonly precision: Precision;
  /** The stage alone at its precision, fed the reference's exact inputs, against the reference's values of its outputs; null for fp32 (identical by construction). */
  readonly fidelity: Fidelity | null;
  /** Encoding of the tensors this stage sends, and their bytes per inference (fp32 size beside). */
  readonly transfer: TransferEncoding;
  readonly sendBytes: number;
  readonly fp32SendBytes: number;
  /** Nodes left in float32 in an int8 or fp16 stage. */
  readonly float32Nodes: readonly { readonly node: string; readonly op: string }[];
  /** With `time`: the stage timed here. */
  readonly timing?: StageTiming;
}

export interface PlanFidelity extends Fidelity {
  /** Bytes sent over links per inference under the chosen encodings, and the same tensors at fp32. */
  readonly transferBytes: number;
  readonly fp32TransferBytes: number;
  /** How the model inputs reached the first stage when not as they are (EvaluateOptions.inputTransfer). */
  readonly inputTransfer?: TransferEncoding;
  readonly stages: readonly StageFidelity[];
  readonly warnings: readonly string[];
  /** Where the evaluation inputs came from. */
  readonly inputs: 'generated' | 'given';
  /** What one top-k comparison is, when there are class scores: a row of them (a classifier's sample, a sequence's step) or a segmentation's pixel. */
  readonly classesPer?: 'row' | 'pixel';
}

function perStage<T extends string>(v: T | readonly T[] | undefined, dflt: T, count: number, what: string): T[] {
  if (v === undefined) return Array<T>(count).fill(dflt);
  if (typeof v === 'string') return Array<T>(count).fill(v);
  if (v.length !== count) throw new AccuracyError('ACCURACY_BAD_PLAN', `${what}: ${v.length} values for ${count} stages; give one, or one per stage`);
  return [...(v as T[])];
}

const floats = (t: ort.Tensor): Float32Array => {
  if (t.type === 'float32') return t.data as Float32Array;
  // float16 data are bit patterns: take the values they hold.
  if (t.type === 'float16') return Float32Array.from(t.data as Uint16Array, fromHalfBits);
  return Float32Array.from(t.data as ArrayLike<number>, Number);
};

const isFloat = (t: ort.Tensor) => t.type === 'float32' || t.type === 'float16' || t.type === 'float64';

async function session(model: Uint8Array | string, label: string): Promise<ort.InferenceSession> {
  try {
    // No graph optimisation: its QDQ rewrites (bias quantization, fusions) would change what is
    // measured, and at old opsets they insert ops the opset lacks.
    // No memory pattern, as every session dnnpart makes (bench/results/mem-pattern.md): large activations held once.
    return await ort.InferenceSession.create(model as string, { graphOptimizationLevel: 'disabled', logSeverityLevel: 4, enableMemPattern: false });
  } catch (e) {
    throw new AccuracyError('ACCURACY_RUN_FAILED', `${label}: ${runtimeLoadFailure(e).message}`, { cause: e });
  }
}

/** One run of `s`; onnxruntime's failure becomes ACCURACY_RUN_FAILED naming `label`. */
async function runOnce(s: ort.InferenceSession, feeds: Record<string, ort.Tensor>, names: readonly string[], label: string): Promise<ort.InferenceSession.OnnxValueMapType> {
  try {
    return await s.run(feeds, names as string[]);
  } catch (e) {
    throw new AccuracyError('ACCURACY_RUN_FAILED', `${label}: onnxruntime failed to run it: ${runtimeMessage(e)}`, { cause: e });
  }
}

/**
 * Where the first output's class scores lie, for top-k agreement: the last axis of a [batch, classes]
 * or [batch, steps, classes] output (a classifier, a sequence's tokens); the channel axis of an image
 * of scores ([N, C, H, W], a segmentation: a class per pixel), or its last axis when that is the
 * shorter ([N, H, W, C]). `rowsOf` lays the scores out as rows of `classes`. No classes (cosine and
 * SQNR only) for one channel (a saliency or depth map), or another rank.
 */
export function classScores(shape: readonly number[]): { readonly classes: number; readonly per: 'row' | 'pixel'; readonly rowsOf: (x: Float32Array) => Float32Array } {
  const same = (x: Float32Array) => x;
  const last = shape[shape.length - 1] ?? 0;
  if (shape.length >= 1 && shape.length <= 3) return { classes: last >= 2 ? last : 0, per: 'row', rowsOf: same };
  if (shape.length !== 4) return { classes: 0, per: 'row', rowsOf: same };
  const [n, c, h, w] = shape as [number, number, number, number];
  if (c > w) return { classes: last >= 2 ? last : 0, per: 'pixel', rowsOf: same };
  if (c < 2) return { classes: 0, per: 'pixel', rowsOf: same };
  // NCHW -> NHWC: each pixel's C scores side by side.
  const plane = h * w;
  return {
    classes: c,
    per: 'pixel',
    rowsOf: (x) => {
      const out = new Float32Array(x.length);
      for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let p = 0; p < plane; p++) out[(b * plane + p) * c + k] = x[(b * c + k) * plane + p]!;
      return out;
    },
  };
}

/**
 * Runs the full-precision model and the plan on every input and compares their outputs. A model or
 * stage whose weights come near protobuf's 2 GB goes to onnxruntime as a temporary file with its
 * weights beside it (modelSource), removed at the end.
 */
export async function evaluatePlan(model: LoadedModel, options: EvaluateOptions): Promise<PlanFidelity> {
  const files: ModelFiles = {};
  try {
    return await evaluateWith(model, options, files);
  } finally {
    await disposeModelFiles(files);
  }
}

async function evaluateWith(model: LoadedModel, options: EvaluateOptions, files: ModelFiles): Promise<PlanFidelity> {
  const { graph } = model;
  const source = async (proto: ModelProto, label: string): Promise<Uint8Array | string> => {
    try {
      return await modelSource(proto, files, label);
    } catch (e) {
      throw new AccuracyError('ACCURACY_RUN_FAILED', `${label}: cannot write it with its weights beside it for onnxruntime: ${(e as Error).message}`, { cause: e });
    }
  };
  const split = splitModel(model, options.split);
  const count = split.stages.length;
  const prec = perStage<Precision>(options.precision, 'fp32', count, 'stage precision');
  const enc = perStage<TransferEncoding>(options.transfer, 'fp32', count, 'transfer encoding');
  const inputTransfer = options.inputTransfer ?? 'fp32';
  if (!isTransferEncoding(inputTransfer)) throw new AccuracyError('ACCURACY_BAD_OPTION', `input transfer encoding "${String(inputTransfer)}" is not one of fp32, fp16, int8`);
  for (const p of prec) if (!precisions.includes(p)) throw new AccuracyError('ACCURACY_BAD_OPTION', `stage precision "${p}": use fp32, fp16 or int8`);
  const inputs = options.inputs ?? generatedInputs(graph, options.samples ?? 32, options.seed ?? 1);
  if (inputs.length === 0) throw new AccuracyError('ACCURACY_BAD_OPTION', 'no evaluation inputs: give at least one sample');
  if (options.labels && options.labels.length !== inputs.length) {
    throw new AccuracyError('ACCURACY_BAD_LABELS', `${options.labels.length} labels for ${inputs.length} samples`);
  }
  const warnings: string[] = [];
  const progress = options.onProgress ?? (() => {});

  // The tensors crossing cuts: produced by a stage, read by a later one.
  const producedBy = new Map<string, number>();
  split.stages.forEach((s) => s.outputs.forEach((o) => producedBy.set(o, s.index)));
  const crossing = [...new Set(split.stages.flatMap((s) => s.inputs.filter((x) => producedBy.has(x))))];

  let ranges: ReadonlyMap<string, ActivationRange> | undefined = options.ranges;
  if (prec.includes('int8') && !ranges) {
    const calib = options.calibration ?? generatedInputs(graph, 16, (options.seed ?? 1) + 100_000);
    progress('calibrating int8 ranges', 0, 1);
    ranges = await calibrate(model, calib, {
      ...(options.calibrationMethod ? { method: options.calibrationMethod } : {}),
      ...(options.percentile !== undefined ? { percentile: options.percentile } : {}),
    });
  }
  const float32Nodes: { node: string; op: string }[][] = [];
  const stageProtos: ModelProto[] = split.stages.map((s, k) => {
    if (prec[k] === 'int8') {
      const q = quantizeInt8(s.proto, graph, ranges!, options.perChannel === undefined ? {} : { perChannel: options.perChannel });
      warnings.push(...q.report.warnings.map((w) => `stage ${k}: ${w}`));
      float32Nodes.push([...q.report.unquantized]);
      return q.proto;
    }
    if (prec[k] === 'fp16') {
      const h = convertFp16(s.proto, graph);
      warnings.push(...h.report.warnings.map((w) => `stage ${k}: ${w}`));
      float32Nodes.push([...h.report.keptFp32]);
      return h.proto;
    }
    float32Nodes.push([]);
    return s.proto;
  });
  const stageBytes: (Uint8Array | string)[] = [];
  for (const [k, p] of stageProtos.entries()) stageBytes.push(await source(p, `stage ${k} (${prec[k]})`));
  // Their float16 or int8 weights now sit in stageBytes (or in files beside them, for a large model).
  stageProtos.length = 0;

  // The reference: the full model with the crossing tensors as extra outputs. A bfloat16, float8 or
  // 4-bit one crosses as its edgeDtype (splitModel casts it: onnxruntime-node holds none of them), so
  // the reference casts it too; such inputs and outputs are cast already (runnableModel).
  const ref = withOwnLists(runnableModel(model));
  const outs = new Set(ref.graph!.output.map((o) => o.name));
  const edgeOf = (x: string) => {
    const d = graph.tensors.get(x)?.dtype ?? 'float32';
    return edgeDtype(d) !== d && !outs.has(x) ? edgeDtype(d) : null;
  };
  const asEdge = (x: string) => { const e = edgeOf(x); return e ? `${x}/${e}` : x; };
  for (const x of crossing) {
    const e = edgeOf(x);
    if (e) ref.graph!.node.push(node('Cast', `dnnpart_cast:${asEdge(x)}`, [x], [asEdge(x)], { to: onnxElementType(e) }));
    if (!outs.has(x)) ref.graph!.output.push(create(ValueInfoProtoSchema, { name: asEdge(x) }));
  }
  const refName = `${graph.name} (full precision)`;
  const refFetch = [...new Set([...graph.outputs, ...crossing].map(asEdge))];
  let refSession: ort.InferenceSession | undefined = await session(await source(ref, refName), refName);
  const stageSessions: ort.InferenceSession[] = [];
  const exactSessions: (ort.InferenceSession | null)[] = [];
  // What the reference hands over for every sample, when that is less than its weights: then it runs
  // every sample first and is released before the stages' sessions are made, so that a large model's
  // weights are not held by both at once (a 2.4 GB model's score took 12.8 GiB).
  // (A tensor of unknown size, or one cast to float32 on the way, counted at worst: unknown keeps the reference beside the stages.)
  const keptBytes = [...new Set([...graph.outputs, ...crossing])].reduce((n, x) => n + (graph.tensors.get(x)?.bytes ?? Infinity) * (edgeOf(x) ? 2 : 1), 0) * inputs.length;
  const refFirst: (ort.InferenceSession.OnnxValueMapType | undefined)[] = [];
  try {
    if (keptBytes <= weightBytes(ref)) {
      for (let i = 0; i < inputs.length; i++) {
        progress('running the reference', i, inputs.length);
        refFirst.push(await runOnce(refSession, inputs[i]!, refFetch, refName));
      }
      progress('running the reference', inputs.length, inputs.length);
      await refSession.release();
      refSession = undefined;
    }
    for (let k = 0; k < count; k++) {
      stageSessions.push(await session(stageBytes[k]!, `stage ${k} (${prec[k]})`));
      exactSessions.push(prec[k] === 'fp32' ? null : stageSessions[k]!);
    }
    const outputs = graph.outputs;
    const first = graph.tensors.get(outputs[0]!)!;
    const { classes, per, rowsOf } = first.dtype === 'float32' ? classScores(first.shape) : { classes: 0, per: 'row' as const, rowsOf: (x: Float32Array) => x };
    const plan = new FidelityAccumulator(classes);
    const stageAcc = split.stages.map(() => new FidelityAccumulator(0));
    const sendBytes = new Array<number>(count).fill(0);
    const fp32SendBytes = new Array<number>(count).fill(0);
    // The first output of each stage that turned Inf or NaN where float32 is finite (float16 overflow).
    const nonFinite = new Map<number, string>();
    // Tensors whose size the data decides (NonMaxSuppression, NonZero) and that came out another size
    // than the reference's: no element-wise comparison holds for them, so they are left out, once said.
    const resized = new Map<string, string>();
    const comparable = (names: readonly string[], ref: (o: string) => ort.Tensor, test: (o: string) => ort.Tensor, where: string, sample: number): string[] => names.filter((o) => {
      const [a, b] = [ref(o), test(o)];
      if (a.dims.length === b.dims.length && a.dims.every((d, i) => d === b.dims[i])) return true;
      if (!resized.has(`${where}\u0000${o}`)) {
        resized.set(`${where}\u0000${o}`, `${o} came out [${b.dims.join(',')}] in ${where} against [${a.dims.join(',')}] in the full-precision model (sample ${sample}): its size depends on the data, so it is left out of ${where}'s cosine and SQNR in such samples`);
      }
      return false;
    });

    const runLabel = refSession ? 'running the reference and the plan' : 'running the plan';
    const refNonFinite: { sample: number; output: string }[] = [];
    let firstStageInputs: Record<string, ort.Tensor>[] = [];
    for (let i = 0; i < inputs.length; i++) {
      progress(runLabel, i, inputs.length);
      const feeds = inputs[i]!;
      const fetched = refFirst[i] ?? (await runOnce(refSession!, feeds, refFetch, refName));
      refFirst[i] = undefined;
      const refOut: Record<string, ort.Tensor> = { ...fetched };
      for (const x of crossing) refOut[x] = fetched[asEdge(x)]!;
      if (i === 0) firstStageInputs = split.stages.map((s) => Object.fromEntries(s.inputs.map((x) => [x, refOut[x] ?? feeds[x]!])));
      // The plan: stages in order; what a later stage reads of an earlier one is the decoded transfer.
      const received: Record<string, ort.Tensor> = { ...feeds };
      if (inputTransfer !== 'fp32') {
        for (const [name, t] of Object.entries(feeds)) if (t.type === 'float32') received[name] = new ort.Tensor('float32', roundTrip(t.data as Float32Array, inputTransfer).values, t.dims);
      }
      const produced: Record<string, ort.Tensor> = {};
      for (let k = 0; k < count; k++) {
        const s = split.stages[k]!;
        const feed: Record<string, ort.Tensor> = {};
        for (const x of s.inputs) feed[x] = received[x]!;
        const out = await runOnce(stageSessions[k]!, feed, s.outputs, `stage ${k} (${prec[k]})`);
        for (const o of s.outputs) {
          produced[o] = out[o]!;
          const readers = split.stages.filter((r) => r.index > k && r.inputs.includes(o)).length;
          if (readers === 0) continue;
          const t = out[o]!;
          const rawBytes = (t.data as ArrayLike<number> & { byteLength: number }).byteLength;
          if (t.type === 'float32') {
            const rt = roundTrip(t.data as Float32Array, enc[k]!);
            received[o] = enc[k] === 'fp32' ? t : new ort.Tensor('float32', rt.values, t.dims);
            if (i === 0) {
              sendBytes[k]! += rt.bytes * readers;
              fp32SendBytes[k]! += rawBytes * readers;
            }
          } else if (t.type === 'float16' && enc[k] === 'int8') {
            // A float16 tensor (a float16 model's) is already as small as fp16 makes it; int8 encodes its values.
            const rt = roundTrip(floats(t), 'int8');
            received[o] = new ort.Tensor('float16', Uint16Array.from(rt.values, toHalfBits), t.dims);
            if (i === 0) {
              sendBytes[k]! += rt.bytes * readers;
              fp32SendBytes[k]! += rawBytes * readers;
            }
          } else {
            received[o] = t;
            if (i === 0) {
              sendBytes[k]! += rawBytes * readers;
              fp32SendBytes[k]! += rawBytes * readers;
            }
          }
        }
        // The stage alone, on the reference's exact inputs.
        const exact = exactSessions[k];
        if (exact) {
          const ef: Record<string, ort.Tensor> = {};
          for (const x of s.inputs) ef[x] = refOut[x] ?? feeds[x]!;
          const eo = await runOnce(exact, ef, s.outputs, `stage ${k} (${prec[k]}) on the reference's inputs`);
          if (!nonFinite.has(k)) {
            const bad = s.outputs.find((o) => eo[o]!.type === 'float32' && !allFinite(eo[o]!.data as Float32Array) && allFinite(floats(refOut[o]!)));
            if (bad !== undefined) nonFinite.set(k, bad);
          }
          // Against a reference output of Inf or NaN (the full model's own, on this sample) nothing measures.
          const same = comparable(s.outputs, (o) => refOut[o]!, (o) => eo[o]!, `stage ${k} (${prec[k]})`, i).filter((o) => !isFloat(refOut[o]!) || allFinite(floats(refOut[o]!)));
          if (same.length > 0) stageAcc[k]!.add(concat(same.map((o) => floats(refOut[o]!))), concat(same.map((o) => floats(eo[o]!))));
        }
      }
      // An output no stage makes (a model input passed through, a constant the file lists as an
      // output) is the same in the plan as in the reference.
      const planned = (o: string) => produced[o] ?? received[o] ?? refOut[o]!;
      // A reference with Inf or NaN in its outputs measures nothing against: the sample is left out.
      const broken = outputs.find((o) => isFloat(refOut[o]!) && !allFinite(floats(refOut[o]!)));
      if (broken !== undefined) {
        refNonFinite.push({ sample: i, output: broken });
        continue;
      }
      const same = comparable(outputs, (o) => refOut[o]!, planned, 'the plan', i);
      const r = concat(same.map((o) => floats(refOut[o]!)));
      const p = concat(same.map((o) => floats(planned(o))));
      const scores = classes && same.includes(outputs[0]!) ? { ref: rowsOf(floats(refOut[outputs[0]!]!)), test: rowsOf(floats(planned(outputs[0]!))) } : undefined;
      if (same.length > 0) plan.add(r, p, scores, options.labels?.[i]);
    }
    progress(runLabel, inputs.length, inputs.length);
    warnings.push(...resized.values());
    if (refNonFinite.length > 0) {
      const { sample, output } = refNonFinite[0]!;
      // Generated samples feed zeros to integer inputs other than token ids (lengths, masks): say which.
      const advice = options.inputs ? '' : zeroInputsAdvice(sampleInputs(graph));
      const remedy = options.inputs ? '' : `; ${advice ? `${advice}, or score` : 'score'} your own inputs with --data <dir>`;
      warnings.push(`the full-precision model itself gives Inf or NaN in ${output} on ${refNonFinite.length} of ${inputs.length} sample(s) (first: sample ${sample}); they are left out of the plan's cosine, SQNR and agreement${remedy}`);
    }
    for (const [k, o] of nonFinite) {
      warnings.push(`stage ${k} (${prec[k]}): ${o} has Inf or NaN values where float32 has none${prec[k] === 'fp16' ? ' (float16 overflows past 65504)' : ''}; its fidelity is meaningless: keep stage ${k} in fp32`);
    }
    const fid = plan.result();
    if (fid.samples === 0 && inputs.length > refNonFinite.length) {
      warnings.push(`no sample could be compared: every output of the plan came out another size than the full-precision model's, so its cosine (1) and SQNR say nothing; compare the stages instead`);
    }
    if (fid.top1Agreement !== undefined && fid.rows! < MIN_STABLE_SAMPLES) {
      const [lo, hi] = fid.top1Interval!;
      warnings.push(`top-1 agreement ${fid.top1Agreement.toFixed(3)} over only ${fid.rows} sample(s): 95% interval [${lo.toFixed(3)}, ${hi.toFixed(3)}]; use ${MIN_STABLE_SAMPLES} or more samples for a stable estimate`);
    } else if (fid.top1Agreement === undefined && inputs.length < 8) {
      warnings.push(`only ${inputs.length} sample(s): cosine and SQNR may not be representative; use 8 or more`);
    }
    const timings: (StageTiming | undefined)[] = [];
    if (options.time) {
      for (let k = 0; k < count; k++) {
        progress('timing the stages here', k, count);
        const t = options.time;
        const fp32Ms = await timeModel(prec[k] === 'fp32' ? stageBytes[k]! : await source(split.stages[k]!.proto, `stage ${k} (fp32)`), firstStageInputs[k]!, t, `stage ${k} (fp32)`);
        let ms: number | null = fp32Ms;
        if (prec[k] !== 'fp32') {
          try {
            ms = await timeModel(stageBytes[k]!, firstStageInputs[k]!, t, `stage ${k} (${prec[k]})`);
          } catch (e) {
            if (!(e instanceof AccuracyError)) throw e;
            warnings.push(`${e.message}; not timed`);
            ms = null;
          }
        }
        timings.push({ fp32Ms, ms, runs: t.runs ?? 10, threads: t.threads ?? null });
      }
      progress('timing the stages here', count, count);
    }
    const stages: StageFidelity[] = split.stages.map((s, k) => ({
      index: k,
      nodes: s.nodes.length,
      precision: prec[k]!,
      fidelity: exactSessions[k] ? stageAcc[k]!.result() : null,
      transfer: enc[k]!,
      sendBytes: sendBytes[k]!,
      fp32SendBytes: fp32SendBytes[k]!,
      float32Nodes: float32Nodes[k]!,
      ...(timings[k] ? { timing: timings[k] } : {}),
    }));
    return {
      ...fid,
      transferBytes: sendBytes.reduce((a, b) => a + b, 0),
      fp32TransferBytes: fp32SendBytes.reduce((a, b) => a + b, 0),
      ...(inputTransfer !== 'fp32' ? { inputTransfer } : {}),
      stages,
      warnings,
      inputs: options.inputs ? 'given' : 'generated',
      ...(fid.top1Agreement !== undefined ? { classesPer: per } : {}),
    };
  } finally {
    await refSession?.release();
    for (const s of stageSessions) await s.release();
  }
}

/** Median time of `runs` runs after `warmup`, with every graph optimisation (QDQ becomes int8 kernels). */
async function timeModel(bytes: Uint8Array | string, feeds: Record<string, ort.Tensor>, t: NonNullable<EvaluateOptions['time']>, label: string): Promise<number> {
  let s: ort.InferenceSession;
  try {
    // At "all", or the highest level below it whose graph onnxruntime accepts (atUsableLevel).
    s = await atUsableLevel(levelChoice('all'), (level) => ort.InferenceSession.create(bytes as string, { graphOptimizationLevel: level, logSeverityLevel: 4, enableMemPattern: false, ...(t.threads ? { intraOpNumThreads: t.threads } : {}) }));
  } catch (e) {
    throw new AccuracyError('ACCURACY_RUN_FAILED', `${label} (timing): ${runtimeLoadFailure(e).message}`, { cause: e });
  }
  try {
    for (let i = 0; i < (t.warmup ?? 2); i++) await s.run(feeds);
    const ms: number[] = [];
    for (let i = 0; i < (t.runs ?? 10); i++) {
      const t0 = performance.now();
      await s.run(feeds);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return ms[Math.floor(ms.length / 2)]!;
  } finally {
    await s.release();
  }
}

function concat(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}


function allFinite(v: ArrayLike<number>): boolean {
  for (let i = 0; i < v.length; i++) if (!Number.isFinite(v[i]!)) return false;
  return true;
}
