// dnnpart report and dnnpart start (the main job): systems and problems in, a report out.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Objective, Plan } from '@dnnpart/solver';
import type { MeasuredRun, MeasuredRunStage, ReportData, ReportSystem } from '../report-data.js';
import { buildProblem, type ReportParts } from '../system/build.js';
import { solveWithFidelity, wantsFidelity } from '../system/fidelity.js';
import { loadSystem, profilesDir } from '../system/load.js';
import { objectives, partsFromProblem, solveAll } from '../system/plans.js';
import { resolveSystem, type ResolveOptions } from '../system/resolve.js';
import { fixed, table } from './_format.js';
import { displayPath, ensureDir, readJsonFlag, resolvePath, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';
import { version } from './version.js';
import { readProblemFile, resolveProgress } from './solve-commands.js';
import { readVerifyFile } from './verify-command.js';


export interface ReportOptions {
  readonly systems?: readonly string[];
  readonly problems?: readonly string[];
  readonly output: string;
  readonly title?: string;
  readonly timeLimitS?: number;
  /** `dnnpart verify` results to show against the predictions. */
  readonly verify?: readonly string[];
  /** `dnnpart run --json` results (a pipelined run on the agents) to show beside the predictions. */
  readonly runs?: readonly string[];
  /** For `start`: replace each system's model, and defaults for measured boards. */
  readonly model?: ResolveOptions['model'];
  readonly measure?: ResolveOptions['measure'];
}

export interface ObjectiveSummary {
  readonly objective: Objective;
  readonly status: Plan['status'];
  readonly throughputFps?: number;
  readonly latencyMs?: number;
  readonly energyMj?: number;
  /** Boards in pipeline order. */
  readonly stages: readonly string[];
  readonly bestSingleBoard?: string;
  /** Relative change of the objective's metric against the best single board (+0.47: 47 % more FPS; -0.2: 20 % less ms or mJ). */
  readonly gainOverBestSingleBoard?: number;
  /** A plan not proven optimal ("feasible"): how far above a proven lower bound its objective may be (0.0027: 0.27 %). */
  readonly gap?: number;
  readonly reason?: string;
}

export interface ReportResult {
  readonly dir: string;
  readonly files: readonly string[];
  readonly report: string;
  readonly systems: readonly {
    readonly name: string;
    readonly nodes: number;
    readonly boards: readonly string[];
    readonly objectives: readonly ObjectiveSummary[];
    /** Plans on each Pareto front ("throughput,energy" → 4), and its status. */
    readonly pareto: Readonly<Record<string, { readonly status: string; readonly plans: number }>>;
  }[];
}

/** `dnnpart report`: solve each system or problem for everything and render the report. */
export async function report(opts: ReportOptions, ctx: CommandContext): Promise<CommandOutput<ReportResult>> {
  const systems = opts.systems ?? [];
  const problems = opts.problems ?? [];
  if (systems.length + problems.length === 0) throw new UsageError('CLI_MISSING_ARGUMENT', 'give at least one --system <system.yaml> or --problem <p.json>');
  const dir = resolvePath(ctx, opts.output);
  // Verify results are read first: a bad one stops the command before any solving.
  const verifyRuns = (opts.verify ?? []).map((given) => ({ given, ...readVerifyFile(resolvePath(ctx, given), given) }));
  const agentRuns = (opts.runs ?? []).map((given) => readRunFile(resolvePath(ctx, given), given));
  if (agentRuns.length > 0 && systems.length + problems.length !== 1) {
    throw new UsageError('CLI_BAD_VALUE', `--run ${opts.runs![0]}: a run result names no model; give --run with exactly one --system or --problem`);
  }
  await ensureDir(dir, opts.output);

  const built: ReportSystem[] = [];
  const several = systems.length + problems.length > 1;
  for (const s of systems) {
    const file = resolvePath(ctx, s);
    const spec = loadSystem(file, displayPath(ctx, file));
    // With another model the system is named after it once that is loaded (resolveSystem): say whose boards these are.
    const other = opts.model?.file !== undefined ? path.basename(opts.model.file) : opts.model?.zoo;
    ctx.progress.note(other === undefined ? `system ${spec.name} (${displayPath(ctx, file)})` : `${other} on the boards and links of system ${spec.name} (${displayPath(ctx, file)})`);
    const workDir = several ? path.join(dir, spec.name.replace(/[^A-Za-z0-9._-]+/g, '-')) : dir;
    // The warnings go to stderr as they come, and into the report beside the figures they qualify.
    const caveats: string[] = [];
    const progress = resolveProgress(ctx);
    const resolved = await resolveSystem(spec, {
      workDir,
      onProgress: (e) => {
        if (e.kind === 'warning') caveats.push(e.message);
        progress(e);
      },
      ...(opts.model ? { model: opts.model } : {}),
      ...(opts.measure ? { measure: opts.measure } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    ctx.progress.end();
    const { problem, parts: systemParts, warnings } = buildProblem(resolved);
    for (const w of warnings) ctx.progress.note(`warning: ${w}`);
    caveats.push(...warnings);
    // The report names files as the user would: relative to where dnnpart ran.
    const parts = { ...systemParts, ...(caveats.length > 0 ? { caveats } : {}), boards: systemParts.boards.map((b) => (b.file ? { ...b, file: displayPath(ctx, b.file) } : b)) };
    // The problem as solved, so `dnnpart solve --problem` can reproduce any plan of the report.
    await writeFile(path.join(workDir, 'problem.json'), JSON.stringify(problem, null, 2) + '\n');
    let solvedSystem = await solveParts(problem, parts, opts, ctx);
    // A lossy transfer or a minimum fidelity: measure the plans by running them, re-solving with a
    // higher-precision encoding while the chosen plan misses the constraint.
    if (wantsFidelity(resolved)) {
      let solvedProblem = problem;
      solvedSystem = await solveWithFidelity(resolved, solvedSystem, (transfer) => {
        solvedProblem = buildProblem({ ...resolved, spec: { ...resolved.spec, transfer } }).problem;
        return solveParts(solvedProblem, parts, opts, ctx);
      }, (line) => ctx.progress.note(line));
      // problem.json reproduces the plans shown: those of the encoding finally used.
      if (solvedProblem !== problem) await writeFile(path.join(workDir, 'problem.json'), JSON.stringify(solvedProblem, null, 2) + '\n');
    }
    built.push(solvedSystem);
  }
  for (const p of problems) {
    const file = resolvePath(ctx, p);
    const problem = readProblemFile(file, p);
    const name = problem.name ?? path.basename(p).replace(/(\.problem)?\.json$/, '');
    ctx.progress.note(`problem ${name} (${p})`);
    built.push(await solveParts(problem, partsFromProblem(problem, name, 'imported', path.basename(file)), opts, ctx));
  }

  const verified = attachRuns(attachVerified(built, verifyRuns), agentRuns);
  const data: ReportData = {
    title: opts.title ?? (built.length === 1 ? `dnnpart report: ${built[0]!.name}` : `dnnpart report: ${built.map((b) => b.name).join(', ')}`),
    createdAt: new Date().toISOString(),
    tool: { name: 'dnnpart', version },
    systems: verified,
  };
  ctx.progress.note('rendering the report');
  // The renderers pull in vega; load them only when a report is written.
  const { renderReport } = await import('../render/index.js');
  const { files } = await renderReport(data, dir);
  const result: ReportResult = {
    dir,
    files,
    report: path.join(dir, 'report.html'),
    systems: built.map((s) => ({
      name: s.name,
      nodes: s.layers.length,
      boards: s.boards.map((b) => b.id),
      objectives: objectives.map((o) => summariseObjective(s.plans[o], o)),
      pareto: Object.fromEntries(Object.entries(s.pareto).map(([k, f]) => [k, { status: f.status, plans: f.front.length }])),
    })),
  };
  return { data: result, text: formatReport(result, ctx) };
}

async function solveParts(problem: Parameters<typeof solveAll>[0], parts: ReportParts, opts: ReportOptions, ctx: CommandContext): Promise<ReportSystem> {
  let current = { label: `solving ${parts.name}`, i: 0, total: 1 };
  const solved = await solveAll(problem, {
    ...(opts.timeLimitS !== undefined ? { timeLimitS: opts.timeLimitS } : {}),
    onStep: (step, i, total) => {
      ctx.signal?.throwIfAborted();
      // Step i + 1 of total starts now.
      current = { label: `solving ${parts.name}: ${step}`, i: i + 1, total };
      ctx.progress.update(current.label, i + 1, total);
    },
    onMessage: (m) => ctx.progress.update(current.label, current.i, current.total, m),
  });
  ctx.progress.end();
  ctx.progress.note(`solved ${parts.name}: ${objectives.map((o) => `${o} ${solved.plans[o].status}`).join(', ')}`);
  return { ...parts, ...solved };
}

function metric(p: { throughputFps?: number; latencyMs?: number; energyMj?: number }, o: Objective): number | undefined {
  return o === 'throughput' ? p.throughputFps : o === 'latency' ? p.latencyMs : p.energyMj;
}

/** The best plan of one objective and its gain over the best single board on that objective. */
export function summariseObjective(plan: Plan, objective: Objective): ObjectiveSummary {
  const singles = plan.baselines.filter((b) => b.kind === 'single-board' && metric(b, objective) !== undefined && Number.isFinite(metric(b, objective)!));
  const better = (a: number, b: number) => (objective === 'throughput' ? a > b : a < b);
  const best = singles.reduce<(typeof singles)[number] | undefined>((acc, b) => (acc === undefined || better(metric(b, objective)!, metric(acc, objective)!) ? b : acc), undefined);
  const mine = metric(plan, objective);
  const base = best ? metric(best, objective) : undefined;
  return {
    objective,
    status: plan.status,
    ...(plan.throughputFps !== undefined ? { throughputFps: plan.throughputFps } : {}),
    ...(plan.latencyMs !== undefined ? { latencyMs: plan.latencyMs } : {}),
    ...(plan.energyMj !== undefined ? { energyMj: plan.energyMj } : {}),
    stages: (plan.stages ?? []).map((s) => s.board),
    ...(best ? { bestSingleBoard: best.name } : {}),
    ...(mine !== undefined && base !== undefined && base > 0 ? { gainOverBestSingleBoard: mine / base - 1 } : {}),
    ...(plan.status === 'feasible' && plan.gap !== undefined && Number.isFinite(plan.gap) ? { gap: plan.gap } : {}),
    ...(plan.reason ? { reason: plan.reason } : {}),
  };
}

function gain(g: number | undefined): string {
  if (g === undefined) return '—';
  return `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`;
}

const unit: Record<Objective, string> = { throughput: 'FPS', latency: 'ms', energy: 'mJ' };

function formatReport(r: ReportResult, ctx: CommandContext): string {
  const lines: string[] = [];
  for (const s of r.systems) {
    lines.push(`${s.name}: ${s.nodes} layers on ${s.boards.join(', ')}`);
    lines.push(
      table(
        ['objective', 'status', 'FPS', 'latency ms', 'energy mJ', 'pipeline', 'vs best single board'],
        s.objectives.map((o) => [
          o.objective,
          // Not proven optimal: at most this far above a proven lower bound.
          o.gap !== undefined ? `${o.status} (gap ${(o.gap * 100).toFixed(2)} %)` : o.status,
          fixed(o.throughputFps),
          fixed(o.latencyMs),
          fixed(o.energyMj),
          o.stages.join(' > ') || (o.reason ?? '—'),
          o.bestSingleBoard ? `${gain(o.gainOverBestSingleBoard)} ${unit[o.objective]} vs ${o.bestSingleBoard.replace(/^single:/, '')}` : '—',
        ]),
      ),
      `Pareto fronts: ${Object.entries(s.pareto).map(([k, f]) => `${k.replace(',', ' vs ')} ${f.plans} ${f.plans === 1 ? 'plan' : 'plans'}${f.status === 'optimal' ? '' : ` (${f.status})`}`).join(', ')}`,
      '',
    );
  }
  lines.push(`wrote ${r.files.map((f) => displayPath(ctx, path.isAbsolute(f) ? f : path.join(r.dir, f))).join(', ')}`);
  lines.push(`report: ${displayPath(ctx, r.report)}`);
  return lines.join('\n');
}

export interface StartOptions {
  readonly model?: string;
  readonly net?: string;
  readonly input?: readonly string[];
  readonly system?: string;
  readonly output?: string;
  readonly runs?: number;
  readonly warmup?: number;
  readonly threads?: number;
  readonly timeLimitS?: number;
}

/** The default system of the main job. */
export const defaultSystem = path.join(profilesDir, 'systems', 'default.yaml');

/** `dnnpart start`: the main job — export, profile here, join with other boards, solve, report. */
export async function start(opts: StartOptions, ctx: CommandContext): Promise<CommandOutput<ReportResult>> {
  if (opts.model && opts.net) throw new UsageError('CLI_CONFLICTING_FLAGS', 'give --model or --net, not both');
  const system = opts.system ? resolvePath(ctx, opts.system) : defaultSystem;
  const model = opts.model ? { file: resolvePath(ctx, opts.model), ...(opts.input ? { input: opts.input } : {}) }
    : opts.net ? { zoo: opts.net, ...(opts.input ? { input: opts.input } : {}) }
    : opts.input ? { input: opts.input } : undefined;
  const t0 = Date.now();
  const result = await report(
    {
      systems: [opts.system ?? system],
      output: opts.output ?? 'out',
      timeLimitS: opts.timeLimitS ?? 20,
      ...(model ? { model } : {}),
      measure: {
        ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
        ...(opts.warmup !== undefined ? { warmup: opts.warmup } : {}),
        ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
      },
    },
    ctx,
  );
  return { data: result.data, text: `${result.text}\ndone in ${((Date.now() - t0) / 1000).toFixed(1)} s` };
}

/** A `dnnpart run --json` result as a measured run: throughput and median latency beside the plan's prediction. */
export function readRunFile(file: string, given: string): MeasuredRun {
  const json = readJsonFlag('run', file, given);
  const r = json as { frames?: unknown; throughputFps?: unknown; latencyMs?: { p50?: unknown }; predicted?: { throughputFps?: unknown; latencyMs?: unknown } } | null;
  // Frames, rates and times are never negative: a negative one is not what run writes.
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  if (typeof r !== 'object' || r === null || !num(r.frames) || !num(r.throughputFps) || !num(r.latencyMs?.p50)) {
    throw new UsageError('CLI_BAD_VALUE', `--run ${given}: not a dnnpart run result (frames, throughputFps, latencyMs.p50); write one with dnnpart run --json > run.json`);
  }
  const stages = runStages((json as { stages?: unknown }).stages, given);
  const shared = (json as { sharedMachines?: unknown }).sharedMachines;
  const machine = (m: unknown): m is { host: string; agents: string[]; cores: number } => typeof m === 'object' && m !== null
    && typeof (m as { host?: unknown }).host === 'string' && Array.isArray((m as { agents?: unknown }).agents) && (m as { agents: unknown[] }).agents.every((a) => typeof a === 'string')
    && num((m as { cores?: unknown }).cores);
  if (shared !== undefined && !(Array.isArray(shared) && shared.every(machine))) {
    throw new UsageError('CLI_BAD_VALUE', `--run ${given}: sharedMachines: must be a list of { host, agents, cores }; write the file with dnnpart run --json > run.json`);
  }
  return {
    plan: `${path.basename(given)}: run on the agents (${r.frames} frames)`,
    measuredFps: r.throughputFps,
    measuredLatencyMs: r.latencyMs!.p50 as number,
    ...(num(r.predicted?.throughputFps) ? { predictedFps: r.predicted!.throughputFps } : {}),
    ...(num(r.predicted?.latencyMs) ? { predictedLatencyMs: r.predicted!.latencyMs } : {}),
    ...(stages.length > 0 ? { stages } : {}),
    ...(Array.isArray(shared) && shared.length > 0 ? { sharedMachines: shared as { host: string; agents: string[]; cores: number }[] } : {}),
  };
}

/** A run result's stages (absent: none), each field checked; a wrong one is named. */
function runStages(v: unknown, given: string): MeasuredRunStage[] {
  if (v === undefined) return [];
  const bad = (field: string, what: string): never => {
    throw new UsageError('CLI_BAD_VALUE', `--run ${given}: ${field}: ${what}; write the file with dnnpart run --json > run.json`);
  };
  if (!Array.isArray(v)) return bad('stages', 'must be a list');
  const num = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x) && x >= 0;
  return v.map((s: unknown, i): MeasuredRunStage => {
    const at = `stages[${i}]`;
    if (typeof s !== 'object' || s === null || Array.isArray(s)) return bad(at, 'must be an object');
    const o = s as { stage?: unknown; agent?: unknown; computeMs?: { measured?: unknown; predicted?: unknown; codingMs?: unknown } | null; memory?: { predictedBytes?: unknown; peakBytes?: unknown; predictedFramesBytes?: unknown; alone?: { peakBytes?: unknown } | null } | null };
    if (!Number.isInteger(o.stage) || (o.stage as number) < 0) bad(`${at}.stage`, 'must be a stage number');
    if (typeof o.agent !== 'string' || o.agent === '') bad(`${at}.agent`, 'must be an agent id');
    if (typeof o.computeMs !== 'object' || o.computeMs === null) bad(`${at}.computeMs`, 'must be an object');
    if (!num(o.computeMs!.measured)) bad(`${at}.computeMs.measured`, 'must be a non-negative number');
    if (o.computeMs!.predicted !== null && o.computeMs!.predicted !== undefined && !num(o.computeMs!.predicted)) bad(`${at}.computeMs.predicted`, 'must be a non-negative number or null');
    if (o.computeMs!.codingMs !== undefined && !num(o.computeMs!.codingMs)) bad(`${at}.computeMs.codingMs`, 'must be a non-negative number');
    const memory = o.memory;
    if (memory !== undefined && (typeof memory !== 'object' || memory === null || Array.isArray(memory))) bad(`${at}.memory`, 'must be an object');
    if (memory && memory.predictedBytes !== null && memory.predictedBytes !== undefined && !num(memory.predictedBytes)) bad(`${at}.memory.predictedBytes`, 'must be a non-negative number or null');
    const alone = memory?.alone;
    if (alone !== undefined && (typeof alone !== 'object' || alone === null || !num(alone.peakBytes))) bad(`${at}.memory.alone.peakBytes`, 'must be a non-negative number');
    return {
      index: o.stage as number,
      agent: o.agent as string,
      predictedMs: num(o.computeMs!.predicted) ? o.computeMs!.predicted : null,
      // The stage's session and its own encoding and decoding, as a plan with an encoded transfer prices it.
      measuredMs: (o.computeMs!.measured as number) + (num(o.computeMs!.codingMs) ? o.computeMs!.codingMs : 0),
      predictedMemoryBytes: memory && num(memory.predictedBytes) ? memory.predictedBytes : null,
      ...(memory && num(memory.peakBytes) ? { peakMemoryBytes: memory.peakBytes as number } : {}),
      ...(memory && num(memory.predictedFramesBytes) ? { predictedFramesBytes: memory.predictedFramesBytes as number } : {}),
      ...(alone ? { aloneMemoryBytes: alone.peakBytes as number } : {}),
    };
  });
}

function attachRuns(systems: ReportSystem[], runs: readonly MeasuredRun[]): ReportSystem[] {
  if (runs.length === 0) return systems;
  const s = systems[0]!;
  return [{ ...s, measured: [...(s.measured ?? []), ...runs] }];
}

/** Each verify result joins the system of its model (the only system, or the one whose model has its name). */
function attachVerified(systems: readonly ReportSystem[], runs: readonly (ReturnType<typeof readVerifyFile> & { given: string })[]): ReportSystem[] {
  const out = [...systems];
  for (const { given, result, measured, verified } of runs) {
    const i = out.length === 1 ? 0 : out.findIndex((s) => s.model.name === result.model.name);
    if (i < 0) {
      throw new UsageError('CLI_BAD_VALUE', `--verify ${given}: model "${result.model.name}" is not the model of any system in the report (${out.map((s) => s.model.name).join(', ')})`);
    }
    const s = out[i]!;
    out[i] = { ...s, measured: [...(s.measured ?? []), ...measured], verified: [...(s.verified ?? []), verified] };
  }
  return out;
}
