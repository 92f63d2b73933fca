// Analytic profiles: a per-node roofline estimate for boards that are not at hand.
//
// time(node) = max(ops / (peak × computeEfficiency), memory time) + perOpOverhead
// memory time = (activations read + outputs) / (activation bandwidth × memoryEfficiency)
//             + parameters / (memory bandwidth × memoryEfficiency)
// where ops = 2 × MACs + other FLOPs, and bytes are scaled from the graph's element size to the
// precision's. Activations were written by the kernel just before and come from cache: a
// description may give the bandwidth of a cache-sized copy (activationBandwidthBytesPerSec); without
// one they move at the memory bandwidth, as weights do. A node whose activations do not fit the
// description's last-level cache (cacheBytes) moves them at the memory bandwidth too: measured here,
// PaddleOCR's detector at 640x640 adds 10-40 MB tensors at DRAM speed. Energy = the board's active
// power × time.
// Two reads are priced as onnxruntime runs them rather than as the graph writes them: a Gather from
// a constant table (an embedding) reads the rows it gives, not the whole table; and a
// DequantizeLinear of stored (quantized) weights read only as the weight of Conv, MatMul or Gemm is
// fused into them (QLinearConv, MatMulNBits, QGemm): it costs nothing and they read the stored bytes.
// A recurrent layer (LSTM, GRU, RNN, DynamicQuantizeLSTM) multiplies its hidden state by its
// recurrent weights R once per step: R is read again at every step after the first, from cache like
// an activation (the step before read it) when R fits the cache, else from memory, so a float LSTM
// of 512 over 32 steps reads 64 MB more than its weights (measured here: ddddocr's recognizer,
// 4.3 ms where the MACs alone price 1.4).
import { median } from 'simple-statistics';
import { convWeight, graphCosts, type Graph, type GraphCosts } from '@dnnpart/onnx-graph';
import { estimatedBoundary } from './boundary.js';
import { ProfileError } from './errors.js';
import { round } from './_stats.js';
import { TOOL } from './version.js';
import { PROFILE_SCHEMA_ID, type AnalyticParameters, type BoardDescription, type Precision, type Profile, type ProfileNode } from './types.js';

const PRECISION_BYTES: Record<Precision, number> = { fp32: 4, fp16: 2, int16: 2, int8: 1 };

/** Used when a description has no `analytic` block: typical of untuned CPU inference. */
export const DEFAULT_ANALYTIC: AnalyticParameters = { computeEfficiency: 0.3, memoryEfficiency: 0.5, perOpOverheadMs: 0.01 };

export interface AnalyticOptions {
  /** sha256 of the model file the graph came from (profiles join models by it). */
  readonly sha256: string;
  /** Default: the description's defaultPrecision, else fp32, else its first precision. */
  readonly precision?: Precision;
  /** Overrides the description's analytic parameters. */
  readonly parameters?: Partial<AnalyticParameters>;
}

interface NodeWork {
  readonly name: string;
  readonly op: string;
  readonly ops: number;
  /** Bytes of activations read and written (from cache when the description says how fast that is, and they fit). */
  readonly activationBytes: number;
  /** A recurrent layer's recurrent weights read again after the first step, and the bytes of one read. */
  readonly rereadBytes: number;
  readonly rereadSetBytes: number;
  /** Bytes of parameters read (from memory). */
  readonly weightBytes: number;
  readonly macs: number;
  readonly paramBytes: number;
  readonly outputBytes: number;
  /** A Conv with group > 1 (grouped or depthwise). */
  readonly grouped: boolean;
  readonly group: number;
  readonly kind: OpClass;
  /** Folded into the products that read it (a weight's DequantizeLinear): no time of its own. */
  readonly fused: boolean;
}

/** Ops that read a weight as their second input, into which onnxruntime folds that weight's DequantizeLinear. */
const WEIGHT_READERS = new Set(['Conv', 'MatMul', 'Gemm']);

