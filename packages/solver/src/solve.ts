// solve(): exact optimum of a problem. Reduce exactly (cut candidates, bound pruning, blocks),
// seed with a dynamic-programme incumbent, then prove optimality with the ILP engine.

import { coarsen, coarseProblem, countDownsets, type Coarsening } from './_coarsen.js';
import { compile, type Compiled } from './_compiled.js';
import { bestPrefixPlan, prefixTables } from './_dp.js';
import { cheapestTransfer, enumerateDownsets, type Downset } from './_downsets.js';
import { blocksOf, buildModel, type MetricBounds } from './_model.js';
import { chainBoundAndPlan } from './_chain-bound.js';
import { labellingBound } from './_labelling.js';
import { lowerBoundOf } from './_lower-bound.js';
import { minCutBytes } from './_mincut.js';
import { mergeZeroCostSources } from './_reduce.js';
import { gapOf, pickRefined, type WideCandidate } from './_wide.js';
import { MAX_PAIR_CUT_SETS, MAX_SUBSET_WORK, pairValues, pairValuesFree, periodCandidates, strictSubsets, type PairValues } from './_bounds.js';
import { baselinesOf } from './baselines.js';
import { createGlpkSolver, type Solver } from './engine.js';
import { assignmentProblem, fmt, metricsOf, objectiveValue, type Assignment } from './evaluate.js';
import { SolverError } from './errors.js';
import { parseProblem } from './problem.js';
import type { Baseline, Constraints, Objective, Plan, PlanMetrics, Problem, ReductionStats, SolveMethod } from './types.js';

export interface SolveOptions {
  /** Overrides the problem's objective. */
  readonly objective?: Objective;
  /** Wall-clock limit for the whole solve, in seconds (default 120). */
  readonly timeLimitS?: number;
  /** ILP engine (default: GLPK via glpk.js). */
  readonly engine?: Solver;
  readonly onProgress?: (msg: string) => void;
  /**
   * Most cut sets (downsets) the exact method enumerates; a wider graph is coarsened (default: what
   * the exact programmes take on for this board count and order, at most MAX_PAIR_CUT_SETS).
   */
  readonly maxCutSets?: number;
}

/** Options of the solves a solve runs inside itself (the coarsened problem's). */
interface InternalOptions {
  /** Never coarsen (the coarsened problem already fits). */
  readonly exactOnly?: boolean;
  /** Take the exact programme's plan without the ILP's confirmation (a coarse plan needs no proof). */
  readonly trustProgramme?: boolean;
}

const OBJECTIVES: readonly Objective[] = ['throughput', 'latency', 'energy'];
/** Hard cap on the cut sets (downsets) the exact method enumerates, whatever `maxCutSets` says. */
export const MAX_CUT_SETS = 200_000;
/**
 * Work (2^m x m x cut sets^2, or m x cut sets^2 for a fixed order) of one run of the coarsened
 * problem's exact programme, per second of the time limit: a solve runs it about four times, at
 * about 1e8 steps a second here. Capped at COARSE_WORK_MAX.
 */
const COARSE_WORK_PER_S = 2.5e6;
const COARSE_WORK_MAX = 1e8;
/** Work of one exact free-order programme run per second of the time limit (a solve runs several). */
const EXACT_WORK_PER_S = 2e7;
/** Most steps (n^2 m^2 x board sequences) the prefix-cut programme may take in the coarsened path. */
const PREFIX_WORK = 2e8;
/** Cut sets x boards^2 (about the ILP's rows) the exact method takes on when the exact programme cannot run. */
const ILP_ROWS_BUDGET = 2e5;
/** GLPK's budget on a coarsened problem when the exact programme gave no plan. */
const COARSE_ILP_BUDGET_S = 3;
const COARSE_ILP_MAX_ROWS = 20_000;
/** Share of the remaining time the coarsened problem's solve may take. */
const COARSE_SHARE = 0.5;
/**
 * The labelling bound of latency and energy (_labelling.ts): the refinement before it leaves it this
 * share of the time left (at most LABELLING_MAX_S); it then takes up to LABELLING_LATE_SHARE of what is
 * left, at most LABELLING_MAX_S (Swin-T on three boards: about 5 s).
 */
const LABELLING_SHARE = 0.4;
const LABELLING_LATE_SHARE = 0.6;
const LABELLING_MAX_S = 8;
/** A gap below this (0.001 %, printed as 0.00 %) is not worth the labelling bound's seconds. */
const LABELLING_MIN_GAP = 1e-5;
/** Relative slack on cutoffs and pruning bounds, so that float noise never removes an optimum. */
const SLACK = 1e-9;
/**
 * An ILP of more than LATE_ILP_ROWS rows (about cut candidates x boards^2) is started only with at least
 * LATE_ILP_S, and LATE_ILP_MS_PER_ROW per row, left: GLPK's root LP ignores its time limit (13,814 rows
 * took 2.7 s with 1 s given, PaddleOCR cls on 8 boards).
 */
const LATE_ILP_S = 0.5;
const LATE_ILP_ROWS = 2000;
const LATE_ILP_MS_PER_ROW = 0.2;
/** Candidate sets whose programme runs a solve keeps (a Pareto step and its lexicographic step use two). */
const PROGRAMME_CACHES = 4;
/** Runs one programme cache keeps (each holds two values per cut set and board). */
const MAX_CACHED_RUNS = 1000;
/** ILP budget when the exact programme already holds an optimal plan (then GLPK only has to confirm it). */
const FULL_ILP_BUDGET_S = 5;

/** One optimisation inside a solve: minimise a metric subject to upper bounds on the metrics. */
export interface CoreSpec {
  readonly minimize: Objective;
  readonly bounds: MetricBounds;
}

export interface CoreResult {
  readonly status: 'optimal' | 'feasible' | 'timeout' | 'infeasible';
  readonly assignment?: Assignment;
  readonly metrics?: PlanMetrics;
  readonly gap?: number;
  readonly reduction: ReductionStats;
  readonly method?: SolveMethod;
  readonly lowerBound?: number;
}

/** Shared state of one solve (or one Pareto run): the compiled problem, its cut sets, the engine, the deadline. */
export class SolveContext {
  /** The problem as given, and the one the ILP sees (zero-cost sources merged: see _reduce.ts). */
  readonly original: Compiled;
  readonly cp: Compiled;
  readonly merged: number;
  private readonly toReduced: Int32Array;
  readonly engine: Solver;
  deadline: number;
  readonly progress: (msg: string) => void;
  private downsets: Downset[] | undefined;
  private readonly seeds = new Map<Objective, Assignment[]>();
  private tab: ReturnType<typeof prefixTables> | undefined;
  private readonly internal: InternalOptions;
  private readonly maxCutSets: number | undefined;
  private readonly timeLimitS: number;
  /** Set once the cut sets were counted: more than the budget means the coarsened path. */
  private wide: boolean | undefined;
  private countedCutSets = 0;
  private coarse: { c: Coarsening; ctx: SolveContext; target: number } | undefined;
  private readonly lowerBounds = new Map<Objective, number>();
  /** Per objective and limits on latency and energy: the labelling bound and its plans, once computed (or tried). */
  private readonly labelled = new Map<string, { bound: number; plans: readonly Assignment[] }>();
  /**
   * Whether the wide path may spend time on the labelling bound. A Pareto front turns it off: its
   * steps share the front's time, and with it the throughput-energy fronts of six wide models came
   * out with fewer points in 20 s (ddddocr det on 4 RPi 5: 12 -> 5), none proven complete that was
   * not before (bench/results/solver-sum-bounds.md).
   */
  labelling = true;
  private readonly chainBounds = new Map<Objective, { bound?: number; plan?: Assignment }>();
  private cutBytes: number | undefined;
  /** Measured milliseconds per unit of programme work (see fixPairs), so that no run starts too late to end in time. */
  private msPerWork = 0;
  /** Programme caches of the latest candidate sets (most recent last), and each cut set's index. */
  private readonly programmeCaches = new Map<string, ProgrammeCache>();
  private downsetIndex: Map<Downset, number> | undefined;

