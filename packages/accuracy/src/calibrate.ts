// Activation ranges for int8: run the full-precision model on calibration inputs with every float
// activation added as an output, and keep min-max or a percentile range per tensor.
import { create } from '@bufbuild/protobuf';
import { ValueInfoProtoSchema } from 'onnx-buf';
import * as ort from 'onnxruntime-node';
import { disposeModelFiles, modelSource, runnableModel, runtimeMessage, type LoadedModel, type ModelFiles } from '@dnnpart/onnx-graph';
import { AccuracyError } from './errors.js';
import type { Feeds } from './inputs.js';
import { withOwnLists } from './_onnx.js';

/** A calibrated range of one tensor. */
export interface ActivationRange {
  readonly min: number;
  readonly max: number;
}

/** How ranges are taken from the calibration values. */
export type CalibrationMethod = 'minmax' | 'percentile';

export interface CalibrateOptions {
  readonly method?: CalibrationMethod;
  /** For `percentile`: the upper percentile kept (default 99.99); the lower is 100 minus it. */
  readonly percentile?: number;
  /** Only these tensors (default: every float32 activation of the graph). */
  readonly tensors?: readonly string[];
}

/** Values kept per tensor per sample for percentiles: a strided subsample bounds memory on big maps. */
const SUBSAMPLE = 8192;

/** Calibrated ranges of the model's float activations over `feeds` (one sample each). */
export async function calibrate(model: LoadedModel, feeds: readonly Feeds[], options: CalibrateOptions = {}): Promise<Map<string, ActivationRange>> {
  const method = options.method ?? 'minmax';
  const pct = options.percentile ?? 99.99;
  if (!(pct > 50 && pct <= 100)) throw new AccuracyError('ACCURACY_BAD_OPTION', `percentile ${pct}: use a value above 50 and at most 100, e.g. 99.99`);
  if (feeds.length === 0) throw new AccuracyError('ACCURACY_BAD_OPTION', 'calibration needs at least one input sample');
  const { graph } = model;
  const names = options.tensors ?? [...graph.tensors.values()].filter((t) => t.dtype === 'float32' && !t.isInitializer).map((t) => t.name);
  // A model without float32 activations (a float16 or an integer model) has nothing to calibrate.
  if (names.length === 0) return new Map();
  // bfloat16 inputs and outputs as float32 (onnxruntime-node holds no bfloat16), cast inside.
  const m = withOwnLists(runnableModel(model));
  const outputs = new Set(m.graph!.output.map((o) => o.name));
  for (const n of names) if (!outputs.has(n)) m.graph!.output.push(create(ValueInfoProtoSchema, { name: n }));
  let session: ort.InferenceSession;
  // A model whose weights come near protobuf's 2 GB goes to onnxruntime as a file (modelSource).
  const files: ModelFiles = {};
  try {
    session = await ort.InferenceSession.create(await modelSource(m, files, 'calibration') as string, { graphOptimizationLevel: 'disabled', logSeverityLevel: 4, enableMemPattern: false });
  } catch (e) {
    await disposeModelFiles(files);
    throw new AccuracyError('ACCURACY_RUN_FAILED', `${model.graph.name} (calibration): onnxruntime cannot load it: ${runtimeMessage(e)}`, { cause: e });
  }
  const lo = new Map<string, number>();
  const hi = new Map<string, number>();
  const kept = new Map<string, number[]>();
  try {
    for (const f of feeds) {
      let out: ort.InferenceSession.OnnxValueMapType;
      try {
        out = await session.run(f, names as string[]);
      } catch (e) {
        throw new AccuracyError('ACCURACY_RUN_FAILED', `${model.graph.name} (calibration): onnxruntime failed to run it: ${runtimeMessage(e)}`, { cause: e });
      }
      for (const n of names) {
        const d = out[n]!.data as Float32Array;
        let a = lo.get(n) ?? Infinity;
        let b = hi.get(n) ?? -Infinity;
        for (let i = 0; i < d.length; i++) {
          const v = d[i]!;
          if (v < a) a = v;
          if (v > b) b = v;
        }
        lo.set(n, a);
        hi.set(n, b);
        if (method === 'percentile') {
          const step = Math.max(1, Math.floor(d.length / SUBSAMPLE));
          const k = kept.get(n) ?? [];
          for (let i = 0; i < d.length; i += step) k.push(d[i]!);
          kept.set(n, k);
        }
      }
    }
  } finally {
    await session.release();
    await disposeModelFiles(files);
  }
  const ranges = new Map<string, ActivationRange>();
  for (const n of names) {
    let min = lo.get(n)!;
    let max = hi.get(n)!;
    if (method === 'percentile') {
      const v = Float64Array.from(kept.get(n)!).sort();
      const at = (q: number) => v[Math.min(v.length - 1, Math.max(0, Math.round(q * (v.length - 1))))]!;
      min = Math.max(min, at(1 - pct / 100));
      max = Math.min(max, at(pct / 100));
    }
    ranges.set(n, { min, max });
  }
  return ranges;
}