/** Recurrent ops: their recurrent weights R are input 2, read once per step of the sequence. */
const RECURRENT_OPS = new Set(['LSTM', 'GRU', 'RNN', 'DynamicQuantizeLSTM']);

/** Steps of a recurrent node's sequence (X is [seq, batch, input], or [batch, seq, input] with layout 1). */
function recurrentSteps(graph: Graph, n: Graph['nodes'][number]): number {
  const x = graph.tensors.get(n.inputs[0] ?? '')?.shape ?? [];
  return (n.attributes['layout'] === 1 ? x[1] : x[0]) ?? 1;
}

/**
 * The outputs of DequantizeLinear nodes of stored weights (an initializer's data) read only as the
 * weight (second input) of Conv, MatMul or Gemm, mapped to the bytes those nodes store (data,
 * scale and zero point): onnxruntime fuses them into the product (QLinearConv, MatMulNBits, QGemm),
 * which reads the stored bytes.
 */
function fusedWeightDequantizers(graph: Graph): Map<string, number> {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const out = new Map<string, number>();
  for (const n of graph.nodes) {
    if (n.op !== 'DequantizeLinear' || n.domain !== '') continue;
    if (!n.inputs.every((x) => !x || graph.tensors.get(x)?.isInitializer)) continue;
    const y = graph.tensors.get(n.outputs[0] ?? '');
    if (!y || y.isGraphOutput || y.consumers.length === 0) continue;
    const asWeight = y.consumers.every((c) => {
      const k = byName.get(c);
      return k !== undefined && k.domain === '' && WEIGHT_READERS.has(k.op) && k.inputs.indexOf(y.name) === 1 && k.inputs.lastIndexOf(y.name) === 1;
    });
    if (asWeight) out.set(y.name, n.inputs.reduce((s, x) => s + (x ? graph.tensors.get(x)?.bytes ?? 0 : 0), 0));
  }
  return out;
}

/** The op classes that get their own efficiency (AnalyticParameters.opEfficiency). */
export type OpClass = 'conv' | 'depthwiseConv' | 'matmul' | 'elementwise';
const MATMUL_OPS = new Set([
  'Gemm', 'MatMul', 'FusedMatMul', 'MatMulInteger', 'QLinearMatMul', 'FusedGemm', 'QGemm', 'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat', 'MatMulNBits', 'Attention', 'MultiHeadAttention', 'GroupQueryAttention', 'Einsum',
]);

function nodeWork(graph: Graph, precision: Precision, all: GraphCosts = graphCosts(graph)): NodeWork[] {
  const costs = all.nodes;
  const storedWeights = fusedWeightDequantizers(graph);
  return graph.nodes.map((n) => {
    const c = costs.get(n.name);
    const ratio = (t: string) => {
      const stored = storedWeights.get(t);
      if (stored !== undefined) return stored;
      const tensor = graph.tensors.get(t);
      if (!tensor) return 0;
      // Floating-point tensors move at the target precision; integer tensors (shapes, indices) and
      // float8 ones (quantized weights, as stored) as they are.
      return FLOAT_AT_PRECISION.has(tensor.dtype) ? (tensor.bytes * PRECISION_BYTES[precision]) / elementBytes(tensor.dtype) : tensor.bytes;
    };
    const outputs = n.outputs.filter((t) => t).reduce((s, t) => s + ratio(t), 0);
    // A Gather from a constant table reads the rows it gives (as many bytes as its output), not the table.
    const read = (t: string, i: number) => (i === 0 && n.op === 'Gather' && n.domain === '' && graph.tensors.get(t)?.isInitializer ? Math.min(ratio(t), outputs) : ratio(t));
    // Parameters: initializers, and the stored weights of a fused DequantizeLinear.
    const isWeight = (t: string) => graph.tensors.get(t)?.isInitializer === true || storedWeights.has(t);
    const activationsIn = n.inputs.reduce((s, t, i) => (t && !isWeight(t) ? s + read(t, i) : s), 0);
    // The recurrent weights again at every step after the first (see the head of this file).
    const recurrent = RECURRENT_OPS.has(n.op) && n.inputs[2] ? read(n.inputs[2], 2) : 0;
    const params = n.inputs.reduce((s, t, i) => (t && isWeight(t) ? s + read(t, i) : s), 0);
    const g = n.attributes['group'];
    const weight = convWeight(n);
    const group = weight !== undefined && typeof g === 'number' && g > 1 ? g : 1;
    return {
      name: n.name,
      op: n.op,
      ops: 2 * (c?.macs ?? 0) + (c?.flops ?? 0),
      activationBytes: activationsIn + outputs,
      rereadBytes: recurrent > 0 ? Math.max(0, recurrentSteps(graph, n) - 1) * recurrent : 0,
      rereadSetBytes: recurrent,
      weightBytes: params,
      macs: c?.macs ?? 0,
      paramBytes: c?.paramBytes ?? 0,
      outputBytes: c?.outputBytes ?? 0,
      grouped: group > 1,
      group,
      kind: (c?.macs ?? 0) === 0 ? 'elementwise' : MATMUL_OPS.has(n.op) ? 'matmul' : group > 1 && depthwise(graph, weight) ? 'depthwiseConv' : 'conv',
      fused: n.op === 'DequantizeLinear' && storedWeights.has(n.outputs[0] ?? ''),
    };
  });
}