  constructor(problem: Problem, options: SolveOptions, internal: InternalOptions = {}) {
    this.internal = internal;
    this.maxCutSets = options.maxCutSets;
    this.timeLimitS = options.timeLimitS ?? 120;
    this.original = compile(problem);
    const merge = mergeZeroCostSources(problem);
    this.cp = merge.hostOf.size === 0 ? this.original : compile(merge.problem);
    this.merged = merge.hostOf.size;
    // Original node index -> reduced node index (merged nodes map to their host).
    this.toReduced = Int32Array.from(this.original.nodeIds, (id) => this.cp.nodeIndex.get(merge.hostOf.get(id) ?? id)!);
    this.engine = options.engine ?? createGlpkSolver();
    this.deadline = performance.now() + (options.timeLimitS ?? 120) * 1000;
    this.progress = options.onProgress ?? (() => {});
  }

  /** Runs `fn` with the deadline at most `seconds` away, then restores it. */
  async within<T>(seconds: number, fn: () => Promise<T>): Promise<T> {
    const saved = this.deadline;
    this.deadline = Math.min(saved, performance.now() + seconds * 1000);
    try {
      return await fn();
    } finally {
      this.deadline = saved;
    }
  }

  remainingS(): number {
    return Math.max(0, (this.deadline - performance.now()) / 1000);
  }

  /**
   * Most cut sets the exact method takes on: the exact free-order programme's reach (2^m m D^2 <=
   * MAX_SUBSET_WORK, and <= EXACT_WORK_PER_S x the time limit, since a run cannot be interrupted),
   * else the pair programme's (fixed order), else a small ILP; or `maxCutSets`.
   */
  cutSetBudget(): number {
    if (this.maxCutSets !== undefined) return Math.min(this.maxCutSets, MAX_CUT_SETS);
    const m = this.cp.m;
    if (this.cp.problem.boardOrder === 'fixed') return MAX_PAIR_CUT_SETS;
    const work = Math.min(MAX_SUBSET_WORK, EXACT_WORK_PER_S * this.timeLimitS);
    const free = Math.floor(Math.sqrt(work / (2 ** m * m)));
    // Out of the exact programme's reach the ILP does the work; its rows grow with cut sets x boards^2.
    return free >= 200 ? Math.min(MAX_PAIR_CUT_SETS, free) : Math.max(2, Math.min(200, Math.floor(ILP_ROWS_BUDGET / (m * m))));
  }

  /** True when the graph has more cut sets than the exact method's budget (counted once, with early stop). */
  isWide(): boolean {
    if (this.wide === undefined) {
      if (this.internal.exactOnly === true) this.wide = false;
      else {
        const budget = this.cutSetBudget();
        this.countedCutSets = countDownsets(this.cp, budget);
        this.wide = this.countedCutSets > budget;
        if (this.wide) this.progress(`more than ${budget} cut sets over ${this.cp.n} nodes: coarsening the graph`);
      }
    }
    return this.wide;
  }

  cutSets(): Downset[] {
    if (this.downsets === undefined) {
      const all = enumerateDownsets(this.cp, this.internal.exactOnly === true ? MAX_CUT_SETS : Math.max(this.cutSetBudget(), 1));
      // Empty set first, full set last: the model relies on it.
      all.sort((a, b) => a.size - b.size);
      this.downsets = all;
      this.progress(`${all.length} cut sets over ${this.cp.n} nodes`);
    }
    return this.downsets;
  }

  /** Valid plans from the prefix-cut dynamic programme for one objective, over a few board sequences. */
  seedPlans(objective: Objective): Assignment[] {
    const cached = this.seeds.get(objective);
    if (cached !== undefined) return cached;
    const cp = this.cp;
    const tab = (this.tab ??= prefixTables(cp, cp.topo));
    const out: Assignment[] = [];
    // n^2 m^2 steps per board sequence: fewer sequences on large problems, none on huge ones.
    const seqs = boardSequences(cp);
    const per = cp.n * cp.n * cp.m * cp.m;
    while (seqs.length > 1 && per * seqs.length > PREFIX_WORK) seqs.pop();
    if (per > PREFIX_WORK * 4) seqs.length = 0;
    for (const seq of seqs) {
      const a = bestPrefixPlan(cp, tab, seq, objective);
      if (a !== null && assignmentProblem(cp, a) === null) out.push(a);
    }
    this.seeds.set(objective, out);
    return out;
  }

  /**
   * Minimise one metric under bounds: exact reduction, incumbent, programmes, ILP. GLPK accepts binaries within 1e-5 of 0 or 1 (its integrality
   * tolerance), so a returned plan can break a bound by about 1e-5 relative; then the bound is lowered
   * past that plan and the ILP re-solved, so every plan returned meets its bounds to 1e-9 relative.
   */
  async optimize(spec: CoreSpec): Promise<CoreResult> {
    let bounds = spec.bounds;
    for (let attempt = 0; ; attempt++) {
      const r = this.expand(await this.optimizeOnce({ minimize: spec.minimize, bounds }));
      if (r.metrics === undefined) return r;
      const over = excess(r.metrics, spec.bounds);
      if (over === null || attempt >= 5) return r;
      this.progress(`${spec.minimize}: plan breaks ${over.metric} bound by ${over.by}; re-solving below it`);
      bounds = { ...bounds, [over.metric]: bounds[over.metric] - 2 * over.by };
    }
  }

  /** A result on the original problem: merged nodes join their hosts' stages; metrics recomputed there. */
  /** An assignment of the reduced problem's nodes as one of the original's (merged nodes join their hosts). */
  toOriginal(a: Assignment): Assignment {
    return { boards: a.boards, stageOf: Int32Array.from(this.toReduced, (x) => a.stageOf[x]!) };
  }

  private expand(r: CoreResult): CoreResult {
    const reduction = { ...r.reduction, nodes: this.original.n, tensors: this.original.tBytes.length, mergedNodes: this.merged };
    if (r.assignment === undefined) return { ...r, reduction };
    const stageOf = Int32Array.from(this.toReduced, (x) => r.assignment!.stageOf[x]!);
    const a: Assignment = { boards: r.assignment.boards, stageOf };
    const why = assignmentProblem(this.original, a);
    if (why !== null) throw new SolverError('SOLVER_ENGINE', `the expanded plan is not valid (${why}); this is a bug`);
    return { ...r, assignment: a, metrics: metricsOf(this.original, a), reduction };
  }

