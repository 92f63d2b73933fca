// The partitioning problem and its plans: plain data, version 1 (see README "Problem format").

export type Objective = 'throughput' | 'latency' | 'energy';
export type BoardOrder = 'fixed' | 'free';
export type Framing = 'none' | 'ethernet';

export interface ProblemNode {
  readonly id: string;
  /** Bytes the node occupies on the board that runs it for as long as its stage exists (weights and buffers). */
  readonly memoryBytes: number;
  /**
   * Bytes alive while the node runs (its inputs, its outputs and every tensor held across it), which
   * the runtime reuses once the node is done. A stage needs the sum of its nodes' `memoryBytes` plus
   * the largest `activationBytes` among them. Absent: 0 (the stage needs the sum alone).
   */
  readonly activationBytes?: number;
  /** Multiply-accumulates; optional, used by the even-split-by-MACs baseline (0 when absent). */
  readonly macs?: number;
}

export interface ProblemTensor {
  readonly id: string;
  /** null: a model input, held by `inputBoard`. */
  readonly producer: string | null;
  readonly consumers: readonly string[];
  readonly bytes: number;
  /** A model output: it leaves the stage that produces it (a boundary cost), besides any consumers. */
  readonly modelOutput?: boolean;
}

/**
 * What a stage boundary costs on a board, on top of its nodes' kernel times: a fixed per-run overhead
 * and a cost per byte of stage inputs and outputs (tensors copied in and out of the runtime).
 */
export interface StageBoundary {
  readonly fixedMs: number;
  readonly inMsPerByte: number;
  /** Per byte of the tensors it passes on to later stages. */
  readonly outMsPerByte: number;
  /**
   * Per byte of the model outputs it makes, when they cost otherwise than what it passes on (a
   * runtime that encodes the tensors for the next stage sends the model outputs back as they are);
   * absent: outMsPerByte.
   */
  readonly outputMsPerByte?: number;
  /**
   * Per byte of the model inputs when this board is the input board and runs the first stage: they
   * are there already, as they are, where on any other board they arrive over a link like any stage
   * input (a runtime that encodes its transfers decodes them there, not here); absent: inMsPerByte.
   */
  readonly inputMsPerByte?: number;
}

/**
 * Memory a stage holds on a board for the frames in flight around the one it computes: per byte of
 * its inputs (frames received and waiting) and per byte of its outputs (frames being sent on). A
 * pipeline keeps several frames moving through each stage, and a runtime holds each of them, and
 * copies of it, while it arrives or leaves.
 */
export interface FrameBuffers {
  readonly perInByte: number;
  readonly perOutByte: number;
}

export interface ProblemBoard {
  readonly id: string;
  /** null: no cap. */
  readonly memoryBytes: number | null;
  /** Per node id; a node without an entry cannot run on this board. */
  readonly latencyMs: Readonly<Record<string, number>>;
  /** Per node id; absent entries count as 0 mJ. */
  readonly energyMj?: Readonly<Record<string, number>>;
  /** Boundary costs of a stage on this board; absent: 0 (a stage costs its nodes' latencies only). */
  readonly boundary?: StageBoundary;
  /** Memory of frames in flight a stage on this board holds; absent: none (a stage needs its nodes' memory alone). */
  readonly frameBuffers?: FrameBuffers;
}

export interface ProblemLink {
  readonly from: string;
  readonly to: string;
  readonly bandwidthBytesPerSec: number;
  readonly latencyMs: number;
  readonly powerW: number;
  readonly framing?: Framing;
}

export interface Constraints {
  readonly maxLatencyMs?: number;
  readonly maxEnergyMj?: number;
  readonly minThroughputFps?: number;
}

export interface Problem {
  readonly version: 1;
  readonly name?: string;
  readonly nodes: readonly ProblemNode[];
  readonly tensors: readonly ProblemTensor[];
  readonly boards: readonly ProblemBoard[];
  readonly links: readonly ProblemLink[];
  readonly inputBoard: string;
  readonly objective: Objective;
  readonly boardOrder: BoardOrder;
  readonly constraints?: Constraints;
}

export type SolveStatus = 'optimal' | 'feasible' | 'timeout' | 'infeasible';

export interface PlanStage {
  readonly board: string;
  readonly nodes: readonly string[];
  /** The stage's full predicted time on its board: kernelMs + boundaryMs. */
  readonly computeMs: number;
  readonly energyMj: number;
  /** The sum of its nodes' memoryBytes plus the largest of their activationBytes, plus framesBytes. */
  readonly memoryBytes: number;
  /** The part of memoryBytes held for frames in flight: perInByte x inBytes + perOutByte x outBytes of its board's frameBuffers. */
  readonly framesBytes?: number;
  /** Sum of the stage's node latencies. */
  readonly kernelMs?: number;
  /** The board's boundary cost: fixedMs + inMsPerByte x inBytes + outMsPerByte x (outBytes - model outputs) + outputMsPerByte x model outputs. */
  readonly boundaryMs?: number;
  /** Bytes entering the stage: model inputs (first stage) or tensors crossing the cut before it, relayed ones included. */
  readonly inBytes?: number;
  /** Bytes leaving it: tensors crossing the cut after it, and the model outputs it produces. */
  readonly outBytes?: number;
}

