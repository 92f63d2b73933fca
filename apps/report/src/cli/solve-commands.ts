// dnnpart solve: a problem file or a system file in, the optimal plan or a Pareto front out.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseProblem, solve as solveProblem, solvePareto, type Objective, type ParetoResult, type Plan, type Problem } from '@dnnpart/solver';
import { buildProblem, type ReportParts } from '../system/build.js';
import { loadSystem } from '../system/load.js';
import { resolveSystem, type ResolveEvent } from '../system/resolve.js';
import { fixed, si, table } from './_format.js';
import { systemTransfer, type PlanModel, type PlanTransfer } from './_plan-file.js';
import { displayPath, resolvePath, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';

const objectiveNames: readonly Objective[] = ['throughput', 'latency', 'energy'];

/** Read and validate a problem file. */
export function readProblemFile(file: string, display: string): Problem {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError('CLI_FILE_NOT_FOUND', `${display}: problem file not found`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError('CLI_BAD_VALUE', `${display}: not JSON (${(e as Error).message})`);
  }
  return parseProblem(json, display);
}

/** Turn resolver events into progress lines and bars. */
export function resolveProgress(ctx: CommandContext): (e: ResolveEvent) => void {
  return (e) => {
    if (e.kind === 'phase') ctx.progress.note(e.message);
    else if (e.kind === 'warning') ctx.progress.note(`warning: ${e.message}`);
    else if (e.kind === 'written') ctx.progress.note(`profile of ${e.board} written to ${displayPath(ctx, e.file)}`);
    else ctx.progress.update(`${e.board}: ${e.phase}`, e.done, e.total);
  };
}

export interface ProblemSource {
  readonly problem?: string;
  readonly system?: string;
}

/** Load the problem a command was pointed at (a problem file, or a system file built here). */
export async function loadProblem(src: ProblemSource, ctx: CommandContext, workDir?: string): Promise<{ problem: Problem; parts?: ReportParts; model?: PlanModel; transfer?: PlanTransfer }> {
  if (src.problem && src.system) throw new UsageError('CLI_CONFLICTING_FLAGS', 'give --problem or --system, not both');
  if (src.problem) return { problem: readProblemFile(resolvePath(ctx, src.problem), src.problem) };
  if (!src.system) throw new UsageError('CLI_MISSING_ARGUMENT', 'give --problem <p.json> or --system <system.yaml>');
  const spec = loadSystem(resolvePath(ctx, src.system), src.system);
  const dir = workDir ?? (await mkdtemp(path.join(os.tmpdir(), 'dnnpart-')));
  try {
    const resolved = await resolveSystem(spec, { workDir: dir, onProgress: resolveProgress(ctx), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const built = buildProblem(resolved);
    for (const w of built.warnings) ctx.progress.note(`warning: ${w}`);
    // The model file and the input shapes the plans are for: split, verify and run check them.
    const g = resolved.graph;
    const model: PlanModel = { name: g.name, sha256: resolved.modelSha256, inputs: Object.fromEntries(g.inputs.map((x) => [x, [...g.tensors.get(x)!.shape]])) };
    // How its tensors travel, when encoded: dnnpart run sends them so.
    const transfer = systemTransfer(spec);
    return { ...built, model, ...(transfer ? { transfer } : {}) };
  } finally {
    if (!workDir) await rm(dir, { recursive: true, force: true });
  }
}

export interface SolveOptions extends ProblemSource {
  readonly objective?: Objective;
  /** Two objectives: every non-dominated plan. */
  readonly pareto?: readonly string[];
  readonly timeLimitS?: number;
}

/** `dnnpart solve`: the optimal plan (or the Pareto front) of a problem or system. */
export async function solve(opts: SolveOptions, ctx: CommandContext): Promise<CommandOutput<(Plan & { readonly model?: PlanModel; readonly transfer?: PlanTransfer }) | ParetoResult>> {
  let pair: [Objective, Objective] | undefined;
  if (opts.pareto && opts.pareto.length > 0) {
    const [a, b, ...rest] = opts.pareto;
    const ok = (o: string | undefined): o is Objective => objectiveNames.includes(o as Objective);
    if (!ok(a) || !ok(b) || rest.length > 0 || a === b) {
      throw new UsageError('CLI_BAD_VALUE', `--pareto takes two different objectives of throughput, latency, energy, e.g. throughput,energy; got "${opts.pareto.join(',')}"`);
    }
    pair = [a, b];
  }
  const { problem, model, transfer } = await loadProblem(opts, ctx);
  const objective = opts.objective ?? problem.objective;
  const limit = opts.timeLimitS !== undefined ? { timeLimitS: opts.timeLimitS } : {};
  ctx.progress.note(`solving ${problem.name ?? 'problem'}: ${problem.nodes.length} nodes, ${problem.boards.length} boards, ${pair ? `Pareto front ${pair.join(' vs ')}` : objective}`);
  if (pair) {
    const front = await solvePareto(problem, pair, limit);
    return { data: front, text: formatFront(front) };
  }
  const plan = await solveProblem(problem, { objective, ...limit });
  return { data: { ...plan, ...(model ? { model } : {}), ...(transfer ? { transfer } : {}) }, text: formatPlan(plan, problem) };
}

/** A stage's layers as a count and index ranges in the problem's node order ("58: 0..57"). */
function layerSpan(nodes: readonly string[], order?: ReadonlyMap<string, number>): string {
  if (!order) return String(nodes.length);
  const idx = nodes.map((n) => order.get(n) ?? -1).sort((a, b) => a - b);
  const ranges: string[] = [];
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1] === idx[j]! + 1) j++;
    ranges.push(i === j ? `${idx[i]}` : `${idx[i]}..${idx[j]}`);
    i = j + 1;
  }
  return `${nodes.length}: ${ranges.length > 3 ? [...ranges.slice(0, 3), '…'].join(', ') : ranges.join(', ')}`;
}