  private async optimizeOnce(spec: CoreSpec): Promise<CoreResult> {
    if (this.isWide()) return this.optimizeWide(spec);
    const cp = this.cp;
    // Incumbent: the best seed plan within the bounds.
    let incumbent: { a: Assignment; m: PlanMetrics; value: number } | undefined;
    // Seeds for the minimised metric, and for each bounded one (they may be the only plans within bounds).
    const seedObjectives = new Set<Objective>([spec.minimize]);
    if (Number.isFinite(spec.bounds.periodMs)) seedObjectives.add('throughput');
    if (Number.isFinite(spec.bounds.latencyMs)) seedObjectives.add('latency');
    if (Number.isFinite(spec.bounds.energyMj)) seedObjectives.add('energy');
    const seeds = [...seedObjectives].flatMap((o) => this.seedPlans(o));
    const chainPlan = this.chainPlan(spec.minimize);
    if (chainPlan !== undefined && assignmentProblem(cp, chainPlan) === null) seeds.push(chainPlan);
    for (const a of seeds) {
      const m = metricsOf(cp, a);
      if (!withinBounds(m, spec.bounds)) continue;
      const value = objectiveValue(m, spec.minimize);
      if (incumbent === undefined || value < incumbent.value) incumbent = { a, m, value };
    }
    const bounds = tightened(spec, incumbent?.value);
    const all = this.cutSets();
    // A seed plan at the pipeline-aware bound is optimal: no programme or ILP needed.
    const chain = this.chainLowerBound(spec.minimize);
    if (incumbent !== undefined && chain !== undefined && incumbent.value <= chain * (1 + 1e-9) + 1e-12) {
      this.progress(`${spec.minimize}: a seed plan meets the lower bound ${fmt(chain)}`);
      return {
        status: 'optimal', assignment: incumbent.a, metrics: incumbent.m, lowerBound: chain,
        reduction: { nodes: cp.n, tensors: cp.tBytes.length, boards: cp.m, cutSets: all.length, cutCandidates: 0, blocks: 0, columns: 0, binaries: 0, rows: 0, incumbent: incumbent.value, proof: 'lower-bound' },
      };
    }
    const clock = { deadline: this.deadline, msPerWork: this.msPerWork };
    const pruned = prune(cp, all, bounds);
    const fixing = fixPairs(cp, pruned, bounds, spec.minimize, clock, this.programmeCache(pruned));
    this.msPerWork = clock.msPerWork;
    const { cands } = fixing;
    const blocks = blocksOf(cp, cands);
    const reductionOf = (model?: { columns: number; binaries: number; rows: number }): ReductionStats => ({
      nodes: cp.n, tensors: cp.tBytes.length, boards: cp.m, cutSets: all.length, cutCandidates: cands.length,
      blocks: blocks.length, columns: model?.columns ?? 0, binaries: model?.binaries ?? 0, rows: model?.rows ?? 0,
      ...(incumbent === undefined ? {} : { incumbent: incumbent.value }),
    });
    if (fixing.infeasible) {
      this.progress(`${spec.minimize}: no plan within the bounds (proven by the cut-set programme)`);
      return { status: 'infeasible', reduction: reductionOf() };
    }
    // With an exact programme plan in hand, the full ILP gets a capped budget: past it, the plan's
    // optimality rests on the programme's bound, and GLPK checks the plan on the same model.
    const dp = fixing.dpPlan !== undefined && assignmentProblem(cp, fixing.dpPlan) === null ? fixing.dpPlan : undefined;
    if (this.internal.trustProgramme === true && dp === undefined && cands.length * cp.m * cp.m > COARSE_ILP_MAX_ROWS) {
      // A coarse problem whose ILP would be too large for GLPK in time: its incumbent is the answer.
      return this.fallback(incumbent, reductionOf(), fixing.lowerBound);
    }
    if (this.internal.trustProgramme === true && dp !== undefined) {
      const m = metricsOf(cp, dp);
      if (withinBounds(m, spec.bounds)) return { status: 'optimal', assignment: dp, metrics: m, reduction: reductionOf(), ...(fixing.lowerBound === undefined ? {} : { lowerBound: fixing.lowerBound }) };
    }
    // Too late for a large ILP: building it and GLPK's root LP alone would overrun the deadline.
    const rows = cands.length * cp.m * cp.m;
    if (rows > LATE_ILP_ROWS && this.remainingS() < Math.max(LATE_ILP_S, (rows * LATE_ILP_MS_PER_ROW) / 1000)) return this.fallback(incumbent, reductionOf(), fixing.lowerBound);
    const model = buildModel(cp, cands, blocks, {
      minimize: spec.minimize, bounds,
      ...(fixing.allowIn === undefined ? {} : { allowIn: fixing.allowIn, allowOut: fixing.allowOut }),
      ...(fixing.lowerBound === undefined ? {} : { lowerBound: fixing.lowerBound * (1 - SLACK) - 1e-9 }),
    });
    const reduction = reductionOf(model);
    this.progress(`${spec.minimize}: ${cands.length}/${all.length} cut candidates, ${blocks.length} blocks, ${model.binaries} binaries, ${model.rows} rows`
      + (incumbent === undefined ? '' : `, incumbent ${fmt(incumbent.value)}`));
    // A coarse problem (no proof needed) without an exact programme plan gets GLPK briefly: on many
    // boards its model is large and weak, and the prefix-cut plans and refinement do better with the time.
    // GLPK overruns its time limit on large models (the root LP), so a large coarse model gets none.
    const cap = this.internal.trustProgramme !== true ? Number.POSITIVE_INFINITY : model.rows > COARSE_ILP_MAX_ROWS ? 0 : COARSE_ILP_BUDGET_S;
    const limit = Math.min(cap, dp === undefined ? this.remainingS() : Math.min(this.remainingS(), FULL_ILP_BUDGET_S));
    if (limit <= 0) return this.fallback(incumbent, reduction, fixing.lowerBound);
    const res = await this.engine.solve(model.lp, { timeLimitS: limit });
    if (dp !== undefined && res.status !== 'optimal') {
      const checked = await this.checkPlan(cp, cands, blocks, spec, bounds, dp, fixing.lowerBound);
      if (checked !== undefined) return { ...checked, reduction: { ...reduction, proof: 'programme+ilp-check' } };
    }
    this.progress(`${this.engine.name}: ${res.status} in ${Math.round(res.ms)} ms`);
    if (res.status === 'optimal' || res.status === 'feasible') {
      const a = model.decode(res.values);
      const why = assignmentProblem(cp, a);
      if (why !== null) throw new SolverError('SOLVER_ENGINE', `the ${this.engine.name} solution is not a valid plan (${why}); this is a bug`);
      const m = metricsOf(cp, a);
      if (res.status === 'optimal') {
        // GLPK's tolerances can leave its optimum a hair above the incumbent; keep the better one.
        const best = incumbent !== undefined && incumbent.value < objectiveValue(m, spec.minimize) ? incumbent : { a, m };
        return { status: 'optimal', assignment: best.a, metrics: best.m, reduction: { ...reduction, proof: 'ilp' } };
      }
      const better = incumbent !== undefined && incumbent.value < objectiveValue(m, spec.minimize) ? incumbent : { a, m };
      return { status: 'feasible', assignment: better.a, metrics: better.m, gap: await this.gapOf(model.lp, objectiveValue(better.m, spec.minimize), fixing.lowerBound), reduction };
    }
    if (res.timedOut || res.status === 'no-solution' && this.remainingS() <= 0) {
      return this.fallback(incumbent, reduction, fixing.lowerBound);
    }
    if (res.status === 'unbounded') throw new SolverError('SOLVER_ENGINE', 'the ILP is unbounded; this is a bug');
    // Infeasible. The incumbent met the same bounds, so that would be float trouble: keep it, unproven.
    if (incumbent !== undefined) return { status: 'feasible', assignment: incumbent.a, metrics: incumbent.m, gap: Number.NaN, reduction };
    return { status: 'infeasible', reduction };
  }

  /** The programme cache of a candidate set (a subset of cutSets(), in its order); a few are kept. */
  private programmeCache(cands: readonly Downset[]): ProgrammeCache {
    const index = (this.downsetIndex ??= new Map(this.cutSets().map((d, i) => [d, i])));
    const key = cands.map((d) => index.get(d)!).join(',');
    let cache = this.programmeCaches.get(key);
    if (cache !== undefined) this.programmeCaches.delete(key);
    else if (cands.length <= MAX_PAIR_CUT_SETS) cache = { key, sub: strictSubsets(this.cp, cands), runs: new Map(), cappedBest: new Map() };
    else cache = { key, sub: new Uint8Array(0), runs: new Map(), cappedBest: new Map() };
    this.programmeCaches.set(key, cache);
    if (this.programmeCaches.size > PROGRAMME_CACHES) this.programmeCaches.delete(this.programmeCaches.keys().next().value!);
    return cache;
  }

  /** The pipeline-aware bound of the (reduced) problem, cached per objective; undefined when it did not finish in its share of the time. */
  chainLowerBound(o: Objective): number | undefined {
    return this.chain(o).bound;
  }

  /** The plan the pipeline-aware bound reads off its cheapest relaxed chain, when there is one (a plan of the reduced problem). */
  chainPlan(o: Objective): Assignment | undefined {
    return this.chain(o).plan;
  }

