// dnnpart accuracy: a plan's fidelity against the full-precision model, measured by running its
// stages at their precisions with the cut tensors encoded as they would travel.
import { parseInputSpecs, type LoadedModel } from '@dnnpart/onnx-graph';
import {
  evaluatePlan, folderSamples, isAccuracyError, parseTransferEncoding, precisions, readLabels,
  type CalibrationMethod, type Feeds, type PlanFidelity, type Precision,
} from '@dnnpart/accuracy';
import { bytes, fixed, table } from './_format.js';
import { loadPlannedModel, planStageMap, readPlanFile } from './_plan-file.js';
import { asGiven, displayPath, resolvePath, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';

export interface AccuracyOptions {
  readonly model: string;
  /** A plan from `dnnpart solve --json` / `verify --json`, or a report's plans.json (its first optimum). */
  readonly plan?: string;
  readonly splitAfter?: readonly string[];
  readonly transfer?: string;
  /** One precision, one per stage (`int8,fp16`), or per board (`orin=fp16,pi=int8`). */
  readonly stagePrecision?: readonly string[];
  readonly samples?: number;
  readonly seed?: number;
  readonly input?: readonly string[];
  /** A folder of .npy files or images for int8 calibration. */
  readonly calibration?: string;
  readonly calibrationMethod?: string;
  /** A folder of .npy files or images to evaluate on (default: generated inputs). */
  readonly data?: string;
  readonly labels?: string;
  /** Also time each stage here at fp32 and at its precision. */
  readonly time?: boolean;
  readonly threads?: number;
}

/** `accuracy --json`. */
export interface AccuracyOutput extends PlanFidelity {
  readonly model: string;
  readonly boards: readonly string[];
}

interface PlanStages {
  readonly boards: string[];
  readonly stageOf: Record<string, number>;
}

/**
 * The stages of a plan file (what `dnnpart solve --json` writes, a verify result, or a row of a
 * report's plans.json) as a node -> stage map of this model (the library's; accuracy reads the file once itself).
 */
export function planStages(file: string, display: string, model: LoadedModel, modelDisplay: string): PlanStages {
  const plan = readPlanFile(file, display);
  const stageOf = planStageMap(plan, model.graph, model.sha256, display, modelDisplay);
  return { boards: plan.stages.map((s) => s.board), stageOf };
}

/** Per-stage precisions from `--stage-precision`: one value, one per stage, or board=precision pairs. */
export function stagePrecisions(values: readonly string[] | undefined, boards: readonly string[]): Precision[] {
  const all = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  const check = (p: string): Precision => {
    if ((precisions as readonly string[]).includes(p)) return p as Precision;
    throw new UsageError('CLI_BAD_VALUE', `--stage-precision: "${p}" is not a precision; use fp32, fp16 or int8`);
  };
  if (all.length === 0) return boards.map(() => 'fp32');
  if (all.some((v) => v.includes('='))) {
    const byBoard = new Map<string, Precision>();
    for (const v of all) {
      const [b, p] = v.split('=');
      if (!b || !p) throw new UsageError('CLI_BAD_VALUE', `--stage-precision: "${v}": give board=precision for every board, e.g. orin=fp16`);
      if (!boards.includes(b)) throw new UsageError('CLI_BAD_VALUE', `--stage-precision: no board "${b}" in the plan (boards: ${boards.join(', ')})`);
      byBoard.set(b, check(p));
    }
    return boards.map((b) => byBoard.get(b) ?? 'fp32');
  }
  if (all.length === 1) return boards.map(() => check(all[0]!));
  if (all.length !== boards.length) throw new UsageError('CLI_BAD_VALUE', `--stage-precision: ${all.length} precisions for ${boards.length} stages; give one, one per stage, or board=precision`);
  return all.map(check);
}

/** Runs `fn`; an accuracy error it throws names `flag` first (the message starts with the path given). */
function flagged<T>(flag: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isAccuracyError(e)) e.message = `${flag} ${e.message}`;
    throw e;
  }
}

