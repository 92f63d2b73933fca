// The profile, board and link data types: plain data, one definition each, here.

/** The profile format's version tag (what this version writes). */
export const PROFILE_SCHEMA_ID = 'dnnpart/profile@2';
/** Every version this version reads: @1 profiles have no boundary calibration and uncorrected node times. */
export const PROFILE_SCHEMA_IDS = ['dnnpart/profile@1', PROFILE_SCHEMA_ID] as const;
export type ProfileSchemaId = (typeof PROFILE_SCHEMA_IDS)[number];

export type CostSourceKind = 'measured' | 'analytic';
export type PowerSource = 'measured' | 'estimated' | 'unavailable';
export type GraphOptimizationLevel = 'disabled' | 'basic' | 'extended' | 'all';

export interface LatencyStats {
  readonly median: number;
  readonly p90: number;
  readonly mean: number;
  readonly stddev: number;
}

export interface ProfileBoard {
  /** Matches /^[a-z0-9][a-z0-9._-]*$/. */
  readonly name: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly os: string;
  readonly arch: string;
  /** The board description this profile used (analytic profiles, estimated power). */
  readonly description?: string;
}

export interface ProfileModelInput {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
}

export interface ProfileNode {
  /** The original ONNX node name (as in @dnnpart/onnx-graph's Graph). */
  readonly name: string;
  readonly op: string;
  readonly latencyMs: LatencyStats;
  readonly paramBytes: number;
  readonly outputBytes: number;
  /** Energy per inference attributed to this node; null when power is unavailable. */
  readonly energyMj: number | null;
  readonly macs?: number;
  /** Samples behind the statistics (measured profiles). */
  readonly runs?: number;
  /** The ORT kernel that ran this node when it is not the node itself (fused or renamed). */
  readonly kernel?: string;
  /**
   * @2 measured profiles: this node's share of the profiled runs' kernel time, before the
   * correction that scales it to the un-profiled run (`latencyMs` is the corrected figure).
   */
  readonly profiledMs?: LatencyStats;
}

/** How a board's stage-boundary cost was obtained. */
export type BoundaryMethod = 'measured' | 'default' | 'estimated';

/**
 * What a stage boundary costs on a board: a stage on it takes Σ node latencies + fixedMs +
 * inMsPerByte × bytes entering the stage + outMsPerByte × bytes leaving it.
 */
export interface BoundaryCost {
  /** Per-run cost of a stage beyond its kernels: the call into onnxruntime and back. */
  readonly fixedMs: number;
  /** Per byte of stage inputs (fed from JavaScript buffers). */
  readonly inMsPerByte: number;
  /** Per byte of stage outputs (allocated and read back into JavaScript). */
  readonly outMsPerByte: number;
  readonly method: BoundaryMethod;
  /** Timed runs per calibration model (measured). */
  readonly runs?: number;
  /** Coefficient of determination of the least-squares fit (measured). */
  readonly fitR2?: number;
  /** How the outputs were fetched while calibrating: into tensors made once and reused, or allocated by onnxruntime each run. */
  readonly outputs?: 'preallocated' | 'allocated';
  /** Where the figures come from, in words. */
  readonly origin?: string;
  /**
   * What encoding the float32 tensors a stage sends on and decoding those it receives cost, per
   * float32 byte, for a system whose `transfer` is fp16 or int8 (absent: DEFAULT_ENCODINGS).
   */
  readonly encodings?: EncodingCosts;
}

/** A board's CPU time to encode a float32 tensor for a link, and to decode one received, per float32 byte. */
export interface EncodingCost {
  readonly encodeMsPerByte: number;
  readonly decodeMsPerByte: number;
}

export interface EncodingCosts {
  readonly fp16: EncodingCost;
  readonly int8: EncodingCost;
  /** measured: calibrateEncodings on the board; estimated: the default scaled to a described board; default: DEFAULT_ENCODINGS. */
  readonly method: BoundaryMethod;
}