  private chain(o: Objective): { bound?: number; plan?: Assignment } {
    let r = this.chainBounds.get(o);
    if (r === undefined) {
      // Usually a fraction of a second (bert_base on 8 mixed boards: 0.1 s); a quarter of the time at most.
      r = chainBoundAndPlan(this.cp, o, performance.now() + Math.min(3, this.remainingS() * 0.25) * 1000);
      this.chainBounds.set(o, r);
    }
    return r;
  }

  /** A lower bound on the minimised metric over every plan of the problem (cached per objective). */
  async lowerBound(o: Objective): Promise<number> {
    let lb = this.lowerBounds.get(o);
    if (lb === undefined) {
      // The LP itself only when the time limit leaves room (the dual ascent already gives most of it).
      const rem = this.remainingS();
      this.cutBytes ??= minCutBytes(this.cp, performance.now() + Math.min(2, rem * 0.1) * 1000);
      const chain = this.chainLowerBound(o) ?? 0;
      lb = Math.max(chain, await lowerBoundOf(this.cp, o, this.engine, rem > 10 ? Math.min(5, rem * 0.1) : 0, this.cutBytes, performance.now() + Math.min(2, rem * 0.1) * 1000));
      this.lowerBounds.set(o, lb);
    }
    return lb;
  }

  /**
   * The lower bound of latency or energy over the plans within `bounds`' latency and energy (the
   * problem's constraints; the period's is left out), raised by the labelling programmes
   * (_labelling.ts), which price every tensor moving between boards, within `seconds`, and the plans
   * they found; once per objective and limits (without limits, the bound is cached in lowerBound).
   * +Infinity: no plan is within the limits.
   */
  private async labelledBound(o: 'latency' | 'energy', seconds: number, bounds: MetricBounds): Promise<{ bound: number; plans: readonly Assignment[] }> {
    const lb = await this.lowerBound(o);
    const limits = { latencyMs: bounds.latencyMs, energyMj: bounds.energyMj };
    const key = `${o}|${limits.latencyMs}|${limits.energyMj}`;
    let r = this.labelled.get(key);
    if (r === undefined) {
      const got = await labellingBound(this.cp, o, this.engine, performance.now() + seconds * 1000, limits);
      r = { bound: Math.max(lb, got.bound), plans: got.plans };
      this.labelled.set(key, r);
      if (!Number.isFinite(limits.latencyMs) && !Number.isFinite(limits.energyMj)) this.lowerBounds.set(o, r.bound);
    }
    return r;
  }

  /**
   * The graph is too wide for the exact method: coarsen it until its cut sets fit, solve the coarse
   * problem exactly (within a share of the time), add the prefix-cut programme's plans, refine them
   * all on the full graph, and measure the best against a lower bound of the original problem.
   */
  private async optimizeWide(spec: CoreSpec): Promise<CoreResult> {
    const cp = this.cp;
    const budget = this.cutSetBudget();
    // The bound first, while most of the time is left (the coarse solve takes half of what remains).
    const chainPlan = this.chainPlan(spec.minimize);
    if (this.coarse === undefined) {
      const fixed = cp.problem.boardOrder === 'fixed';
      // A coarse problem the exact programmes solve in about a second.
      const work = Math.min(COARSE_WORK_MAX, COARSE_WORK_PER_S * this.remainingS());
      const affordable = fixed ? Math.sqrt(work / cp.m) : Math.sqrt(work / (2 ** cp.m * cp.m));
      const target = Math.min(budget, Math.max(16, Math.floor(affordable >= 64 ? affordable : 200)));
      const c = coarsen(cp, target, performance.now() + this.remainingS() * 400);
      this.progress(`coarsened ${cp.n} nodes into ${c.clusters} clusters with ${c.fits ? c.cutSets : `more than ${target}`} cut sets`);
      // Past the deadline the coarsening stops where it is: its graph still feeds the prefix-cut programme.
      const ctx = new SolveContext(coarseProblem(cp, c), { engine: this.engine, onProgress: (msg) => this.progress(`coarse: ${msg}`) }, { exactOnly: true, trustProgramme: true });
      this.coarse = { c, target, ctx };
    }
    const { c, ctx } = this.coarse;
    const candidates: WideCandidate[] = chainPlan === undefined ? [] : [{ a: chainPlan, method: 'bound-chain' }];
    const fromCoarse = (a: Assignment): Assignment => {
      const o = ctx.toOriginal(a);
      return { boards: o.boards, stageOf: Int32Array.from(c.groupOf, (k) => o.stageOf[k]!) };
    };
    if (c.fits && this.remainingS() > 0) {
      ctx.deadline = performance.now() + this.remainingS() * COARSE_SHARE * 1000;
      const r = await ctx.optimize(spec);
      if (r.assignment !== undefined) {
        const stageOf = Int32Array.from(c.groupOf, (k) => r.assignment!.stageOf[k]!);
        candidates.push({ a: { boards: r.assignment.boards, stageOf }, method: 'coarsened' });
      }
      this.progress(`${spec.minimize}: coarse problem ${r.status}`);
    }
    // The prefix-cut programme over the coarse graph (cheap), and over the full graph when its
    // n^2 m^2 steps per board sequence are affordable.
    const seq = cp.problem.boardOrder === 'fixed' ? 1 : cp.m <= 3 ? 6 : 7;
    const affordable = (n: number) => n * n * cp.m * cp.m * seq <= PREFIX_WORK;
    for (const a of ctx.seedPlans(spec.minimize)) candidates.push({ a: fromCoarse(a), method: 'prefix-dp' });
    if (affordable(cp.n) && this.remainingS() > 0) {
      for (const a of this.seedPlans(spec.minimize)) candidates.push({ a, method: 'prefix-dp' });
    }
    let lb = await this.lowerBound(spec.minimize);
    // Latency and energy keep a share of the time for the labelling bound, used when lb proves nothing.
    const labelS = spec.minimize === 'throughput' || !this.labelling ? 0 : Math.min(LABELLING_MAX_S, this.remainingS() * LABELLING_SHARE);
    const deadline = performance.now() + (this.remainingS() - labelS) * 1000 * 0.9;
    let r = pickRefined({ cp, minimize: spec.minimize, bounds: spec.bounds, deadline, candidates, lowerBound: lb });
    if (this.labelling && spec.minimize !== 'throughput' && (r.status === 'timeout' || (r.status === 'feasible' && !(r.gap! < LABELLING_MIN_GAP)))) {
      // Not proven: the labelling bound, and its plans beside the best so far, refined in the time left.
      const labelled = await this.labelledBound(spec.minimize, Math.max(labelS, Math.min(LABELLING_MAX_S, this.remainingS() * LABELLING_LATE_SHARE)), spec.bounds);
      if (labelled.bound === Number.POSITIVE_INFINITY) {
        // Proven: no plan within the bounds (how a front's last step ends); a plan found within them
        // says otherwise (GLPK's tolerances at the edge of a bound), and stands.
        if (r.status === 'timeout') r = { status: 'infeasible' };
      } else {
        lb = Math.max(lb, labelled.bound);
        const again: WideCandidate[] = labelled.plans.map((a) => ({ a, method: 'labelling' }));
        if (r.assignment !== undefined) again.unshift({ a: r.assignment, method: r.method as WideCandidate['method'] });
        r = pickRefined({ cp, minimize: spec.minimize, bounds: spec.bounds, deadline: performance.now() + this.remainingS() * 1000 * 0.9, candidates: again, lowerBound: lb });
      }
    }
    this.progress(`${spec.minimize}: ${r.status}${r.method === undefined ? '' : ` by ${r.method}`}${r.gap === undefined ? '' : `, gap ${(r.gap * 100).toFixed(2)} %`} against lower bound ${fmt(lb)}`);
    const reduction: ReductionStats = {
      nodes: cp.n, tensors: cp.tBytes.length, boards: cp.m, cutSets: this.countedCutSets, cutCandidates: 0, blocks: 0, columns: 0, binaries: 0, rows: 0,
      cutSetBudget: budget, coarseNodes: c.clusters, coarseCutSets: c.cutSets,
      ...(r.status === 'optimal' ? { proof: 'lower-bound' as const } : {}),
    };
    return {
      status: r.status, reduction, lowerBound: lb,
      ...(r.assignment === undefined ? {} : { assignment: r.assignment, metrics: r.metrics! }),
      ...(r.gap === undefined ? {} : { gap: r.gap }),
      ...(r.method === undefined ? {} : { method: r.method }),
    };
  }