/** A plan for people: metrics, stages (layers as indices in `problem`'s node order), transfers, and the baselines. */
export function formatPlan(plan: Plan, problem?: Problem): string {
  const order = problem ? new Map(problem.nodes.map((n, i) => [n.id, i])) : undefined;
  // How the plan was found, when not by the exact method (a coarsened graph, the prefix-cut programme, a baseline).
  const how = plan.method !== undefined && plan.method !== 'exact' ? ` by ${plan.method}` : '';
  const head = `${plan.status} ${plan.objective} plan${how} in ${fixed(plan.solveMs, 0)} ms` + (plan.gap !== undefined ? ` (gap ${(plan.gap * 100).toFixed(2)}%)` : '');
  if (plan.stages === undefined) return [head, plan.reason ? `why: ${plan.reason}` : ''].filter(Boolean).join('\n');
  const frames = plan.stages.some((s) => s.framesBytes !== undefined);
  const lines = [
    head,
    `throughput ${fixed(plan.throughputFps)} FPS, latency ${fixed(plan.latencyMs)} ms, energy ${fixed(plan.energyMj)} mJ, bottleneck ${plan.bottleneck ?? '—'}`,
    '',
    table(
      // compute = kernels + boundary (a stage's fixed cost and the copies of its inputs and outputs);
      // memory = weights and activations + the frames in flight its board's agent holds.
      ['stage', 'board', 'layers', 'compute ms', 'kernels', 'boundary', 'energy mJ', 'memory', ...(frames ? ['of it frames'] : [])],
      plan.stages.map((s, i) => [
        String(i), s.board, layerSpan(s.nodes, order), fixed(s.computeMs),
        s.kernelMs === undefined ? '—' : fixed(s.kernelMs), s.boundaryMs === undefined ? '—' : fixed(s.boundaryMs, 3),
        fixed(s.energyMj), `${si(s.memoryBytes, 'B')}`, ...(frames ? [s.framesBytes === undefined ? '—' : si(s.framesBytes, 'B')] : []),
      ]),
    ),
  ];
  if (plan.transfers && plan.transfers.length > 0) {
    lines.push('', table(['transfer', 'bytes', 'ms', 'energy mJ'], plan.transfers.map((t) => [`${t.from} -> ${t.to}`, si(t.bytes, 'B'), fixed(t.ms, 3), fixed(t.energyMj, 3)])));
  }
  if (plan.baselines.length > 0) {
    lines.push('', 'baselines:', formatBaselines(plan));
  }
  if (plan.reason) lines.push(`note: ${plan.reason}`);
  return lines.join('\n');
}

/** The baselines of a plan as a table, with the plan's gain over each. */
export function formatBaselines(plan: Plan): string {
  return table(
    ['plan', 'FPS', 'latency ms', 'energy mJ', 'bottleneck'],
    [
      [plan.status === 'optimal' ? 'optimum' : 'this plan', fixed(plan.throughputFps), fixed(plan.latencyMs), fixed(plan.energyMj), plan.bottleneck ?? '—'],
      ...plan.baselines.map((b) => [b.name, fixed(b.throughputFps), fixed(b.latencyMs), fixed(b.energyMj), b.bottleneck]),
    ],
  );
}

function formatFront(front: ParetoResult): string {
  const [a, b] = front.objectives;
  const col = (o: Objective) => (o === 'throughput' ? 'FPS' : o === 'latency' ? 'latency ms' : 'energy mJ');
  const val = (p: Plan, o: Objective) => fixed(o === 'throughput' ? p.throughputFps : o === 'latency' ? p.latencyMs : p.energyMj);
  return [
    `${front.status} Pareto front ${a} vs ${b}: ${front.front.length} plans in ${fixed(front.solveMs, 0)} ms`,
    table([col(a), col(b), 'stages'], front.front.map((p) => [val(p, a), val(p, b), (p.stages ?? []).map((s) => s.board).join(' > ')])),
    ...(front.reason ? [`why: ${front.reason}`] : []),
  ].join('\n');
}