/** The correction from profiled kernel times to un-profiled ones (@2 measured profiles). */
export interface ProfileCorrection {
  /** Σ node medians of the profiled runs (ORT's kernel times, attributed to nodes). */
  readonly profiledNodeSumMs: number;
  /** End-to-end median minus the boundary cost of the model's inputs and outputs: what the kernels take un-profiled. */
  readonly kernelBudgetMs: number;
  /** kernelBudgetMs / profiledNodeSumMs: every node's profiled statistics are multiplied by it. */
  readonly scale: number;
  /** The boundary cost of the whole model (its inputs and outputs) subtracted from the end-to-end median. */
  readonly boundaryMs: number;
  /** Σ profiled node medians / end-to-end median, before the correction (what @1 profiles call nodeSumToEndToEnd). */
  readonly rawNodeSumToEndToEnd: number;
}

export interface FusedKernel {
  /** Kernel name in ORT's trace. */
  readonly kernel: string;
  readonly op: string;
  /** Original nodes whose time this kernel carries (split in proportion to MACs). */
  readonly nodes: readonly string[];
}

export interface ProfilePower {
  readonly source: PowerSource;
  /** Sensor name (measured) or board description (estimated). */
  readonly origin?: string;
  readonly idleW?: number;
  /** Mean power while inferences ran. */
  readonly activeW?: number;
  /** Board power × end-to-end median: what one inference costs the board. */
  readonly energyPerInferenceMj?: number;
  /** (active − idle) × end-to-end median: the part the inference adds over idling. */
  readonly dynamicEnergyPerInferenceMj?: number;
  /** How per-node energy was derived, in words. */
  readonly attribution?: string;
}

export interface Profile {
  readonly schema: ProfileSchemaId;
  readonly source: CostSourceKind;
  readonly board: ProfileBoard;
  readonly model: { readonly name: string; readonly sha256: string; readonly inputs: readonly ProfileModelInput[] };
  readonly settings: {
    readonly runs: number;
    readonly warmup: number;
    readonly threads: number;
    readonly executionProvider: string;
    readonly graphOptimizationLevel?: GraphOptimizationLevel;
    readonly ortVersion?: string;
    /** When no thread count was given: the counts tried before profiling (all cores, and 1 when a run took under 20 ms) and their medians. */
    readonly threadProbe?: readonly { readonly threads: number; readonly medianMs: number }[];
  };
  readonly endToEnd: { readonly medianMs: number; readonly p90Ms: number; readonly runs: number; readonly meanMs?: number; readonly stddevMs?: number };
  readonly nodes: readonly ProfileNode[];
  readonly power: ProfilePower;
  readonly createdAt: string;
  readonly tool: { readonly name: string; readonly version: string };
  /** Share of the profiled run time (median) that no original node carries: layout reorders, gaps between kernels. */
  readonly unattributedShare?: number;
  readonly fusedNodes?: readonly FusedKernel[];
  /** Original nodes ORT removed entirely (constant-folded, identity); they carry 0 ms. */
  readonly eliminatedNodes?: readonly string[];
  /** The profiler's cost: median run with profiling on vs without. */
  readonly overhead?: { readonly profiledMedianMs: number; readonly ratio: number };
  /** Sum of node medians / end-to-end median (@2 measured: corrected node medians, so 1 − the whole model's boundary share). */
  readonly nodeSumToEndToEnd?: number;
  /** @2: what a stage boundary costs on this board (absent: not calibrated; see boundaryOf). */
  readonly boundary?: BoundaryCost;
  /** @2 measured: how the node times were corrected for the profiler's overhead. */
  readonly correction?: ProfileCorrection;
  /** Highest resident set size of the process seen after any run: both ORT sessions (plain and profiled), their arenas and Node. */
  readonly peakRssBytes?: number;
  /** Resident set size just before any session of the model was created (the thread probe's included); peakRssBytes minus this is what the sessions added. */
  readonly rssBeforeSessionsBytes?: number;
  /** Analytic profiles: the roofline's parameters. */
  readonly analytic?: AnalyticParameters & { readonly precision: Precision };
  readonly warnings: readonly string[];
}