  /**
   * GLPK on the model restricted to one plan's (cut set, board) pairs, with the programme's lower bound:
   * optimal there at the bound means the plan is feasible in the ILP and optimal overall.
   */
  private async checkPlan(cp: Compiled, cands: Downset[], blocks: number[][], spec: CoreSpec, bounds: MetricBounds, plan: Assignment, lowerBound: number | undefined): Promise<CoreResult | undefined> {
    const m = cp.m;
    const D = cands.length;
    const allowIn = new Uint8Array(D * m);
    const allowOut = new Uint8Array(D * m);
    plan.boards.forEach((b, s) => {
      let din = 0;
      let dout = D - 1;
      for (let d = 0; d < D; d++) {
        let isIn = true;
        let isOut = true;
        for (let v = 0; v < cp.n && (isIn || isOut); v++) {
          const st = plan.stageOf[v]!;
          if ((cands[d]!.has[v] === 1) !== st < s) isIn = false;
          if ((cands[d]!.has[v] === 1) !== st <= s) isOut = false;
        }
        if (isIn) din = d;
        if (isOut) dout = d;
      }
      allowIn[din * m + b] = 1;
      allowOut[dout * m + b] = 1;
    });
    const model = buildModel(cp, cands, blocks, {
      minimize: spec.minimize, bounds, allowIn, allowOut,
      ...(lowerBound === undefined ? {} : { lowerBound: lowerBound * (1 - SLACK) - 1e-9 }),
    });
    const res = await this.engine.solve(model.lp, { timeLimitS: Math.max(0.25, this.remainingS()) });
    this.progress(`${this.engine.name} check of the programme's plan: ${res.status} in ${Math.round(res.ms)} ms`);
    if (res.status !== 'optimal') return undefined;
    const a = model.decode(res.values);
    if (assignmentProblem(cp, a) !== null) return undefined;
    const metrics = metricsOf(cp, a);
    if (lowerBound !== undefined && objectiveValue(metrics, spec.minimize) > lowerBound * (1 + 1e-9) + 1e-9) return undefined;
    return { status: 'optimal', assignment: a, metrics, reduction: undefined as never };
  }

  /** No proof in time: the incumbent, unproven, with its gap to the programme's lower bound when known. */
  private fallback(incumbent: { a: Assignment; m: PlanMetrics; value: number } | undefined, reduction: ReductionStats, lowerBound: number | undefined): CoreResult {
    if (incumbent === undefined) return { status: 'timeout', reduction };
    const gap = lowerBound !== undefined && incumbent.value > 0 ? Math.max(0, (incumbent.value - lowerBound) / incumbent.value) : Number.NaN;
    return { status: 'feasible', assignment: incumbent.a, metrics: incumbent.m, gap, reduction };
  }

  /** Relative gap of a value against the better of the LP relaxation and the programme's lower bound. */
  private async gapOf(lp: Parameters<Solver['solve']>[0], value: number, lowerBound: number | undefined): Promise<number> {
    const r = await this.engine.solve(lp, { relax: true, timeLimitS: Math.min(10, Math.max(0.25, this.remainingS())) });
    const lb = Math.max(r.status === 'optimal' ? r.objective : Number.NEGATIVE_INFINITY, lowerBound ?? Number.NEGATIVE_INFINITY);
    if (!Number.isFinite(lb) || value <= 0) return Number.NaN;
    return Math.max(0, (value - lb) / value);
  }
}

/** Seconds the tie-breaking second solve may take (GLPK's share; the programmes run to the end). */
const TIE_BREAK_BUDGET_S = 3;
/** Slack a lexicographic step allows the first objective (relative). */
export const LEX_SLACK = 1e-9;

/** Bounds tightened so that objective `o` is at most `value` (throughput as a period in ms). */
export function withBound(b: MetricBounds, o: Objective, value: number): MetricBounds {
  if (o === 'throughput') return { ...b, periodMs: Math.min(b.periodMs, value) };
  if (o === 'latency') return { ...b, latencyMs: Math.min(b.latencyMs, value) };
  return { ...b, energyMj: Math.min(b.energyMj, value) };
}

/** Exact optimum of a problem for its objective (or `options.objective`), with baselines beside it. */
export async function solve(problem: Problem, options: SolveOptions = {}): Promise<Plan> {
  checkOptions(options);
  const t0 = performance.now();
  const objective = options.objective ?? problem.objective;
  // Problems built in code (not read through parseProblem) are checked here too: a bad one is an error, never a wrong plan.
  const ctx = new SolveContext(parseProblem(problem), options);
  const baselines = baselinesOf(ctx.original);
  const done = (p: Omit<Plan, 'solveMs' | 'baselines' | 'objective' | 'engine'>): Plan => ({
    ...p, objective, solveMs: performance.now() - t0, baselines, engine: ctx.engine.name,
  });
  const structural = structuralReason(ctx.original);
  if (structural !== null) return done({ status: 'infeasible', reason: structural });
  const bounds = boundsOf(problem.constraints);
  let res = await ctx.optimize({ minimize: objective, bounds });
  // The tie-break needs the exact method; a plan of the coarsened path is optimal only when it meets the lower bound.
  if (objective === 'throughput' && res.status === 'optimal' && res.metrics !== undefined && res.method === undefined && ctx.remainingS() > 0.5) {
    // Throughput ties are common (the period is one stage's time; zero-cost nodes can sit on either
    // side of a cut): among the optimal plans take the least energy, so the chosen plan is also the
    // end point of the throughput-energy front. Latency and energy are sums and rarely tie, and a
    // second solve bounded on them costs far more (GoogLeNet, 8 boards: 4 s -> 35-55 s), so they keep
    // the first optimum. Best effort: a tie-break not proven in time keeps the first optimum too.
    const period = objectiveValue(res.metrics, objective);
    const tie = await ctx.within(TIE_BREAK_BUDGET_S, () =>
      ctx.optimize({ minimize: 'energy', bounds: withBound(bounds, objective, period * (1 + LEX_SLACK) + 1e-12) }));
    if (tie.status === 'optimal' && tie.metrics !== undefined) res = { ...res, metrics: tie.metrics };
  }
  if (res.status === 'infeasible') {
    return done({ status: 'infeasible', reason: await explainInfeasible(ctx, problem.constraints), reduction: res.reduction });
  }
  // Unproven: measure against the lower bound of the original problem too (the better bound wins).
  let lowerBound = res.lowerBound;
  if (res.status !== 'optimal') {
    const lb = await ctx.lowerBound(objective);
    lowerBound = Math.max(lowerBound ?? lb, lb);
    // A plan at the bound is optimal, whichever method found it.
    if (res.status === 'feasible' && res.metrics !== undefined && objectiveValue(res.metrics, objective) <= lowerBound * (1 + 1e-9) + 1e-12) {
      res = { ...res, status: 'optimal', reduction: { ...res.reduction, proof: 'lower-bound' } };
    }
  }
  const method: SolveMethod = res.method ?? 'exact';
  const bestBase = bestBaseline(baselines, objective);
  // (An optimum proven by the exact method is never beaten by more than float noise, so it stays.)
  if (bestBase !== undefined && res.status !== 'optimal' && (res.metrics === undefined || objectiveValue(bestBase, objective) < objectiveValue(res.metrics, objective) * (1 - 1e-12))) {
    // The search ended worse than a plan it prints beside its own: return that plan instead.
    const { name: _n, kind: _k, meetsConstraints: _c, violations: _v, ...metrics } = bestBase;
    const value = objectiveValue(metrics, objective);
    const proven = lowerBound !== undefined && value <= lowerBound * (1 + 1e-9) + 1e-12;
    return done({
      status: proven ? 'optimal' : 'feasible', ...metrics, method: 'baseline', reduction: res.reduction,
      ...(lowerBound === undefined ? {} : { lowerBound }),
      ...(proven || lowerBound === undefined ? {} : { gap: gapOf(value, lowerBound), reason: `the search found nothing better than the baseline ${bestBase.name}; not proven optimal` }),
    });
  }
  if (res.status === 'timeout') {
    return done({
      status: 'timeout', reduction: res.reduction, method, ...(lowerBound === undefined ? {} : { lowerBound }),
      reason: method === 'exact' ? `no plan found within ${options.timeLimitS ?? 120} s` : `no plan within the constraints found by the coarsened search within ${options.timeLimitS ?? 120} s`,
    });
  }
  let gap = res.gap;
  if (res.status === 'feasible' && lowerBound !== undefined && res.metrics !== undefined) {
    const g = gapOf(objectiveValue(res.metrics, objective), lowerBound);
    if (gap === undefined || Number.isNaN(gap) || g < gap) gap = g;
  }
  return done({
    status: res.status,
    ...res.metrics!,
    method,
    ...(lowerBound === undefined ? {} : { lowerBound }),
    // An unknown gap (no bound finished in time) is left out rather than reported as NaN.
    ...(res.status === 'feasible' ? {
      ...(gap === undefined || Number.isNaN(gap) ? {} : { gap }),
      reason: method === 'exact' ? 'stopped at the time limit before optimality was proven' : `the graph is too wide for the exact method (over ${res.reduction.cutSetBudget ?? MAX_CUT_SETS} cut sets): plan from the ${method} search, not proven optimal`,
    } : {}),
    reduction: res.reduction,
  });
}

