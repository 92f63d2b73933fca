// dnnpart verify, and dnnpart split --plan: a plan (a file, or the optimum of a system file) split
// into stage models, and for verify each stage timed here against the plan's prediction.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseInputSpecs, splitModel, writeSplit, type InputShapes, type LoadedModel, type SplitManifest } from '@dnnpart/onnx-graph';
import { evaluatePlan, solve as solveProblem, type Objective, type Problem } from '@dnnpart/solver';
import { ACTIVATION_FACTOR, buildProblem } from '../system/build.js';
import { loadSystem } from '../system/load.js';
import { resolveSystem, type ResolvedBoard } from '../system/resolve.js';
import type { MeasuredRun, VerifiedPlan } from '../report-data.js';
import { DEFAULT_SPAN_MS, VERIFY_SCHEMA, verifyPlan, type StagePrediction, type VerifyFigures, type VerifyResult } from '../verify/verify.js';
import { stagePrediction, stagesOnBoard } from '../verify/on-board.js';
import { writeTrace } from '../verify/trace.js';
import { fixed, table } from './_format.js';
import { loadPlannedModel, planStageMap, readPlanFile } from './_plan-file.js';
import { checkInputsMatchSystem } from './_system-input.js';
import { asGiven, displayPath, ensureDir, plural, readJsonFlag, resolvePath, writeOutput, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';
import { readProblemFile, resolveProgress } from './solve-commands.js';

export interface PlanSourceOptions {
  /** The ONNX file; optional with --system (its model is used). */
  readonly model?: string;
  readonly input?: readonly string[];
  readonly plan?: string;
  readonly row?: string;
  readonly system?: string;
  readonly problem?: string;
  readonly objective?: Objective;
  readonly timeLimitS?: number;
}

interface ResolvedPlan {
  readonly model: LoadedModel;
  readonly modelFile: string;
  readonly stageOf: Record<string, number>;
  readonly boards: string[];
  readonly predicted: StagePrediction[] | null;
  /** The problem that predicts the plan, when one was given (a system or problem file). */
  readonly problem?: Problem;
  /** The system's boards whose measured profile was made on this CPU, with its threads; null without a system. */
  readonly here: readonly MeasuredHere[] | null;
  readonly what: string;
}

interface MeasuredHere {
  readonly board: string;
  readonly threads: number;
}

/**
 * The board that stands for this machine at `threads` threads: a board of the system whose profile
 * was measured here at those threads (one the plan uses first), or the plan's only board for a
 * problem file. Undefined when none does.
 */
function hereBoard(plan: ResolvedPlan, threads: number): string | undefined {
  const { boards, here } = plan;
  if (here === null) return boards.every((b) => b === boards[0]) ? boards[0] : undefined;
  const at = here.filter((h) => h.threads === threads).map((h) => h.board);
  return boards.find((b) => at.includes(b)) ?? at[0];
}

/** The board that stands for this machine, and the whole model's time on it by the same cost model as the stages. */
function referenceBoard(plan: ResolvedPlan, board: string | undefined): { boards: string[]; predictedMs: number } | undefined {
  const { problem, model: { graph } } = plan;
  if (!problem || board === undefined) return undefined;
  try {
    const ms = evaluatePlan(problem, [{ board, nodes: graph.nodes.map((n) => n.name) }]).stages[0]?.computeMs;
    return ms !== undefined && ms > 0 ? { boards: [board], predictedMs: ms } : undefined;
  } catch {
    // The whole model cannot be priced on that board alone (the plan's own stages were): no reference.
    return undefined;
  }
}

/** The system's boards whose measured profile was made on this CPU, and at how many threads. */
function boardsMeasuredHere(boards: readonly ResolvedBoard[]): MeasuredHere[] {
  const cpu = os.cpus()[0]?.model.trim();
  return boards.filter((b) => b.source === 'measured' && b.profile.source !== 'analytic' && b.profile.board.cpu === cpu)
    .map((b) => ({ board: b.spec.id, threads: b.profile.settings.threads }));
}

function shapesOf(input: readonly string[] | undefined): InputShapes | undefined {
  return input && input.length > 0 ? parseInputSpecs([...input]) : undefined;
}

/** The model, the plan's node -> stage map and its predictions, from the options; `workDir` holds a zoo export. */
async function resolvePlan(opts: PlanSourceOptions, ctx: CommandContext, workDir: string): Promise<ResolvedPlan> {
  if (opts.system && opts.problem) throw new UsageError('CLI_CONFLICTING_FLAGS', 'give --system or --problem, not both');
  if (!opts.plan && !opts.system && !opts.problem) throw new UsageError('CLI_MISSING_ARGUMENT', 'give --plan <plan.json>, or --system <system.yaml> (its optimal plan is used)');
  let problem: Problem | undefined;
  let here: MeasuredHere[] | null = null;
  let modelFile: string | undefined = opts.model ? resolvePath(ctx, opts.model) : undefined;
  let inputShapes = shapesOf(opts.input);
  let systemShapes: InputShapes | undefined;
  if (opts.system) {
    const spec = loadSystem(resolvePath(ctx, opts.system), opts.system);
    const resolved = await resolveSystem(spec, { workDir, onProgress: resolveProgress(ctx), ...(ctx.signal ? { signal: ctx.signal } : {}) });
    // Verify hands the stages' tensors over as float32: a system's transfer encoding (whose time the
    // plan prices in its stages, and `dnnpart run` measures on the agents) is left out of what it times.
    const encoded = resolved.spec.transfer !== undefined && resolved.spec.transfer !== 'fp32' ? resolved.spec.transfer : undefined;
    if (encoded) ctx.progress.note(`the system's transfer (${encoded}) is left out here: verify times the stages with their tensors handed over as float32, and predicts them so; the encoding and decoding that a plan with it prices are measured by dnnpart run`);
    const built = buildProblem(encoded ? { ...resolved, spec: { ...resolved.spec, transfer: 'fp32' } } : resolved);
    for (const w of built.warnings) ctx.progress.note(`warning: ${w}`);
    problem = built.problem;
    here = boardsMeasuredHere(resolved.boards);
    if (modelFile && path.resolve(modelFile) !== path.resolve(resolved.modelFile)) {
      throw new UsageError('CLI_CONFLICTING_FLAGS', `${opts.model}: the system ${opts.system} plans for ${displayPath(ctx, resolved.modelFile)}; give one or the other`);
    }
    modelFile = resolved.modelFile;
    systemShapes = resolved.inputShapes;
    inputShapes = inputShapes ?? resolved.inputShapes;
  } else if (opts.problem) {
    problem = readProblemFile(resolvePath(ctx, opts.problem), opts.problem);
  }
  if (!modelFile) throw new UsageError('CLI_MISSING_ARGUMENT', 'give <model> (an ONNX file), or --system <system.yaml>');
  const file = modelFile;
  const planFile = opts.plan ? readPlanFile(resolvePath(ctx, opts.plan), opts.plan, opts.row) : undefined;
  const model = await asGiven(ctx, [file], () => loadPlannedModel(file, inputShapes, planFile?.model, (m) => ctx.progress.note(m)));
  if (opts.system) checkInputsMatchSystem(model.graph, systemShapes, opts.input, opts.system);
  const modelDisplay = displayPath(ctx, file);

  if (!opts.plan) {
    // The system's (or problem's) optimal plan for the objective.
    const objective = opts.objective ?? problem!.objective;
    ctx.progress.note(`solving ${problem!.name ?? 'the problem'} for ${objective}`);
    const plan = await solveProblem(problem!, { objective, ...(opts.timeLimitS !== undefined ? { timeLimitS: opts.timeLimitS } : {}) });
    if (!plan.stages) throw new UsageError('CLI_BAD_VALUE', `${opts.system ?? opts.problem}: no ${objective} plan to verify (${plan.status}${plan.reason ? `: ${plan.reason}` : ''})`);
    const stageOf = planStageMap({ stages: plan.stages, what: `the ${objective} optimum` }, model.graph, model.sha256, `${objective} optimum`, modelDisplay);
    const boards = plan.stages.map((s) => s.board);
    return { model, modelFile: file, stageOf, boards, predicted: plan.stages.map(stagePrediction), problem: problem!, here, what: `the ${plan.status} ${objective} plan of ${opts.system ?? opts.problem}` };
  }
  if (!planFile) throw new UsageError('CLI_MISSING_ARGUMENT', 'give --plan <plan.json>');
  const stageOf = planStageMap(planFile, model.graph, model.sha256, opts.plan, modelDisplay);
  const boards = planFile.stages.map((s) => s.board);
  let predicted: StagePrediction[] | null = null;
  if (problem) {
    const names = model.graph.nodes.map((n) => n.name);
    const stages = boards.map((board, s) => ({ board, nodes: names.filter((n) => stageOf[n] === s) }));
    predicted = evaluatePlan(problem, stages).stages.map(stagePrediction);
  } else if (planFile.stages.every((s) => s.computeMs !== undefined)) {
    predicted = planFile.stages.map((s) => stagePrediction({ ...s, computeMs: s.computeMs! }));
  }
  return { model, modelFile: file, stageOf, boards, predicted, ...(problem ? { problem } : {}), here, what: `${opts.plan}${planFile.what === 'plan' ? '' : ` (${planFile.what})`}` };
}

async function withWorkDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dnnpart-verify-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `dnnpart split <model> --plan <plan.json>`: the stage models of any plan, DAG plans included. */
export async function splitByPlan(opts: PlanSourceOptions & { readonly output: string }, ctx: CommandContext): Promise<CommandOutput<SplitManifest & { dir: string }>> {
  return withWorkDir(async (work) => {
    const plan = await resolvePlan(opts, ctx, work);
    const result = splitModel(plan.model, { stages: plan.stageOf });
    const dir = resolvePath(ctx, opts.output);
    await ensureDir(dir, opts.output);
    await asGiven(ctx, [dir], () => writeSplit(result, dir));
    const stages = result.manifest.stages;
    const text = [
      `wrote ${plural(stages.length, 'stage')} of ${plan.what} and manifest.json to ${displayPath(ctx, dir)}`,
      table(['stage', 'board', 'file', 'nodes', 'inputs', 'outputs'], stages.map((s, i) => [String(i), plan.boards[i] ?? '', s.file, String(s.nodes.length), short(s.inputs), short(s.outputs)])),
    ].join('\n');
    return { data: { dir, stages }, text };
  });
}

function short(names: readonly string[]): string {
  return names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
}

export interface VerifyCommandOptions extends PlanSourceOptions {
  readonly threads?: number;
  readonly runs?: number;
  readonly warmup?: number;
  readonly frames?: number;
  readonly queue?: number;
  /** Times the pipeline is run (its figures: the runs' medians, and their spread). */
  readonly repeat?: number;
  readonly maxSeconds?: number;
  /** false: do not time the whole model alongside the stages (default: do, when a board of the plan was profiled on this machine at these threads). */
  readonly reference?: boolean;
  /** false: do not measure each stage's memory in a process of its own (default: do). */
  readonly memory?: boolean;
  readonly trace?: string;
  readonly output?: string;
}

/** `dnnpart verify`: each stage's predicted and measured time, and the pipeline's. */
export async function verify(opts: VerifyCommandOptions, ctx: CommandContext): Promise<CommandOutput<VerifyResult>> {
  // Counts named by their flags before anything runs (verifyPlan's own check names its options).
  for (const [flag, v, min] of [['threads', opts.threads, 1], ['runs', opts.runs, 1], ['warmup', opts.warmup, 0], ['frames', opts.frames, 0], ['queue', opts.queue, 1], ['repeat', opts.repeat, 1]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < min)) throw new UsageError('CLI_BAD_VALUE', `--${flag} ${v}: give a whole number of at least ${min}`);
  }
  return withWorkDir(async (work) => {
    const plan = await resolvePlan(opts, ctx, work);
    const k = plan.boards.length;
    // Without --threads, the threads the plan's boards measured on this machine were profiled with
    // (the system's, when the plan uses none of them), so that the predictions hold for the run.
    const inPlan = (plan.here ?? []).filter((h) => plan.boards.includes(h.board));
    const here = inPlan.length > 0 ? inPlan : plan.here ?? [];
    const profiled = [...new Set(here.map((h) => h.threads))];
    const threads = opts.threads ?? (profiled.length === 1 ? profiled[0]! : 1);
    const extraNotes = here.filter((h) => h.threads !== threads)
      .map((h) => `board ${h.board} was profiled on this machine at ${plural(h.threads, 'thread')}, and this run gives each stage ${plural(threads, 'thread')}: ${plan.boards.includes(h.board) ? 'its stages\' predictions' : 'its predictions of the stages'} are for ${h.threads} (give --threads ${h.threads} to check them)`);
    const board = hereBoard(plan, threads);
    const reference = opts.reference === false ? undefined : referenceBoard(plan, board);
    // The stages the plan puts on other boards, priced on the board that stands for this machine: what a measurement here can check.
    let onHere: StagePrediction[] | undefined;
    if (board !== undefined && plan.problem && plan.predicted && plan.boards.some((b) => b !== board)) {
      const names = plan.model.graph.nodes.map((n) => n.name);
      const priced = stagesOnBoard(plan.problem, board, plan.boards.map((_, s) => ({ nodes: names.filter((n) => plan.stageOf[n] === s) })));
      if (typeof priced === 'string') extraNotes.push(`the stages of other boards than ${board} are not predicted on it (${priced}): their times here check nothing`);
      else onHere = priced;
    }
    ctx.progress.note(`verifying ${plan.what}: ${plural(k, 'stage')} of ${plan.model.graph.name} on this machine, ${plural(threads, 'thread')} per stage`);
    const verified = await verifyPlan(plan.model, displayPath(ctx, plan.modelFile), plan.stageOf, plan.boards, plan.predicted, {
      threads, runs: opts.runs ?? 30, warmup: opts.warmup ?? 20, pipelineFrames: opts.frames ?? 30,
      // Counts not given: each covers half a second at least (small stages' 30 frames take a few ms).
      ...(opts.runs === undefined ? { runsSpanMs: DEFAULT_SPAN_MS } : {}),
      ...(opts.frames === undefined ? { framesSpanMs: DEFAULT_SPAN_MS } : {}),
      queue: opts.queue ?? 1, maxSeconds: opts.maxSeconds ?? 120, nodeTrace: opts.trace !== undefined, pipelineRepeats: opts.repeat ?? 1, memory: opts.memory !== false,
      ...(reference ? { reference } : {}),
      ...(onHere ? { here: { board: board!, stages: onHere } } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      onProgress: (phase, done, total) => ctx.progress.update(phase, done, total),
    });
    ctx.progress.end();
    const spans = verified.spans;
    const result: VerifyResult = extraNotes.length > 0 ? { ...verified.result, notes: [...extraNotes, ...verified.result.notes] } : verified.result;
    if (opts.trace) {
      const file = resolvePath(ctx, opts.trace);
      await asGiven(ctx, [file], () => writeTrace(spans, file, ctx.signal));
    }
    if (opts.output) await writeOutput(resolvePath(ctx, opts.output), opts.output, `${JSON.stringify(result, null, 2)}\n`);
    return { data: result, text: formatVerify(result, opts) };
  });
}

const MB = (b: number | null | undefined) => (b === null || b === undefined ? '—' : (b / 1048576).toFixed(1));

/** Each stage's memory as the plan has it beside what it took in a process of its own. */
function memoryLines(r: VerifyResult): string[] {
  if (!r.stages.some((x) => x.memory)) return [];
  return ['', table(
    ['stage', 'board', 'memory MB: plan', 'measured: session', 'peak', 'error'],
    r.stages.map((x) => [String(x.index), x.board, MB(x.predictedMemoryBytes), MB(x.memory?.sessionBytes), MB(x.memory?.peakBytes), pct(x.memoryError ?? null)]),
  ), `(measured: the resident memory a stage's session, then its runs, add to a process already running onnxruntime, the stage loaded as an agent loads it; the plan's: its weights, ${ACTIVATION_FACTOR}x the activations alive at its peak, and 2 MB, without its frames in flight)`];
}

const pct = (e: number | null) => (e === null ? '—' : `${e >= 0 ? '+' : ''}${(e * 100).toFixed(1)}%`);

/** The comparison for people. */
export function formatVerify(r: VerifyResult, opts: Pick<VerifyCommandOptions, 'trace' | 'output'> = {}): string {
  const s = r.settings;
  // A stage predicted for another board than this machine: its measured time here is no check of
  // that prediction, only of its prediction on the board that stands for this machine (r.here).
  const elsewhere = (board: string) => r.reference !== undefined && !r.reference.boards.includes(board);
  const on = r.here?.board;
  const alone = r.stages.some((x) => x.alone);
  const lines = [
    `${r.model.name}: ${plural(r.stages.length, 'stage')} on ${r.machine.cpu} (${r.machine.cores} cores), ${plural(s.threads, 'thread')} per stage, median of ${s.runs} runs; load ${r.machine.loadBefore.toFixed(2)} -> ${r.machine.loadAfter.toFixed(2)}`,
    table(
      ['stage', 'board', 'nodes', 'predicted ms', 'kernels', 'boundary', ...(on ? [`on ${on} ms`] : []), 'measured ms', 'p90 ms', 'error', ...(r.reference ? ['at this speed'] : []), ...(alone ? ['alone ms', 'error', ...(r.reference?.aloneRatio !== undefined ? ['at this speed'] : [])] : [])],
      r.stages.map((x) => [
        String(x.index), x.board, String(x.nodes), fixed(x.predictedMs), fixed(x.kernelMs), fixed(x.boundaryMs), ...(on ? [fixed(x.here?.predictedMs ?? x.predictedMs)] : []), fixed(x.measuredMs), fixed(x.p90Ms),
        x.here ? pct(x.here.error) : elsewhere(x.board) ? 'other board' : pct(x.error), ...(r.reference ? [pct(x.here ? x.here.scaledError ?? null : x.scaledError ?? null)] : []),
        ...(alone ? [fixed(x.alone?.measuredMs ?? null), !x.here && elsewhere(x.board) ? 'other board' : pct(x.alone?.error ?? null), ...(r.reference?.aloneRatio !== undefined ? [pct(x.alone?.scaledError ?? null)] : [])] : []),
      ]),
    ),
    ...(alone ? ['(measured: the stages in turn, frame after frame, in this process; alone: each stage run after run on its own, as a board runs it)'] : []),
    ...(on ? [`(on ${on}: each stage as ${on}'s profile, made on this machine, predicts it; the errors are against that, for the stages the plan puts on other boards too)`] : []),
    ...memoryLines(r),
    '',
    table(['pipeline', 'predicted', 'measured', 'error'], [
      ...figureRows(on ? 'back to back, each stage on its board' : 'back to back', r.backToBack),
      ...(r.here ? figureRows(`back to back, every stage on ${r.here.board}`, r.here.backToBack) : []),
      ...(r.pipeline ? pipelineRows(r.pipeline, r.stages.length) : []),
    ]),
  ];
  if (r.pipeline) lines.push(r.pipeline.host ? `(the pipeline is kept full, so a frame's measured latency includes its waits in full queues: the stages' sum leaves them out, this host's simulation counts them)` : `(pipeline latency includes queueing; its prediction is the stages' sum)`);
  if (r.pipeline?.runs) lines.push(`pipeline runs: ${r.pipeline.runs.map((x) => fixed(x.fps)).join(', ')} FPS; measured is their median, spread ${pct(r.pipeline.spread ?? null).replace('+', '')} of it`);
  if (r.reference) {
    const f = r.reference;
    lines.push(`speed: the whole model, timed in the same runs, ${fixed(f.measuredMs)} ms against ${fixed(f.predictedMs)} ms predicted (x${fixed(f.ratio, 3)})${f.aloneMs !== undefined ? `, and alone ${fixed(f.aloneMs)} ms (x${fixed(f.aloneRatio!, 3)})` : ''}; "at this speed" scales each prediction by it${f.aloneMs !== undefined ? ' (the stages alone by the whole model alone)' : ''}${r.pipeline?.host?.scaled ? `, and this host's pipeline becomes ${fixed(r.pipeline.host.scaled.predictedFps)} FPS (${pct(r.pipeline.host.scaled.fpsError)})` : ''}`);
  }
  const h = r.pipeline?.host;
  if (h) {
    const speedups = h.stages.every((x) => x.speedup !== undefined) ? ` (what its threads buy it over 1: ${h.stages.map((x) => `${fixed(x.speedup!, 2)}x`).join(', ')})` : '';
    lines.push(`this host: stages + handoff (${fixed(h.handoffFixedMs, 3)} ms + ${fixed(h.handoffMsPerByte * 1e6, 3)} ms/MB per frame: ${h.stages.map((x) => fixed(x.handoffMs, 3)).join(', ')} ms), cores kept busy per stage ${h.stages.map((x) => fixed(x.parallelism, 2)).join(', ')}${speedups}; ${fixed(h.concurrency, 2)} stages running at once on ${fixed(h.effectiveCores, 2)} cores' worth of work (efficiency ${fixed(h.efficiency, 2)} as calibrated for ${h.stages.length} stages; slowdown ${fixed(h.slowdown, 2)}): period ${fixed(h.periodMs)} ms`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  if (opts.output) lines.push(`wrote ${opts.output}`);
  if (opts.trace) lines.push(`trace: ${opts.trace} (open in https://ui.perfetto.dev or chrome://tracing)`);
  return lines.join('\n');
}

/** The plan's prediction (a board per stage), then this host's, against the one measured pipeline FPS. */
function pipelineRows(p: NonNullable<VerifyResult['pipeline']>, k: number): string[][] {
  const label = `pipeline, ${p.cores} cores, ${k} workers`;
  const rows: string[][] = [];
  if (p.planFps !== undefined) rows.push([`${label}: FPS, plan (a board per stage)`, fixed(p.planFps), fixed(p.measuredFps), pct(p.planFpsError ?? null)]);
  if (p.host) rows.push([`${label}: FPS, this host (calibrated)`, fixed(p.host.predictedFps), fixed(p.measuredFps), pct(p.host.fpsError)]);
  if (rows.length === 0) rows.push([`${label}: FPS`, fixed(p.predictedFps), fixed(p.measuredFps), pct(p.fpsError)]);
  rows.push([`${label}: latency ms, the stages' sum`, fixed(p.predictedLatencyMs), fixed(p.measuredLatencyMs), pct(p.latencyError)]);
  // Saturated, a frame also waits in every full queue: this host's simulation counts those waits.
  if (p.host?.latencyMs !== undefined) rows.push([`${label}: latency ms, this host (queueing incl.)`, fixed(p.host.latencyMs), fixed(p.measuredLatencyMs), pct(p.host.latencyError ?? null)]);
  return rows;
}

function figureRows(label: string, f: VerifyFigures): string[][] {
  return [
    [`${label}: FPS`, fixed(f.predictedFps), fixed(f.measuredFps), pct(f.fpsError)],
    [`${label}: latency ms`, fixed(f.predictedLatencyMs), fixed(f.measuredLatencyMs), pct(f.latencyError)],
  ];
}

/**
 * What is wrong with a verify result's fields that the report reads (its file is JSON a user may have
 * edited or cut short), as "field: what it must be", or undefined when they are all as verify writes them.
 */
function verifyResultProblem(r: VerifyResult): string | undefined {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const numOrNull = (v: unknown) => v === null || num(v);
  const check = (o: unknown, at: string, fields: Record<string, (v: unknown) => boolean>, optional: readonly string[] = []): string | undefined => {
    if (!isObject(o)) return `${at}: must be an object`;
    for (const [k, ok] of Object.entries(fields)) {
      if (o[k] === undefined && optional.includes(k)) continue;
      if (!ok(o[k])) return `${at}.${k}: must be ${ok === num ? 'a number' : ok === numOrNull ? 'a number or null' : 'as dnnpart verify writes it'}, got ${JSON.stringify(o[k]) ?? 'nothing'}`;
    }
    return undefined;
  };
  const figures = { measuredFps: num, measuredLatencyMs: num, predictedFps: numOrNull, predictedLatencyMs: numOrNull };
  const str = (v: unknown) => typeof v === 'string';
  return check(r.model, 'model', { name: str })
    ?? check(r.machine, 'machine', { cpu: str })
    ?? check(r.settings, 'settings', { threads: num, runs: num })
    ?? check(r.backToBack, 'backToBack', figures)
    ?? (r.pipeline === undefined ? undefined : check(r.pipeline, 'pipeline', { ...figures, cores: num, planFps: numOrNull, runs: (v) => Array.isArray(v) && v.every((x) => isObject(x) && num(x.fps)), host: (v) => isObject(v) && num(v.predictedFps) }, ['planFps', 'runs', 'host']))
    ?? (r.reference === undefined ? undefined : check(r.reference, 'reference', { ratio: num }))
    ?? r.stages.map((s, i) => check(s, `stages[${i}]`, {
      index: num, board: str, nodes: num, predictedMs: numOrNull, measuredMs: num, p90Ms: num, scaledError: numOrNull, predictedMemoryBytes: numOrNull,
      memory: (v) => isObject(v) && num(v.peakBytes), here: (v) => isObject(v) && str(v.board) && num(v.predictedMs), alone: (v) => isObject(v) && num(v.measuredMs),
    }, ['scaledError', 'predictedMemoryBytes', 'memory', 'here', 'alone'])).find((x) => x !== undefined)
    ?? (r.here === undefined ? undefined : check(r.here, 'here', { board: str, backToBack: (v) => check(v, 'here.backToBack', figures) === undefined }));
}

/** A verify result file for the report: its pipeline figures as measured runs, and its stages. */
export function readVerifyFile(file: string, given: string): { result: VerifyResult; measured: MeasuredRun[]; verified: VerifiedPlan } {
  const json = readJsonFlag('verify', file, given);
  const r = json as VerifyResult;
  if (typeof json !== 'object' || json === null || r.schema !== VERIFY_SCHEMA || !Array.isArray(r.stages) || typeof r.backToBack !== 'object') {
    throw new UsageError('CLI_BAD_VALUE', `--verify ${given}: not a dnnpart verify result (schema ${VERIFY_SCHEMA}); write one with dnnpart verify -o <file>`);
  }
  const wrong = verifyResultProblem(r);
  if (wrong) throw new UsageError('CLI_BAD_VALUE', `--verify ${given}: ${wrong}; write the file with dnnpart verify -o <file>`);
  const run = (label: string, f: VerifyFigures): MeasuredRun => ({
    plan: label, measuredFps: f.measuredFps, measuredLatencyMs: f.measuredLatencyMs,
    ...(f.predictedFps !== null ? { predictedFps: f.predictedFps } : {}), ...(f.predictedLatencyMs !== null ? { predictedLatencyMs: f.predictedLatencyMs } : {}),
  });
  const name = path.basename(given);
  const fpsRuns = r.pipeline?.runs?.map((x) => x.fps);
  const pipelineRun = (label: string, f: VerifyFigures): MeasuredRun => ({ ...run(label, f), ...(fpsRuns && fpsRuns.length > 1 ? { measuredFpsRange: [Math.min(...fpsRuns), Math.max(...fpsRuns)] as const } : {}) });
  const measured = [run(`${name}: stages back to back`, r.backToBack), ...(r.here ? [run(`${name}: stages back to back, predicted on ${r.here.board}`, r.here.backToBack)] : []), ...(r.pipeline ? [pipelineRun(`${name}: pipeline on ${r.pipeline.cores} cores`, r.pipeline)] : [])];
  // The same measured pipeline against the plan's prediction (a board per stage) and this host's.
  if (r.pipeline?.planFps != null) measured.push({ ...pipelineRun(`${name}: pipeline, plan's prediction (a board per stage)`, r.pipeline), predictedFps: r.pipeline.planFps });
  // This host's latency counts the waits in the full queues that the measured one includes.
  if (r.pipeline?.host) {
    const h = r.pipeline.host;
    measured.push({ ...pipelineRun(`${name}: pipeline, predicted for this host (shared cores, handoffs)`, r.pipeline), predictedFps: h.predictedFps, ...(typeof h.latencyMs === 'number' ? { predictedLatencyMs: h.latencyMs } : {}) });
  }
  const verified: VerifiedPlan = {
    source: name, threads: r.settings.threads, runs: r.settings.runs, machine: r.machine.cpu,
    ...(r.reference ? { speedRatio: r.reference.ratio } : {}),
    stages: r.stages.map((x) => ({
      index: x.index, board: x.board, nodes: x.nodes, predictedMs: x.predictedMs, measuredMs: x.measuredMs, p90Ms: x.p90Ms,
      ...(x.scaledError !== undefined ? { scaledError: x.scaledError } : {}),
      ...(x.alone ? { aloneMs: x.alone.measuredMs } : {}),
      ...(x.here ? { here: { board: x.here.board, predictedMs: x.here.predictedMs, ...(x.here.scaledError !== undefined ? { scaledError: x.here.scaledError } : {}) } } : {}),
      ...(x.memory ? { predictedMemoryBytes: x.predictedMemoryBytes ?? null, measuredMemoryBytes: x.memory.peakBytes } : {}),
    })),
    ...(Array.isArray(r.notes) ? { notes: r.notes.filter((n): n is string => typeof n === 'string') } : {}),
  };
  return { result: r, measured, verified };
}
