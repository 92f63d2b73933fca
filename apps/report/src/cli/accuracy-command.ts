// dnnpart accuracy: a plan's fidelity against the full-precision model, measured by running its
// stages at their precisions with the cut tensors encoded as they would travel.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadModel, parseInputSpecs, type Graph } from '@dnnpart/onnx-graph';
import {
  evaluatePlan, folderSamples, parseTransferEncoding, precisions, readLabels,
  type CalibrationMethod, type Feeds, type PlanFidelity, type Precision,
} from '@dnnpart/accuracy';
import { bytes, fixed, table } from './_format.js';
import { asGiven, displayPath, resolvePath, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';

export interface AccuracyOptions {
  readonly model: string;
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
 * The stages of a plan file as a node -> stage map: a plan from `dnnpart solve --json` (stages with
 * board and nodes) or one kept under "plan". Every node of the model must be in exactly one stage.
 */
export function planStages(file: string, display: string, graph: Graph): PlanStages {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError('CLI_FILE_NOT_FOUND', `--plan ${display}: plan file not found`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: not JSON (${(e as Error).message})`);
  }
  const obj = json as { stages?: unknown; plan?: { stages?: unknown } } | null;
  const stages = Array.isArray(obj?.stages) ? obj.stages : Array.isArray(obj?.plan?.stages) ? obj.plan.stages : undefined;
  if (!stages || stages.length === 0) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages: missing; give a plan that has stages (dnnpart solve --json)`);
  const known = new Set(graph.nodes.map((n) => n.name));
  const stageOf: Record<string, number> = {};
  const boards: string[] = [];
  stages.forEach((s: unknown, k) => {
    const st = s as { board?: unknown; nodes?: unknown };
    if (!Array.isArray(st?.nodes) || st.nodes.some((n) => typeof n !== 'string')) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages[${k}].nodes: must be an array of node names`);
    boards.push(typeof st.board === 'string' ? st.board : `stage${k}`);
    (st.nodes as string[]).forEach((n, j) => {
      if (!known.has(n)) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages[${k}].nodes[${j}]: no node "${n}" in ${graph.name}; a plan of another model?`);
      if (stageOf[n] !== undefined) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages[${k}].nodes[${j}]: node "${n}" is already in stage ${stageOf[n]}`);
      stageOf[n] = k;
    });
  });
  const missing = graph.nodes.filter((n) => stageOf[n.name] === undefined);
  if (missing.length > 0) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: the stages leave out ${missing.length} node(s) of ${graph.name}, first "${missing[0]!.name}"`);
  return { boards, stageOf };
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

/** `dnnpart accuracy`. */
export async function accuracy(opts: AccuracyOptions, ctx: CommandContext): Promise<CommandOutput<AccuracyOutput>> {
  if (opts.plan && opts.splitAfter) throw new UsageError('CLI_CONFLICTING_FLAGS', 'give --plan or --split-after, not both');
  if (!opts.plan && !opts.splitAfter) throw new UsageError('CLI_MISSING_ARGUMENT', 'accuracy needs --plan <plan.json> or --split-after <node>[,<node>...] (see dnnpart accuracy --help)');
  if (opts.samples !== undefined && (!Number.isInteger(opts.samples) || opts.samples < 1)) throw new UsageError('CLI_BAD_VALUE', `--samples ${opts.samples}: give a whole number of at least 1`);
  const method = opts.calibrationMethod ?? 'minmax';
  if (method !== 'minmax' && method !== 'percentile') throw new UsageError('CLI_BAD_VALUE', `--calibration-method ${method}: use minmax or percentile`);
  const transfer = parseTransferEncoding(opts.transfer ?? 'fp32', '--transfer');
  const file = resolvePath(ctx, opts.model);
  const inputShapes = opts.input && opts.input.length > 0 ? parseInputSpecs([...opts.input]) : undefined;
  ctx.progress.note(`loading ${displayPath(ctx, file)}`);
  const model = await asGiven(ctx, [file], () => loadModel(file, inputShapes ? { inputShapes } : {}));
  const { graph } = model;

  let split: { after: string[] } | { stages: Record<string, number> };
  let boards: string[];
  if (opts.plan) {
    const p = planStages(resolvePath(ctx, opts.plan), opts.plan, graph);
    split = { stages: p.stageOf };
    boards = p.boards;
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
    const s = await asGiven(ctx, dirs, () => folderSamples(graph, dir));
    inputs = opts.samples !== undefined ? s.feeds.slice(0, opts.samples) : s.feeds;
    if (opts.labels) labels = await asGiven(ctx, [resolvePath(ctx, opts.labels)], () => readLabels(resolvePath(ctx, opts.labels!), s.files.slice(0, inputs!.length), inputs!.length));
    ctx.progress.note(`${inputs.length} input(s) from ${displayPath(ctx, dir)}`);
  } else if (opts.labels) throw new UsageError('CLI_CONFLICTING_FLAGS', '--labels needs --data <dir> (labels of generated inputs mean nothing)');
  let calibration: Feeds[] | undefined;
  if (opts.calibration) {
    const dir = resolvePath(ctx, opts.calibration);
    calibration = (await asGiven(ctx, dirs, () => folderSamples(graph, dir))).feeds;
  }

  const result = await asGiven(ctx, dirs, () => evaluatePlan(model, {
    split,
    precision,
    transfer,
    ...(inputs ? { inputs } : { samples: opts.samples ?? 32 }),
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(labels ? { labels } : {}),
    ...(calibration ? { calibration } : {}),
    calibrationMethod: method as CalibrationMethod,
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
    `${r.model}: ${r.stages.length} stage(s) on ${r.boards.join(' > ')}, ${r.samples} ${r.inputs} sample(s)`,
    `cosine ${fixed(r.cosine, 6)} (worst ${fixed(r.cosineMin, 6)}), SQNR ${db(r.sqnrDb)}`
      + (r.top1Agreement !== undefined ? `, top-1 agreement ${pct(r.top1Agreement, r.top1Interval)}` : '')
      + (r.top5Agreement !== undefined ? `, top-5 ${pct(r.top5Agreement, r.top5Interval)}` : ''),
  ];
  if (r.referenceTop1 !== undefined) lines.push(`true top-1: ${pct(r.top1)} (full precision ${pct(r.referenceTop1)})`);
  lines.push(`transfers: ${bytes(r.transferBytes)} per inference${saved}`, '');
  lines.push(table(
    ['stage', 'board', 'nodes', 'precision', 'stage cosine', 'stage SQNR', 'sends', 'as fp32', 'float32 nodes'],
    r.stages.map((s) => [
      String(s.index), r.boards[s.index] ?? '', String(s.nodes), s.precision,
      s.fidelity ? fixed(s.fidelity.cosine, 6) : '—', s.fidelity ? db(s.fidelity.sqnrDb) : '—',
      s.sendBytes ? `${bytes(s.sendBytes)} ${s.transfer}` : '—', s.fp32SendBytes ? bytes(s.fp32SendBytes) : '—', String(s.float32Nodes.length),
    ]),
  ));
  return lines.join('\n');
}