/** The best baseline that meets the constraints, by the objective. */
function bestBaseline(baselines: readonly Baseline[], objective: Objective): Baseline | undefined {
  let best: Baseline | undefined;
  for (const b of baselines) {
    if (b.meetsConstraints === false) continue;
    if (best === undefined || objectiveValue(b, objective) < objectiveValue(best, objective)) best = b;
  }
  return best;
}

export function checkOptions(options: SolveOptions): void {
  if (options.objective !== undefined && !OBJECTIVES.includes(options.objective)) {
    throw new SolverError('SOLVER_BAD_OPTION', `objective: must be one of ${OBJECTIVES.join(', ')}, got ${JSON.stringify(options.objective)}`);
  }
  const t = options.timeLimitS;
  if (t !== undefined && (typeof t !== 'number' || !Number.isFinite(t) || t <= 0)) {
    throw new SolverError('SOLVER_BAD_OPTION', `timeLimitS: must be a finite number of seconds > 0, got ${String(t)}`);
  }
  const c = options.maxCutSets;
  if (c !== undefined && (typeof c !== 'number' || !Number.isInteger(c) || c < 2)) {
    throw new SolverError('SOLVER_BAD_OPTION', `maxCutSets: must be an integer >= 2 (the empty and the full set), got ${String(c)}`);
  }
}

/** The problem's constraints as upper bounds (throughput as a period in ms). */
export function boundsOf(c: Constraints | undefined): MetricBounds {
  const inf = Number.POSITIVE_INFINITY;
  return {
    periodMs: c?.minThroughputFps !== undefined && c.minThroughputFps > 0 ? 1000 / c.minThroughputFps : inf,
    latencyMs: c?.maxLatencyMs ?? inf,
    energyMj: c?.maxEnergyMj ?? inf,
  };
}

/** The first bound a plan breaks (beyond 1e-9 relative), and by how much. */
function excess(m: PlanMetrics, b: MetricBounds): { metric: keyof MetricBounds; by: number } | null {
  const checks: [keyof MetricBounds, number][] = [['periodMs', objectiveValue(m, 'throughput')], ['latencyMs', m.latencyMs], ['energyMj', m.energyMj]];
  for (const [k, v] of checks) {
    const bound = b[k];
    if (v > bound * (1 + 1e-9) + 1e-12) return { metric: k, by: v - bound };
  }
  return null;
}

function withinBounds(m: PlanMetrics, b: MetricBounds): boolean {
  return excess(m, b) === null;
}

/** Bounds with the incumbent's value as a cutoff on the minimised metric. */
function tightened(spec: CoreSpec, incumbent: number | undefined): MetricBounds {
  if (incumbent === undefined) return spec.bounds;
  const cut = incumbent * (1 + SLACK) + 1e-9;
  const b = spec.bounds;
  if (spec.minimize === 'throughput') return { ...b, periodMs: Math.min(b.periodMs, cut) };
  if (spec.minimize === 'latency') return { ...b, latencyMs: Math.min(b.latencyMs, cut) };
  return { ...b, energyMj: Math.min(b.energyMj, cut) };
}

/**
 * Keep the cut sets that can separate two stages of a plan within the bounds: a cut between stages
 * costs at least its cheapest transfer, on top of the cheapest possible compute for every node.
 */
function prune(cp: Compiled, all: readonly Downset[], b: MetricBounds): Downset[] {
  let lbLat = 0;
  let lbEn = 0;
  for (let v = 0; v < cp.n; v++) {
    let l = Number.POSITIVE_INFINITY;
    let e = Number.POSITIVE_INFINITY;
    for (let x = 0; x < cp.m; x++) {
      if (Number.isNaN(cp.lat[x]![v]!)) continue;
      l = Math.min(l, cp.lat[x]![v]!);
      e = Math.min(e, cp.energy[x]![v]!);
    }
    lbLat += l;
    lbEn += e;
  }
  const within = (v: number, bound: number) => v <= bound * (1 + SLACK) + 1e-9;
  const last = all.length - 1;
  return all.filter((d, i) => {
    if (i === 0 || i === last) return true;
    const t = cheapestTransfer(cp, d.cutBytes);
    return within(t.ms, b.periodMs) && within(lbLat + t.ms, b.latencyMs) && within(lbEn + t.mj, b.energyMj);
  });
}

/**
 * What the programmes computed on one set of cut candidates, kept across the optimisations of a solve
 * (the steps of a Pareto front mostly prune to the same candidates): strict-subset table, period
 * candidates, runs by (metric, cap, lambda), and the capped runs' best values by period index.
 */
interface ProgrammeCache {
  readonly key: string;
  readonly sub: Uint8Array;
  values?: Float64Array;
  readonly runs: Map<string, PairValues>;
  readonly cappedBest: Map<Objective, Map<number, number>>;
}

/** The deadline of a fixPairs call, and the measured cost of programme work (updated by its runs). */
interface ProgrammeClock {
  readonly deadline: number;
  msPerWork: number;
}

interface Fixing {
  readonly cands: Downset[];
  readonly allowIn?: Uint8Array;
  readonly allowOut?: Uint8Array;
  readonly infeasible: boolean;
  /** A proven lower bound on the minimised metric (the programme's optimum without the other bounds). */
  readonly lowerBound?: number;
  /** An optimal plan from the programme when it is exact for this optimisation (see fixPairs). */
  readonly dpPlan?: Assignment;
}

/**
 * Drop (cut set, board) pairs that no plan within the bounds can use, per bounded metric, then the
 * cut sets no board can use. Exact: see _bounds.ts.
 */