export interface PlanTransfer {
  readonly from: string;
  readonly to: string;
  readonly bytes: number;
  readonly ms: number;
  readonly energyMj: number;
  readonly tensors: readonly string[];
}

/** A plan's metrics, recomputable from the problem and its stages. */
export interface PlanMetrics {
  readonly throughputFps: number;
  readonly latencyMs: number;
  readonly energyMj: number;
  readonly stages: readonly PlanStage[];
  /** The input transfer (when the first stage is not on the input board) comes first. */
  readonly transfers: readonly PlanTransfer[];
  /** What limits throughput: a stage's board, or a transfer as "from->to". */
  readonly bottleneck: string;
}

export interface Baseline extends PlanMetrics {
  /** e.g. "single:jetson", "split:jetson->rpi", "even-macs". */
  readonly name: string;
  readonly kind: 'single-board' | 'best-single-split' | 'even-split-macs';
  /** False when the plan breaks the problem's constraints (it is still reported, for comparison). */
  readonly meetsConstraints?: boolean;
  /** The constraints it breaks, e.g. "latency 61.2 ms > 50 ms". */
  readonly violations?: readonly string[];
}

/** Problem size before and after the exact reduction, and the ILP's size. */
export interface ReductionStats {
  readonly nodes: number;
  readonly tensors: number;
  readonly boards: number;
  /** Zero-cost source nodes (e.g. ONNX Constant) merged into their consumer before the cut sets. */
  readonly mergedNodes?: number;
  /** Downsets (valid cut sets) of the DAG, empty and full set included. */
  readonly cutSets: number;
  /** Cut sets left after bound-based pruning (those that can be in an optimal plan). */
  readonly cutCandidates: number;
  /** Groups of nodes that always share a stage (after pruning). */
  readonly blocks: number;
  readonly columns: number;
  readonly binaries: number;
  readonly rows: number;
  /**
   * How optimality was proven: "ilp" (GLPK on the reduced model), or "programme+ilp-check" (the exact
   * cut-set programme's lower bound, met by a plan that GLPK confirms on the same model restricted to it).
   */
  readonly proof?: 'ilp' | 'programme+ilp-check' | 'lower-bound';
  /** Incumbent from the dynamic programme over prefix cuts (the minimised value), if any. */
  readonly incumbent?: number;
  /** Most cut sets the exact method takes on; past it `cutSets` is this + 1 and the graph is coarsened. */
  readonly cutSetBudget?: number;
  /** Nodes (clusters) and cut sets of the coarsened graph, when the graph was coarsened. */
  readonly coarseNodes?: number;
  readonly coarseCutSets?: number;
}

/**
 * What produced a plan: the exact cut-set method ("exact"); the coarsened graph solved exactly, as is
 * or refined on the full graph; the prefix-cut programme over one topological order (refined or not);
 * the chain of the pipeline-aware bound; an integer solution of the labelling programmes of latency and
 * energy (`_labelling.ts`); or a baseline, when nothing the search found was better.
 */
export type SolveMethod = 'exact' | 'coarsened' | 'coarsened+refined' | 'prefix-dp' | 'prefix-dp+refined' | 'bound-chain' | 'bound-chain+refined' | 'labelling' | 'labelling+refined' | 'baseline';

export interface Plan extends Partial<PlanMetrics> {
  readonly status: SolveStatus;
  readonly objective: Objective;
  readonly solveMs: number;
  /** Relative MIP gap when status is "feasible". */
  readonly gap?: number;
  /** Why there is no plan (infeasible) or why it is not proven (timeout). */
  readonly reason?: string;
  readonly baselines: readonly Baseline[];
  /** Size of the problem and of the ILP actually solved. */
  readonly reduction?: ReductionStats;
  /** Name of the ILP engine ("glpk"). */
  readonly engine?: string;
  /** What produced the plan (see SolveMethod). */
  readonly method?: SolveMethod;
  /** A proven lower bound on the objective's minimised value (period in ms for throughput), when known. */
  readonly lowerBound?: number;
}

export interface ParetoResult {
  readonly status: SolveStatus;
  readonly objectives: readonly [Objective, Objective];
  readonly front: readonly Plan[];
  readonly solveMs: number;
  readonly reason?: string;
  /** Baselines of the problem (the front's plans carry none). */
  readonly baselines?: readonly Baseline[];
  /** True when the time limit ended the front: its points are the ones found so far (status `feasible`, or `timeout` with none). */
  readonly timeLimited?: boolean;
}