/** `dnnpart accuracy`. */
export async function accuracy(opts: AccuracyOptions, ctx: CommandContext): Promise<CommandOutput<AccuracyOutput>> {
  if (opts.plan && opts.splitAfter) throw new UsageError('CLI_CONFLICTING_FLAGS', 'give --plan or --split-after, not both');
  if (!opts.plan && !opts.splitAfter) throw new UsageError('CLI_MISSING_ARGUMENT', 'accuracy needs --plan <plan.json> or --split-after <node>[,<node>...] (see dnnpart accuracy --help)');
  if (opts.threads !== undefined && (!Number.isInteger(opts.threads) || opts.threads < 1)) throw new UsageError('CLI_BAD_VALUE', `--threads ${opts.threads}: give a whole number of at least 1`);
  if (opts.samples !== undefined && (!Number.isInteger(opts.samples) || opts.samples < 1)) throw new UsageError('CLI_BAD_VALUE', `--samples ${opts.samples}: give a whole number of at least 1`);
  const method = opts.calibrationMethod ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile') throw new UsageError('CLI_BAD_VALUE', `--calibration-method ${method}: use minmax or percentile`);
  const transfer = parseTransferEncoding(opts.transfer ?? 'fp32', '--transfer');
  const file = resolvePath(ctx, opts.model);
  const inputShapes = opts.input && opts.input.length > 0 ? parseInputSpecs([...opts.input]) : undefined;
  ctx.progress.note(`loading ${displayPath(ctx, file)}`);
  // The plan file (what `dnnpart solve --json` writes, a verify result, or a row of a report's
  // plans.json); without --input, a model with dynamic dims takes the shapes it was solved for.
  const plan = opts.plan ? readPlanFile(resolvePath(ctx, opts.plan), opts.plan) : undefined;
  const model = await asGiven(ctx, [file], () => loadPlannedModel(file, inputShapes, plan?.model, (m) => ctx.progress.note(m)));
  const { graph } = model;

  let split: { after: string[] } | { stages: Record<string, number> };
  let boards: string[];
  if (plan) {
    split = { stages: planStageMap(plan, graph, model.sha256, opts.plan!, displayPath(ctx, file)) };
    boards = plan.stages.map((s) => s.board);
  } else {
    split = { after: [...opts.splitAfter!] };
    boards = Array.from({ length: opts.splitAfter!.length + 1 }, (_, k) => `stage${k}`);
  }
  const precision = stagePrecisions(opts.stagePrecision, boards);

  let inputs: Feeds[] | undefined;
  let labels: number[] | undefined;
  const dirs = [opts.data, opts.calibration].filter((d): d is string => d !== undefined).map((d) => resolvePath(ctx, d));
  if (opts.data) {
    const dir = resolvePath(ctx, opts.data);
    const s = await asGiven(ctx, dirs, () => flagged('--data', () => folderSamples(graph, dir)));
    inputs = opts.samples !== undefined ? s.feeds.slice(0, opts.samples) : s.feeds;
    if (opts.labels) labels = await asGiven(ctx, [resolvePath(ctx, opts.labels)], () => readLabels(resolvePath(ctx, opts.labels!), s.files.slice(0, inputs!.length), inputs!.length));
    ctx.progress.note(`${inputs.length} input(s) from ${displayPath(ctx, dir)}`);
  } else if (opts.labels) throw new UsageError('CLI_CONFLICTING_FLAGS', '--labels needs --data <dir> (labels of generated inputs mean nothing)');
  let calibration: Feeds[] | undefined;
  if (opts.calibration) {
    const dir = resolvePath(ctx, opts.calibration);
    calibration = (await asGiven(ctx, dirs, () => flagged('--calibration', () => folderSamples(graph, dir)))).feeds;
  }

  const result = await asGiven(ctx, dirs, () => evaluatePlan(model, {
    split,
    precision,
    transfer,
    // A plan that sends the model inputs over a link to its first stage sends them encoded too.
    ...(plan?.inputCrosses ? { inputTransfer: transfer } : {}),
    ...(inputs ? { inputs } : { samples: opts.samples ?? 32 }),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(labels ? { labels } : {}),
    ...(calibration ? { calibration } : {}),
    calibrationMethod: method as CalibrationMethod,
    ...(opts.time ? { time: { runs: 10, warmup: 2, ...(opts.threads !== undefined ? { threads: opts.threads } : {}) } } : {}),
    onProgress: (m, d, t) => ctx.progress.update(m, d, t),
  }));
  for (const w of result.warnings) ctx.progress.note(`warning: ${w}`);
  const data: AccuracyOutput = { model: displayPath(ctx, file), boards, ...result };
  return { data, text: accuracyText(data) };
}

