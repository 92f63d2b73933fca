// Everything a report shows, as plain data: the CLI assembles it, the renderers only read it.
import type { Constraints, Objective, ParetoResult, Plan, ProblemLink } from '@dnnpart/solver';

export type CostSource = 'measured' | 'analytic' | 'imported' | 'estimated';

export interface ReportBoard {
  readonly id: string;
  /** Where this board's per-layer costs came from. */
  readonly source: CostSource;
  /** Profile or description file, when there is one. */
  readonly file?: string;
  /** ISO time the profile was made, when known. */
  readonly createdAt?: string;
  readonly memoryBytes: number | null;
  /** Power figures' origin: measured, estimated (from a description), unavailable. */
  readonly powerSource?: 'measured' | 'estimated' | 'unavailable' | 'imported';
  readonly description?: string;
}

export interface ReportLayer {
  readonly name: string;
  readonly op: string;
  readonly macs: number;
  readonly paramBytes: number;
  /** Per board id; absent when the layer cannot run there. */
  readonly latencyMs: Readonly<Record<string, number>>;
}

export interface ReportCut {
  readonly after: string;
  readonly bytes: number;
  readonly tensors: number;
}

export interface MeasuredRun {
  readonly plan: string;
  readonly measuredFps?: number;
  readonly measuredLatencyMs?: number;
  readonly predictedFps?: number;
  readonly predictedLatencyMs?: number;
  /** The slowest and fastest of repeated runs whose median measuredFps is (verify --repeat). */
  readonly measuredFpsRange?: readonly [number, number];
  /** A run on the agents (dnnpart run --json): each stage's compute and memory there, beside the plan's. */
  readonly stages?: readonly MeasuredRunStage[];
  /** Agents of the run that shared one machine (its sharedMachines): their stages shared its cores. */
  readonly sharedMachines?: readonly { readonly host: string; readonly agents: readonly string[]; readonly cores: number }[];
}

/** One stage of a run on the agents. */
export interface MeasuredRunStage {
  readonly index: number;
  readonly agent: string;
  readonly predictedMs: number | null;
  /** Median compute per frame on its agent, with its own encoding and decoding of the tensors between stages when they travelled encoded (the plan prices both). */
  readonly measuredMs: number;
  /** The plan's memory of the stage, its frames in flight included. */
  readonly predictedMemoryBytes: number | null;
  /** What the stage added to its agent at the most while frames streamed (memory.peakBytes), frames in flight included. */
  readonly peakMemoryBytes?: number;
  /** Of predictedMemoryBytes: the frames in flight (memory.predictedFramesBytes), when the plan says. */
  readonly predictedFramesBytes?: number;
  /** The stage alone in a fresh process on its agent's board, at its peak (memory.alone.peakBytes); absent from agents before it. */
  readonly aloneMemoryBytes?: number;
}

/** One system (model + boards + links) and its solved plans. */
export interface ReportSystem {
  readonly name: string;
  readonly model: { readonly name: string; readonly layers: number; readonly params: number; readonly macs: number; readonly file?: string };
  readonly boards: readonly ReportBoard[];
  readonly links: readonly ProblemLink[];
  readonly inputBoard: string;
  readonly boardOrder: 'fixed' | 'free';
  readonly constraints: Constraints;
  /** The objective the user asked for; its plan is "the chosen plan". */
  readonly objective: Objective;
  readonly layers: readonly ReportLayer[];
  readonly cuts: readonly ReportCut[];
  /** The optimum per objective (all three are solved). Baselines sit inside each Plan. */
  readonly plans: Readonly<Record<Objective, Plan>>;
  /** Keys "throughput,energy" and "latency,energy" (others allowed). */
  readonly pareto: Readonly<Record<string, ParetoResult>>;
  readonly measured?: readonly MeasuredRun[];
  /** Stage-by-stage results of `dnnpart verify` runs of this system's model (report --verify). */
  readonly verified?: readonly VerifiedPlan[];
  /** Fidelity of the plans against the full-precision model, measured by running them (system `transfer` or fidelity constraints). */
  readonly fidelity?: SystemFidelity;
  /**
   * What the figures rest on that a reader should know: the warnings of loading the model and
   * joining the boards' profiles (a description without calibration, a node priced from another
   * board, a tensor sized empty), as the command printed them.
   */
  readonly caveats?: readonly string[];
}

/** One plan's measured fidelity under a transfer encoding. */
export interface PlanFidelityFigures {
  readonly transfer: 'fp32' | 'fp16' | 'int8';
  /** Each stage's precision: its board's (an analytic profile's precision; fp32 when measured). */
  readonly precisions: readonly ('fp32' | 'fp16' | 'int8')[];
  readonly samples: number;
  readonly cosine: number;
  readonly sqnrDb: number;
  readonly top1Agreement?: number;
  readonly top1Interval?: readonly [number, number];
  readonly transferBytes: number;
  readonly fp32TransferBytes: number;
  /** Against the system's fidelity constraints; null when it has none. */
  readonly meets: boolean | null;
}

/** The fidelity of a system's plans and the encoding finally used. */
export interface SystemFidelity {
  /** The system file's encoding, and the one the plans were solved with (higher when a constraint forced it). */
  readonly requested: 'fp32' | 'fp16' | 'int8';
  readonly transfer: 'fp32' | 'fp16' | 'int8';
  readonly constraints: { readonly minCosine?: number; readonly minTop1Agreement?: number };
  readonly byObjective: Readonly<Partial<Record<Objective, PlanFidelityFigures>>>;
  /** What happened, e.g. a fallback to a higher-precision encoding. */
  readonly notes: readonly string[];
}

/** One `dnnpart verify` result as the report shows it: each stage predicted against measured. */
export interface VerifiedPlan {
  /** Where it came from, e.g. "verify.json". */
  readonly source: string;
  readonly threads: number;
  readonly runs: number;
  readonly machine: string;
  /** The whole model's measured / predicted time in the same runs (verify's speed reference), when it ran. */
  readonly speedRatio?: number;
  readonly stages: readonly {
    readonly index: number; readonly board: string; readonly nodes: number; readonly predictedMs: number | null; readonly measuredMs: number; readonly p90Ms: number;
    /** The error with the prediction scaled by speedRatio (stages of the reference board). */
    readonly scaledError?: number | null;
    /** The stage timed alone, run after run as a board runs it (measuredMs: the stages in turn, which share the machine's caches). */
    readonly aloneMs?: number;
    /** A stage the plan puts on another board: its prediction on the board that stands for the machine verify ran on, and that error at the measured speed. */
    readonly here?: { readonly board: string; readonly predictedMs: number; readonly scaledError?: number };
    /** The plan's memory of the stage and the most it took in a process of its own (verify's memory check). */
    readonly predictedMemoryBytes?: number | null;
    readonly measuredMemoryBytes?: number;
  }[];
  /** What verify said about its measurement (a machine slower than when profiled, stages whose outputs come back in fresh memory...). */
  readonly notes?: readonly string[];
}

export interface ReportData {
  readonly title: string;
  readonly createdAt: string;
  readonly tool: { readonly name: string; readonly version: string };
  readonly systems: readonly ReportSystem[];
}