// Products computed on 8-bit integers: onnxruntime's QOperator and integer ops.
const INTEGER_PRODUCTS = new Set(['QLinearConv', 'QLinearMatMul', 'ConvInteger', 'MatMulInteger', 'DynamicQuantizeMatMul', 'MatMulIntegerToFloat', 'QGemm', 'DynamicQuantizeLSTM']);

/** The share of a graph's MACs in the nodes `counts` picks; 0 for a graph without MACs. */
function macShare(graph: Graph, costs: GraphCosts, counts: (n: Graph['nodes'][number], byName: ReadonlyMap<string, Graph['nodes'][number]>) => boolean): number {
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  let all = 0;
  let picked = 0;
  for (const n of graph.nodes) {
    const macs = costs.nodes.get(n.name)?.macs ?? 0;
    all += macs;
    if (macs > 0 && counts(n, byName)) picked += macs;
  }
  return all > 0 ? picked / all : 0;
}

/**
 * The share of a graph's MACs in 8-bit integer products: QOperator and integer ops, and (the QDQ
 * form) a float product reading a DequantizeLinear of 8-bit data, which onnxruntime fuses into an
 * integer kernel. 0 for a graph without MACs.
 */
export function int8MacShare(graph: Graph, costs: GraphCosts = graphCosts(graph)): number {
  return macShare(graph, costs, (n, byName) => INTEGER_PRODUCTS.has(n.op) || n.inputs.some((x) => {
    const p = x ? byName.get(graph.tensors.get(x)?.producer ?? '') : undefined;
    const src = p?.op === 'DequantizeLinear' ? graph.tensors.get(p.inputs[0] ?? '')?.dtype : undefined;
    return src === 'int8' || src === 'uint8';
  }));
}

/** The share of a graph's MACs in products whose data input is float16 (a float16 export). */
export function float16MacShare(graph: Graph, costs: GraphCosts = graphCosts(graph)): number {
  return macShare(graph, costs, (n) => graph.tensors.get(n.inputs[0] ?? '')?.dtype === 'float16');
}

/** The precision a model computes in when it says so itself (int8-quantized, or float16), with why. */
function ownPrecision(graph: Graph, costs: GraphCosts): { readonly precision: Precision; readonly why: string } | undefined {
  const int8 = int8MacShare(graph, costs);
  if (int8 >= 0.5) return { precision: 'int8', why: `${graph.name} is quantized to int8 (${Math.round(int8 * 100)} % of its MACs in 8-bit products)` };
  const fp16 = float16MacShare(graph, costs);
  if (fp16 >= 0.5) return { precision: 'fp16', why: `${graph.name} is a float16 model (${Math.round(fp16 * 100)} % of its MACs on float16 tensors)` };
  return undefined;
}