function pct(v: number | undefined, interval?: readonly [number, number]): string {
  if (v === undefined) return '—';
  return `${(v * 100).toFixed(1)}%${interval ? ` [${(interval[0] * 100).toFixed(1)}, ${(interval[1] * 100).toFixed(1)}]` : ''}`;
}

function db(v: number): string {
  return Number.isFinite(v) ? `${v.toFixed(1)} dB` : v > 0 ? 'exact' : '-inf dB';
}

/** The human summary of `accuracy`. */
export function accuracyText(r: AccuracyOutput): string {
  const saved = r.fp32TransferBytes > 0 ? ` (${((1 - r.transferBytes / r.fp32TransferBytes) * 100).toFixed(1)}% less than fp32's ${bytes(r.fp32TransferBytes)})` : '';
  const lines = [
    `${r.model}: ${r.stages.length} stage(s) on ${r.boards.join(' > ')}, ${r.samples} ${r.inputs} sample(s)`
      // Noise is a harsh proxy for real inputs (Moonshine's encoder in fp16: 0.93 on it, 0.996 on audio).
      + (r.inputs === 'generated' ? ' (uniform noise in [-1, 1]; --data <dir> scores your own inputs)' : ''),
    `cosine ${fixed(r.cosine, 6)} (worst ${fixed(r.cosineMin, 6)}), SQNR ${db(r.sqnrDb)}`
      + (r.top1Agreement !== undefined ? `, top-1 agreement${r.classesPer === 'pixel' ? ' per pixel' : ''} ${pct(r.top1Agreement, r.top1Interval)}` : '')
      + (r.top5Agreement !== undefined ? `, top-5 ${pct(r.top5Agreement, r.top5Interval)}` : ''),
  ];
  if (r.referenceTop1 !== undefined) lines.push(`true top-1: ${pct(r.top1)} (full precision ${pct(r.referenceTop1)})`);
  lines.push(`transfers: ${bytes(r.transferBytes)} per inference${saved}${r.inputTransfer ? `; the model inputs rounded as ${r.inputTransfer} too, as the plan sends them over a link to its first stage` : ''}`, '');
  const timed = r.stages.some((s) => s.timing);
  lines.push(table(
    ['stage', 'board', 'nodes', 'precision', 'stage cosine', 'stage SQNR', 'sends', 'as fp32', 'float32 nodes', ...(timed ? ['ms here', 'fp32 ms here'] : [])],
    r.stages.map((s) => [
      String(s.index), r.boards[s.index] ?? '', String(s.nodes), s.precision,
      s.fidelity ? fixed(s.fidelity.cosine, 6) : '—', s.fidelity ? db(s.fidelity.sqnrDb) : '—',
      s.sendBytes ? `${bytes(s.sendBytes)} ${s.transfer}` : '—', s.fp32SendBytes ? bytes(s.fp32SendBytes) : '—', String(s.float32Nodes.length),
      ...(timed ? [fixed(s.timing?.ms, 2), fixed(s.timing?.fp32Ms, 2)] : []),
    ]),
  ));
  return lines.join('\n');
}