export type Precision = 'fp32' | 'fp16' | 'int16' | 'int8';

export interface AnalyticParameters {
  /** Fraction of peak compute reached (0..1]. */
  readonly computeEfficiency: number;
  /** Fraction of peak memory bandwidth reached (0..1]. */
  readonly memoryEfficiency: number;
  /** Fixed cost per node (dispatch, kernel launch). */
  readonly perOpOverheadMs: number;
  /** Multiplies computeEfficiency for grouped and depthwise convolutions (group > 1), which few arrays map well; default 1. */
  readonly groupedConvEfficiency?: number;
  /**
   * Count a grouped convolution's work as if it were dense (MACs × group), as simulators that
   * ignore `group` do (the paper's Timeloop reference data); default false.
   */
  readonly groupedConvAsDense?: boolean;
  /**
   * Per-op-class multipliers (default 1): conv, depthwiseConv (group > 1, in place of
   * groupedConvEfficiency) and matmul (Gemm, MatMul) multiply computeEfficiency; elementwise
   * (every node without MACs) multiplies memoryEfficiency. Fitted by calibrateAnalyticPerOp.
   */
  readonly opEfficiency?: OpEfficiency;
}

export interface OpEfficiency {
  readonly conv?: number;
  readonly depthwiseConv?: number;
  readonly matmul?: number;
  readonly elementwise?: number;
}

/** A board that may not be at hand: datasheet figures with their sources. */
export interface BoardDescription {
  readonly name: string;
  readonly title: string;
  readonly kind: 'cpu' | 'gpu' | 'npu' | 'accelerator';
  /** What its figures assume runs the model (default onnxruntime-cpu); a run refuses an agent without it. */
  readonly engine?: 'onnxruntime-cpu' | 'onnxruntime-cuda' | 'onnxruntime-tensorrt' | 'edgetpu' | 'simulated';
  /** Peak throughput per precision in GOPS (1 MAC = 2 ops); absent precisions are unsupported. */
  readonly peakGops: Readonly<Partial<Record<Precision, number>>>;
  readonly memoryBandwidthBytesPerSec: number;
  /**
   * How fast activations move: the bandwidth of a copy the size of a layer's tensors (a few MiB,
   * cache-resident), which analytic profiles charge activations at (weights stay at
   * memoryBandwidthBytesPerSec). Absent: the memory bandwidth.
   */
  readonly activationBandwidthBytesPerSec?: number;
  /**
   * The last-level cache, in bytes: with activationBandwidthBytesPerSec, a node whose activations
   * (read and written) exceed it moves them at memoryBandwidthBytesPerSec, and a recurrent layer
   * whose recurrent weights exceed it reads them again from memory. Absent: every node's
   * activations fit.
   */
  readonly cacheBytes?: number;
  readonly memoryBytes: number;
  readonly power: { readonly idleW: number; readonly activeW: number };
  readonly sources: readonly string[];
  /** The precision analytic profiles assume by default. */
  readonly defaultPrecision?: Precision;
  readonly analytic?: AnalyticParameters & { readonly calibration?: string };
  /** What a stage boundary costs on this board, when known (else derived from memory bandwidth). */
  readonly boundary?: { readonly fixedMs: number; readonly inMsPerByte: number; readonly outMsPerByte: number; readonly source?: string };
  readonly notes?: string;
  /** Measured facts for descriptions of machines at hand. */
  readonly measured?: Readonly<Record<string, string | number>>;
  /** The file it was loaded from. */
  readonly file?: string;
}

export type LinkFraming = 'none' | 'ethernet';

/** A link kind between two boards, ready to become a solver link. */
export interface LinkDescription {
  readonly name: string;
  readonly title?: string;
  readonly bandwidthBytesPerSec: number;
  readonly latencyMs: number;
  readonly powerW: number;
  readonly framing: LinkFraming;
  readonly sources: readonly string[];
  readonly cableLengthM?: number;
  readonly notes?: string;
  readonly file?: string;
}