/** A convolution weight [C_out, C_in / group, kh, kw] with one input channel per group. */
function depthwise(graph: Graph, weight: string | undefined): boolean {
  const shape = weight ? graph.tensors.get(weight)?.shape : undefined;
  return shape !== undefined && shape.length >= 2 && shape[1] === 1;
}

const FLOAT_AT_PRECISION: ReadonlySet<string> = new Set(['float32', 'float16', 'bfloat16', 'float64']);

function elementBytes(dtype: string): number {
  return dtype === 'float64' ? 8 : dtype === 'float16' || dtype === 'bfloat16' ? 2 : 4;
}

function pickPrecision(d: BoardDescription, wanted?: Precision): Precision {
  const p = wanted ?? d.defaultPrecision ?? (d.peakGops.fp32 !== undefined ? 'fp32' : (Object.keys(d.peakGops)[0] as Precision));
  if (d.peakGops[p] === undefined) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${d.file ?? d.name}: field peakGops.${p} is missing; the board has ${Object.keys(d.peakGops).join(', ')}`);
  }
  return p;
}

/** A board's rates per millisecond: peak ops at the priced precision, memory and activation bytes. */
interface Rates {
  readonly peakOpsPerMs: number;
  readonly bytesPerMs: number;
  readonly activationBytesPerMs: number;
  /** The last-level cache: a working set above it moves at bytesPerMs. */
  readonly cacheBytes: number;
}

function ratesOf(description: BoardDescription, precision: Precision): Rates {
  const bytesPerMs = description.memoryBandwidthBytesPerSec / 1e3;
  return {
    peakOpsPerMs: description.peakGops[precision]! * 1e6,
    bytesPerMs,
    activationBytesPerMs: description.activationBandwidthBytesPerSec !== undefined ? description.activationBandwidthBytesPerSec / 1e3 : bytesPerMs,
    cacheBytes: description.cacheBytes ?? Infinity,
  };
}

function nodeMs(w: NodeWork, r: Rates, p: AnalyticParameters): number {
  if (w.fused) return 0;
  const k = p.opEfficiency;
  // With per-op multipliers, depthwise convolutions get theirs and other grouped convolutions
  // (RegNet's, ResNeXt's) count as convolutions; without, every grouped one gets groupedConvEfficiency.
  const grouped = k ? (w.kind === 'depthwiseConv' ? k.depthwiseConv ?? 1 : 1) : w.grouped ? p.groupedConvEfficiency ?? 1 : 1;
  const cls = w.kind === 'conv' ? k?.conv ?? 1 : w.kind === 'matmul' ? k?.matmul ?? 1 : 1;
  const ce = Math.min(1, p.computeEfficiency * grouped * cls);
  const me = Math.min(1, p.memoryEfficiency * (w.kind === 'elementwise' ? k?.elementwise ?? 1 : 1));
  const ops = p.groupedConvAsDense ? w.ops * w.group : w.ops;
  const from = (bytes: number) => (bytes <= r.cacheBytes ? r.activationBytesPerMs : r.bytesPerMs);
  const bytesMs = w.activationBytes / from(w.activationBytes) + w.rereadBytes / from(w.rereadSetBytes) + w.weightBytes / r.bytesPerMs;
  return Math.max(ops / (r.peakOpsPerMs * ce), bytesMs / me) + p.perOpOverheadMs;
}

/** A per-node roofline profile of `graph` on the described board, marked "source": "analytic". */
export function analyticProfile(graph: Graph, description: BoardDescription, options: AnalyticOptions): Profile {
  const warnings: string[] = [];
  let precision = pickPrecision(description, options.precision);
  // A model quantized to int8 runs integer kernels, a float16 export float16 ones: price it at the
  // board's peak for that precision unless told otherwise, and say so.
  // One cost pass for the precision check and the nodes' work.
  const costs = graphCosts(graph);
  const own = options.precision === undefined ? ownPrecision(graph, costs) : undefined;
  if (own && own.precision !== precision) {
    const peak = description.peakGops[own.precision];
    if (peak !== undefined) {
      warnings.push(`${own.why}: priced at ${description.name}'s ${own.precision} peak (${peak} GOPS) with the efficiencies of its ${precision} kernels (a board's precision: field in the system file sets another)`);
      precision = own.precision;
    } else warnings.push(`${own.why}, but ${description.name} gives no ${own.precision} peak: priced at ${precision}`);
  }
  const params: AnalyticParameters = { ...DEFAULT_ANALYTIC, ...stripCalibration(description.analytic), ...options.parameters };
  const rates = ratesOf(description, precision);
  const work = nodeWork(graph, precision, costs);
  const activeW = description.power.activeW;
  const nodes: ProfileNode[] = work.map((w) => {
    const ms = round(nodeMs(w, rates, params));
    return {
      name: w.name,
      op: w.op,
      latencyMs: { median: ms, p90: ms, mean: ms, stddev: 0 },
      paramBytes: w.paramBytes,
      outputBytes: w.outputBytes,
      energyMj: round(activeW * ms),
      macs: w.macs,
    };
  });
  const total = round(nodes.reduce((s, n) => s + n.latencyMs.median, 0));
  if (!description.analytic && !options.parameters) warnings.push(`board description ${description.name} has no analytic block; default efficiencies used (uncalibrated)`);
  return {
    schema: PROFILE_SCHEMA_ID,
    source: 'analytic',
    board: { name: description.name, cpu: description.title, cores: 0, memoryBytes: description.memoryBytes, os: '', arch: description.kind, description: description.name },
    model: {
      name: graph.name,
      sha256: options.sha256.toLowerCase(),
      inputs: graph.inputs.map((name) => {
        const t = graph.tensors.get(name)!;
        return { name, shape: [...t.shape], dtype: t.dtype };
      }),
    },
    settings: { runs: 0, warmup: 0, threads: 0, executionProvider: 'analytic-roofline' },
    endToEnd: { medianMs: total, p90Ms: total, runs: 0 },
    nodes,
    power: {
      source: 'estimated',
      origin: `board description ${description.name}: power figures from the description, not measured`,
      idleW: description.power.idleW,
      activeW,
      energyPerInferenceMj: round(activeW * total),
      dynamicEnergyPerInferenceMj: round((activeW - description.power.idleW) * total),
      attribution: 'node energyMj = activeW x node latency (roofline estimate)',
    },
    createdAt: new Date().toISOString(),
    tool: { name: TOOL.name, version: TOOL.version },
    analytic: { ...params, precision },
    nodeSumToEndToEnd: 1,
    boundary: estimatedBoundary(description, params.memoryEfficiency),
    warnings,
  };
}

function stripCalibration(a: BoardDescription['analytic']): Partial<AnalyticParameters> {
  if (!a) return {};
  const { calibration: _text, ...params } = a;
  return params;
}

export interface ProfileComparison {
  /** Nodes compared (both profiles have them and the measured median is > 0). */
  readonly nodes: number;
  /** Median over nodes of |predicted − measured| / measured. */
  readonly medianAbsRelError: number;
  /** Σ|predicted − measured| / Σ measured over all shared nodes: error weighted by time. */
  readonly weightedAbsRelError: number;
  /** (Σ predicted node medians − measured end-to-end median) / measured end-to-end median. */
  readonly endToEndRelError: number;
  /** (Σ predicted − Σ measured node medians) / Σ measured: end to end without the contention and gaps the node medians leave out. */
  readonly nodeSumRelError: number;
}

/** Per-node and end-to-end error of `predicted` against `measured` (same model). */
export function compareProfiles(predicted: Profile, measured: Profile): ProfileComparison {
  const pred = new Map(predicted.nodes.map((n) => [n.name, n.latencyMs.median]));
  const rel: number[] = [];
  let absSum = 0;
  let measSum = 0;
  for (const n of measured.nodes) {
    const p = pred.get(n.name);
    if (p === undefined) continue;
    const m = n.latencyMs.median;
    absSum += Math.abs(p - m);
    measSum += m;
    if (m > 0) rel.push(Math.abs(p - m) / m);
  }
  const predTotal = predicted.nodes.reduce((s, n) => s + n.latencyMs.median, 0);
  return {
    nodes: rel.length,
    medianAbsRelError: round(rel.length ? median(rel) : 0, 4),
    weightedAbsRelError: round(measSum > 0 ? absSum / measSum : 0, 4),
    endToEndRelError: round(measured.endToEnd.medianMs > 0 ? (predTotal - measured.endToEnd.medianMs) / measured.endToEnd.medianMs : 0, 4),
    nodeSumRelError: round(measSum > 0 ? (predTotal - measSum) / measSum : 0, 4),
  };
}

/** Parameters a calibration takes as given instead of fitting them. */
export interface CalibrationFixed {
  /** The per-op overhead as measured (calibrateDispatch), not fitted: networks of large kernels cannot tell it apart. */
  readonly perOpOverheadMs?: number;
}

export interface CalibrationResult {
  readonly parameters: AnalyticParameters;
  /** Per graph Σ|predicted − measured| / Σ measured over its nodes, averaged over the graphs, at the chosen parameters. */
  readonly weightedAbsRelError: number;
}

/** Each graph's nodes its measured profile lists, with their measured medians, and their sum; graphs without any left out. */
function calibrationData(pairs: readonly { readonly graph: Graph; readonly measured: Profile }[], p: Precision) {
  return pairs.map(({ graph, measured }) => {
    const m = new Map(measured.nodes.map((n) => [n.name, n.latencyMs.median]));
    const items = nodeWork(graph, p).filter((w) => m.has(w.name)).map((w) => ({ w, m: m.get(w.name)! }));
    return { items, total: items.reduce((s, d) => s + d.m, 0) };
  }).filter((d) => d.total > 0);
}

/**
 * Fit the roofline's efficiencies and per-op overhead to measured profiles of the given graphs
 * on the described board (grid searches minimising the time-weighted absolute node error, the
 * error that matters when summing nodes into stages, averaged over the graphs). Only the nodes a measured profile lists
 * count, so a profile of just the convolutions calibrates just those.
 */
export function calibrateAnalytic(pairs: readonly { readonly graph: Graph; readonly measured: Profile }[], description: BoardDescription, precision?: Precision, fixed: CalibrationFixed = {}): CalibrationResult {
  const p = pickPrecision(description, precision);
  const rates = ratesOf(description, p);
  const data = calibrationData(pairs, p);
  if (data.length === 0) throw new ProfileError('PROFILE_BAD_OPTIONS', 'calibration needs measured profiles sharing node names with their graphs');
  // How the description counts grouped convolutions is a modelling choice, not fitted.
  const asDense = description.analytic?.groupedConvAsDense ? { groupedConvAsDense: true } : {};
  // Each graph's time-weighted error, averaged over graphs, so one large network does not decide alone.
  const errorOf = (params: AnalyticParameters) =>
    data.reduce((e, g) => e + g.items.reduce((s, d) => s + Math.abs(nodeMs(d.w, rates, params) - d.m), 0) / g.total, 0) / data.length;
  const effs = Array.from({ length: 40 }, (_, i) => 0.01 * Math.pow(100, i / 39)); // 0.01 .. 1, log-spaced
  const overheads = fixed.perOpOverheadMs !== undefined ? [fixed.perOpOverheadMs]
    : Array.from({ length: 21 }, (_, i) => (i === 0 ? 0 : 0.001 * Math.pow(200, (i - 1) / 19))); // 0, 1 µs .. 0.2 ms
  const fitMain = (grouped: number): CalibrationResult => {
    let best: CalibrationResult = { parameters: DEFAULT_ANALYTIC, weightedAbsRelError: Infinity };
    for (const ce of effs) {
      for (const me of effs) {
        for (const oh of overheads) {
          const parameters = { computeEfficiency: ce, memoryEfficiency: me, perOpOverheadMs: oh, groupedConvEfficiency: grouped, ...asDense };
          const err = errorOf(parameters);
          if (err < best.weightedAbsRelError) best = { parameters, weightedAbsRelError: err };
        }
      }
    }
    return best;
  };
  // Coordinate descent: the main three with grouped convolutions at full efficiency, then the
  // grouped factor alone (when the graphs have grouped convolutions), then the main three again.
  let best = fitMain(1);
  if (data.some((g) => g.items.some((d) => d.w.grouped))) {
    for (const g of effs) {
      const parameters = { ...best.parameters, groupedConvEfficiency: g };
      const err = errorOf(parameters);
      if (err < best.weightedAbsRelError) best = { parameters, weightedAbsRelError: err };
    }
    const again = fitMain(best.parameters.groupedConvEfficiency ?? 1);
    if (again.weightedAbsRelError < best.weightedAbsRelError) best = again;
  }
  return {
    parameters: {
      computeEfficiency: round(best.parameters.computeEfficiency, 4),
      memoryEfficiency: round(best.parameters.memoryEfficiency, 4),
      perOpOverheadMs: round(best.parameters.perOpOverheadMs, 5),
      groupedConvEfficiency: round(best.parameters.groupedConvEfficiency ?? 1, 4),
      ...asDense,
    },
    weightedAbsRelError: round(best.weightedAbsRelError, 4),
  };
}


/**
 * calibrateAnalytic, then one efficiency multiplier per op class (conv, depthwise conv,
 * matmul/gemm, elementwise), each by a grid search with the others fixed, two passes: the
 * per-op roofline. Classes the graphs do not have stay at 1.
 */
export function calibrateAnalyticPerOp(pairs: readonly { readonly graph: Graph; readonly measured: Profile }[], description: BoardDescription, precision?: Precision, fixed: CalibrationFixed = {}): CalibrationResult {
  const base = calibrateAnalytic(pairs, description, precision, fixed);
  const p = pickPrecision(description, precision);
  const rates = ratesOf(description, p);
  const data = calibrationData(pairs, p);
  const errorOf = (params: AnalyticParameters) =>
    data.reduce((e, g) => e + g.items.reduce((s, d) => s + Math.abs(nodeMs(d.w, rates, params) - d.m), 0) / g.total, 0) / data.length;
  const present = new Set(data.flatMap((g) => g.items.map((d) => d.w.kind)));
  const grid = Array.from({ length: 41 }, (_, i) => 0.1 * Math.pow(100, i / 40)); // 0.1 .. 10, log-spaced
  const { groupedConvEfficiency, ...rest } = base.parameters;
  let best: AnalyticParameters = { ...rest, opEfficiency: { conv: 1, depthwiseConv: groupedConvEfficiency ?? 1, matmul: 1, elementwise: 1 } };
  // Below 1 the memory roofline binds elementwise nodes harder; the cap at 1 makes larger values moot.
  let bestErr = errorOf(best);
  for (let pass = 0; pass < 2; pass++) {
    for (const cls of ['conv', 'depthwiseConv', 'matmul', 'elementwise'] as const) {
      if (!present.has(cls)) continue;
      for (const x of grid) {
        const cand = { ...best, opEfficiency: { ...best.opEfficiency, [cls]: x } };
        const err = errorOf(cand);
        if (err < bestErr) [best, bestErr] = [cand, err];
      }
    }
  }
  const k = best.opEfficiency!;
  return {
    parameters: {
      ...best,
      opEfficiency: { conv: round(k.conv ?? 1, 4), depthwiseConv: round(k.depthwiseConv ?? 1, 4), matmul: round(k.matmul ?? 1, 4), elementwise: round(k.elementwise ?? 1, 4) },
    },
    weightedAbsRelError: round(bestErr, 4),
  };
}