function fixPairs(cp: Compiled, cands: Downset[], b: MetricBounds, minimize: Objective, clock: ProgrammeClock, cache: ProgrammeCache): Fixing {
  if (cands.length > MAX_PAIR_CUT_SETS) return { cands, infeasible: false };
  const m = cp.m;
  const D = cands.length;
  const work = 2 ** m * m * D * D;
  const exactFree = cp.problem.boardOrder === 'free' && work <= MAX_SUBSET_WORK;
  // A programme run cannot be interrupted: none is started that would end past the deadline (its
  // time estimated from the runs so far); then no fixing (the caller falls back on its incumbent).
  const runWork = exactFree ? work : m * m * D * D;
  const late = () => performance.now() + clock.msPerWork * runWork > clock.deadline;
  if (late()) return { cands, infeasible: false };
  const sub = cache.sub;
  const allowIn = new Uint8Array(D * m).fill(1);
  const allowOut = new Uint8Array(D * m).fill(1);
  // Both programmes are exact for one metric (fixed order; free order over sets of used boards),
  // also under a period cap: then they give the best value among plans within the throughput bound.
  const exact = cp.problem.boardOrder === 'fixed' || exactFree;
  // Runs are deterministic: one with the same arguments on the same cut sets (the bisection's last
  // step, the fixing loop, the next step of a Pareto front) is reused.
  const runs = cache.runs;
  const programme = (metric: Objective, capMs: number, lambda = 0): PairValues => {
    const key = `${metric} ${capMs} ${lambda}`;
    let pv = runs.get(key);
    if (pv === undefined) {
      const t0 = performance.now();
      pv = exactFree ? pairValuesFree(cp, cands, sub, metric, capMs, lambda) : pairValues(cp, cands, sub, metric, capMs, lambda);
      clock.msPerWork = (performance.now() - t0) / runWork;
      if (runs.size >= MAX_CACHED_RUNS) runs.clear();
      runs.set(key, pv);
    }
    return pv;
  };
  const limitOf = (metric: Objective) => (metric === 'throughput' ? b.periodMs : metric === 'latency' ? b.latencyMs : b.energyMj);
  const within = (limit: number) => limit * (1 + SLACK) + 1e-9;
  // Bounded metrics besides the minimised one and the period.
  const others = (['latency', 'energy'] as const).filter((x) => x !== minimize && Number.isFinite(limitOf(x)));
  let lowerBound: number | undefined;
  let dpPlan: Assignment | undefined;
  // Tightest known value of the minimised metric (its bound, or the exact optimum when known).
  let cutMin = within(limitOf(minimize));
  // The period every plan within the bounds keeps; caps the programmes of the other metrics.
  let periodCap = within(b.periodMs);
  if (exact && others.length === 0) {
    if (late()) return { cands, infeasible: false };
    // One programme run gives the exact optimum (latency/energy under the period bound, or the period).
    const pv = programme(minimize, minimize === 'throughput' ? Number.POSITIVE_INFINITY : periodCap);
    if (pv.best > cutMin) return { cands, infeasible: true };
    if (Number.isFinite(pv.best)) {
      lowerBound = pv.best;
      cutMin = Math.min(cutMin, within(pv.best));
      if (pv.plan !== undefined) dpPlan = planOf(cp, cands, pv.plan);
    }
  } else if (exact && minimize === 'throughput' && others.length === 1 && (exactFree ? work : D * D * m) * 24 <= MAX_SUBSET_WORK * 4) {
    // Smallest period P whose capped programme still meets the other bound: bisection over every
    // time a stage or transfer can take. Exact: a plan's period is one of them.
    const other = others[0]!;
    const bound = within(limitOf(other));
    const values = (cache.values ??= periodCandidates(cp, cands, sub));
    let lo = 0;
    let hi = values.length - 1;
    while (hi >= 0 && values[hi]! > periodCap) hi--;
    let known = cache.cappedBest.get(other);
    if (known === undefined) cache.cappedBest.set(other, (known = new Map()));
    const feasible = (i: number) => {
      const best = programme(other, values[i]!).best;
      known!.set(i, best);
      return best <= bound;
    };
    if (hi < 0 || !feasible(hi)) return { cands, infeasible: true };
    // The best value of the other metric only falls as the period cap rises: the runs of earlier
    // optimisations on these cut sets (the steps of a Pareto front) narrow the bisection for free.
    for (const [i, best] of known) {
      if (i > hi) continue;
      if (best <= bound) hi = i;
      else lo = Math.max(lo, i + 1);
    }
    lo = Math.min(lo, hi);
    while (lo < hi) {
      if (late()) return { cands, infeasible: false };
      const mid = (lo + hi) >> 1;
      if (feasible(mid)) hi = mid;
      else lo = mid + 1;
    }
    const pStar = values[lo]!;
    const pv = programme(other, pStar);
    lowerBound = pStar;
    cutMin = Math.min(cutMin, within(pStar));
    periodCap = Math.min(periodCap, pStar * (1 + SLACK) + 1e-9);
    if (pv.plan !== undefined) dpPlan = planOf(cp, cands, pv.plan);
  }
  let lagrange: { lambda: number; offset: number } | undefined;
  if (exact && minimize !== 'throughput' && others.length === 1 && (exactFree ? work : D * D * m) * 40 <= MAX_SUBSET_WORK * 4) {
    // Two bounded sums: min A s.t. B <= bound. For any lambda >= 0 the programme over A + lambda B gives
    // best(lambda) - lambda bound <= the optimum (Lagrangian bound); its plans that meet the bound are
    // incumbents. Bisection on lambda by the sign of the subgradient B(plan) - bound.
    const other = others[0]!;
    const bound = limitOf(other);
    // The other sum's own floor first: below it nothing is feasible (the last step of every Pareto
    // front), which the Lagrangian search would only find after some 60 runs.
    if (programme(other, periodCap).best > within(bound)) return { cands, infeasible: true };
    if (late()) return { cands, infeasible: false };
    let bestLb = Number.NEGATIVE_INFINITY;
    const run = (lambda: number) => {
      const pv = programme(minimize, periodCap, lambda);
      if (pv.plan === undefined || !Number.isFinite(pv.best)) return undefined;
      const plan = planOf(cp, cands, pv.plan);
      const mt = metricsOf(cp, plan);
      const lb = pv.best - lambda * bound;
      if (lb > bestLb) {
        bestLb = lb;
        lagrange = { lambda, offset: lambda * bound };
      }
      if (objectiveValue(mt, other) <= within(bound)) cutMin = Math.min(cutMin, within(objectiveValue(mt, minimize)));
      return objectiveValue(mt, other);
    };
    const at0 = run(0);
    if (at0 === undefined) return { cands, infeasible: true };
    if (at0 > within(bound)) {
      let hi = 1e-6;
      let e = run(hi);
      for (let k = 0; k < 40 && e !== undefined && e > within(bound) && !late(); k++) e = run((hi *= 4));
      let lo = 0;
      for (let k = 0; k < 16 && e !== undefined && !late(); k++) {
        const mid = (lo + hi) / 2;
        const em = run(mid);
        if (em === undefined) break;
        if (em > within(bound)) lo = mid;
        else hi = mid;
      }
    }
    if (bestLb > cutMin) return { cands, infeasible: true };
    if (Number.isFinite(bestLb)) lowerBound = Math.max(lowerBound ?? Number.NEGATIVE_INFINITY, bestLb);
  }
  if (late()) return { cands, infeasible: false };
  if (minimize === 'throughput') periodCap = Math.min(periodCap, cutMin);
  const metrics: Objective[] = [...new Set<Objective>([minimize, ...(Number.isFinite(b.periodMs) ? ['throughput' as const] : []), ...others])];
  for (const metric of metrics) {
    if (late()) return { cands, infeasible: false };
    const pv = programme(metric, metric === 'throughput' ? Number.POSITIVE_INFINITY : periodCap);
    if (metric === minimize && lowerBound === undefined && Number.isFinite(pv.best)) lowerBound = pv.best;
    const cut = metric === minimize ? cutMin : within(limitOf(metric));
    if (pv.best > cut) return { cands, infeasible: true };
    for (let k = 0; k < D * m; k++) {
      if (pv.in[k]! > cut) allowIn[k] = 0;
      if (pv.out[k]! > cut) allowOut[k] = 0;
    }
  }
  if (lagrange !== undefined && lagrange.lambda > 0) {
    // A plan through a pair within the other bound has A >= (its mixed value) - lambda x bound.
    const pv = programme(minimize, periodCap, lagrange.lambda);
    for (let k = 0; k < D * m; k++) {
      if (pv.in[k]! - lagrange.offset > cutMin) allowIn[k] = 0;
      if (pv.out[k]! - lagrange.offset > cutMin) allowOut[k] = 0;
    }
  }
  const keep: number[] = [];
  for (let d = 0; d < D; d++) {
    let any = d === 0 || d === D - 1;
    for (let x = 0; x < m && !any; x++) any = allowIn[d * m + x] === 1 || allowOut[d * m + x] === 1;
    if (any) keep.push(d);
  }
  const inK = new Uint8Array(keep.length * m);
  const outK = new Uint8Array(keep.length * m);
  keep.forEach((d, i) => {
    for (let x = 0; x < m; x++) {
      inK[i * m + x] = allowIn[d * m + x]!;
      outK[i * m + x] = allowOut[d * m + x]!;
    }
  });
  return { cands: keep.map((d) => cands[d]!), allowIn: inK, allowOut: outK, infeasible: false, ...(lowerBound === undefined ? {} : { lowerBound }), ...(dpPlan === undefined ? {} : { dpPlan }) };
}

/** Stages given as (board, in-cut, out-cut) candidates, as an assignment of nodes. */
function planOf(cp: Compiled, cands: readonly Downset[], stages: readonly { board: number; from: number; to: number }[]): Assignment {
  const stageOf = new Int32Array(cp.n).fill(-1);
  stages.forEach((st, s) => {
    const a = cands[st.from]!;
    const b = cands[st.to]!;
    for (let v = 0; v < cp.n; v++) if (b.has[v] === 1 && a.has[v] === 0) stageOf[v] = s;
  });
  return { boards: stages.map((st) => st.board), stageOf };
}

/** Board sequences for the prefix-cut programme: the order itself when fixed, else all or a few orders. */
function boardSequences(cp: Compiled): number[][] {
  const ids = Array.from({ length: cp.m }, (_, b) => b);
  if (cp.problem.boardOrder === 'fixed') return [ids];
  if (cp.m <= 3) return permutations(ids);
  const total = (b: number) => { let s = 0; for (let v = 0; v < cp.n; v++) s += Number.isNaN(cp.lat[b]![v]!) ? 1e9 : cp.lat[b]![v]!; return s; };
  const fast = [...ids].sort((a, b) => total(a) - total(b));
  const inputFirst = (s: number[]) => [cp.input, ...s.filter((b) => b !== cp.input)];
  return [ids, [...ids].reverse(), fast, [...fast].reverse(), inputFirst(ids), inputFirst(fast), inputFirst([...fast].reverse())];
}

function permutations(xs: number[]): number[][] {
  if (xs.length <= 1) return [xs];
  const out: number[][] = [];
  xs.forEach((x, i) => {
    for (const rest of permutations([...xs.slice(0, i), ...xs.slice(i + 1)])) out.push([x, ...rest]);
  });
  return out;
}

/** Causes of infeasibility that one look at a node or a board reveals. */
export function structuralReason(cp: Compiled): string | null {
  // Boards that can hold a stage: the input board and what links reach from it (in order when fixed).
  const reach = new Uint8Array(cp.m);
  const queue: number[] = [cp.input];
  reach[cp.input] = 1;
  for (let b = 0; b < cp.m; b++) {
    if (b !== cp.input && cp.links[cp.input]![b] !== undefined && reach[b] === 0) { reach[b] = 1; queue.push(b); }
  }
  if (cp.problem.boardOrder === 'free') {
    while (queue.length > 0) {
      const a = queue.pop()!;
      for (let b = 0; b < cp.m; b++) if (reach[b] === 0 && cp.links[a]![b] !== undefined) { reach[b] = 1; queue.push(b); }
    }
  } else {
    for (let a = 0; a < cp.m; a++) {
      if (reach[a] === 0) continue;
      for (let b = a + 1; b < cp.m; b++) if (cp.links[a]![b] !== undefined) reach[b] = 1;
    }
  }
  for (let v = 0; v < cp.n; v++) {
    const id = cp.nodeIds[v]!;
    const able: number[] = [];
    for (let b = 0; b < cp.m; b++) if (!Number.isNaN(cp.lat[b]![v]!)) able.push(b);
    if (able.length === 0) return `no board can run node "${id}"`;
    const needs = cp.mem[v]! + cp.act[v]!;
    const roomy = able.filter((b) => cp.cap[b] === null || needs <= cp.cap[b]!);
    if (roomy.length === 0) {
      const largest = Math.max(...able.map((b) => cp.cap[b]!));
      const parts = cp.act[v]! > 0 ? `: ${cp.mem[v]} of its own and ${cp.act[v]} alive while it runs` : '';
      return `no board has room for node "${id}" (needs ${needs} bytes${parts}, largest cap ${largest})`;
    }
    if (!roomy.some((b) => reach[b] === 1)) {
      const b = roomy[0]!;
      return `node "${id}" can run only on boards the input cannot reach (no link from "${cp.boardIds[cp.input]}" to "${cp.boardIds[b]}")`;
    }
  }
  return null;
}

/** Why no plan exists: relax one thing at a time and report what cannot be reached. */
async function explainInfeasible(ctx: SolveContext, c: Constraints | undefined): Promise<string> {
  const inf = Number.POSITIVE_INFINITY;
  const free: MetricBounds = { periodMs: inf, latencyMs: inf, energyMj: inf };
  const hasConstraints = c !== undefined && (c.maxLatencyMs !== undefined || c.maxEnergyMj !== undefined || (c.minThroughputFps ?? 0) > 0);
  if (hasConstraints) {
    const parts: string[] = [];
    const reach: string[] = [];
    if ((c.minThroughputFps ?? 0) > 0) {
      const r = await ctx.optimize({ minimize: 'throughput', bounds: free });
      if (r.metrics === undefined) return structuralOrGeneric(ctx);
      const fps = r.metrics.throughputFps;
      const proven = r.status === 'optimal' ? '' : ' (not proven optimal)';
      if (fps < c.minThroughputFps! * (1 - 1e-7)) parts.push(`the best reachable throughput is ${fmt(fps)} FPS${proven} against the required ${c.minThroughputFps}`);
      else reach.push(`throughput ${fmt(fps)} FPS`);
    }
    if (c.maxLatencyMs !== undefined) {
      const r = await ctx.optimize({ minimize: 'latency', bounds: free });
      if (r.metrics === undefined) return structuralOrGeneric(ctx);
      const v = r.metrics.latencyMs;
      if (v > c.maxLatencyMs * (1 + 1e-7)) parts.push(`the lowest reachable latency is ${fmt(v)} ms against the maximum ${c.maxLatencyMs}`);
      else reach.push(`latency ${fmt(v)} ms`);
    }
    if (c.maxEnergyMj !== undefined) {
      const r = await ctx.optimize({ minimize: 'energy', bounds: free });
      if (r.metrics === undefined) return structuralOrGeneric(ctx);
      const v = r.metrics.energyMj;
      if (v > c.maxEnergyMj * (1 + 1e-7)) parts.push(`the lowest reachable energy is ${fmt(v)} mJ against the maximum ${c.maxEnergyMj}`);
      else reach.push(`energy ${fmt(v)} mJ`);
    }
    if (parts.length > 0) return parts.join('; ');
    return `the constraints cannot be met together, though each alone can (best ${reach.join(', best ')})`;
  }
  return structuralOrGeneric(ctx);
}

function structuralOrGeneric(ctx: SolveContext): string {
  const cp = ctx.cp;
  const capped = cp.cap.some((x) => x !== null);
  return capped
    ? 'no plan fits the memory caps with the available links and the nodes each board can run'
    : 'no plan exists with the available links and the nodes each board can run';
}

