// dnnpart profile: measure a model on this machine and write its board profile.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseInputSpecs } from '@dnnpart/onnx-graph';
import { loadBoardDescription, profileModel, type BoardDescription, type EncodingCosts, type Profile } from '@dnnpart/profiler';
import { resolveRef } from '../system/load.js';
import { phaseLabel } from '../system/resolve.js';
import { fixed, table } from './_format.js';
import { asGiven, displayPath, resolvePath, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';

export interface ProfileOptions {
  readonly model: string;
  readonly board: string;
  readonly input?: readonly string[];
  readonly output?: string;
  readonly runs?: number;
  readonly warmup?: number;
  readonly threads?: number;
  /** A board description (path, or a name in profiles/boards) for estimated power. */
  readonly describe?: string;
  /** A Chrome trace of the profiled runs to write. */
  readonly trace?: string;
  /** "calibrate" (default): measure the boundary cost first; "default": record DEFAULT_BOUNDARY. */
  readonly boundary?: string;
}

export interface ProfileSummary {
  readonly file: string;
  readonly board: string;
  readonly model: string;
  readonly endToEndMedianMs: number;
  readonly endToEndP90Ms: number;
  readonly nodeSumToEndToEnd?: number;
  /** Σ profiled (uncorrected) node medians / end-to-end median. */
  readonly rawNodeSumToEndToEnd?: number;
  readonly boundary?: { readonly fixedMs: number; readonly inMsPerByte: number; readonly outMsPerByte: number; readonly method: string; readonly fitR2?: number; readonly encodings?: EncodingCosts };
  /** Σ node medians + the boundary cost of the model's inputs and outputs: a whole-model single stage's prediction. */
  readonly singleStageMs?: number;
  readonly trace?: string;
  readonly powerSource: string;
  readonly energyPerInferenceMj?: number;
  readonly topNodes: readonly { readonly name: string; readonly op: string; readonly medianMs: number; readonly share: number }[];
  readonly warnings: readonly string[];
}


/** `dnnpart profile`: run the model, write the profile atomically, summarise it. */
export async function profile(opts: ProfileOptions, ctx: CommandContext): Promise<CommandOutput<ProfileSummary>> {
  const model = resolvePath(ctx, opts.model);
  const out = opts.output
    ? resolvePath(ctx, opts.output)
    : path.join(path.dirname(model), `${path.basename(model).replace(/\.onnx$/i, '')}.${opts.board}.profile.json`);
  let boardDescription: BoardDescription | undefined;
  if (opts.describe) {
    const file = resolveRef(opts.describe, ctx.cwd, 'boards');
    if (!existsSync(file)) throw new UsageError('CLI_FILE_NOT_FOUND', `--describe: board description not found: ${opts.describe}`);
    boardDescription = await loadBoardDescription(file);
  }
  if (opts.boundary !== undefined && opts.boundary !== 'calibrate' && opts.boundary !== 'default') {
    throw new UsageError('CLI_BAD_VALUE', `--boundary must be calibrate or default, got ${JSON.stringify(opts.boundary)}`);
  }
  const trace = opts.trace ? resolvePath(ctx, opts.trace) : undefined;
  const inputShapes = opts.input && opts.input.length > 0 ? parseInputSpecs([...opts.input]) : undefined;
  const p = await asGiven(ctx, [model, out, ...(trace ? [trace] : [])], () => profileModel(model, {
    board: opts.board,
    ...(inputShapes ? { inputShapes } : {}),
    ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
    ...(opts.warmup !== undefined ? { warmup: opts.warmup } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(boardDescription ? { boardDescription } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    ...(opts.boundary === 'default' ? {} : { boundary: 'calibrate' as const }),
    ...(trace ? { trace } : {}),
    // The profiler checks the path is writable before the runs and writes it atomically after.
    output: out,
    onProgress: (e) => ctx.progress.update(phaseLabel(e.phase), e.done, e.total),
  }));
  ctx.progress.end();
  const summary = { ...summarise(p, out), ...(trace ? { trace } : {}) };
  return { data: summary, text: formatSummary(summary, ctx) };
}

/** The figures the profile command prints. */
export function summarise(p: Profile, file: string): ProfileSummary {
  const total = p.nodes.reduce((s, n) => s + n.latencyMs.median, 0) || 1;
  const top = [...p.nodes].sort((a, b) => b.latencyMs.median - a.latencyMs.median).slice(0, 5);
  return {
    file,
    board: p.board.name,
    model: p.model.name,
    endToEndMedianMs: p.endToEnd.medianMs,
    endToEndP90Ms: p.endToEnd.p90Ms,
    ...(p.nodeSumToEndToEnd !== undefined ? { nodeSumToEndToEnd: p.nodeSumToEndToEnd } : {}),
    ...(p.correction ? { rawNodeSumToEndToEnd: p.correction.rawNodeSumToEndToEnd, singleStageMs: round3(p.nodes.reduce((s, n) => s + n.latencyMs.median, 0) + p.correction.boundaryMs) } : {}),
    ...(p.boundary ? { boundary: { fixedMs: p.boundary.fixedMs, inMsPerByte: p.boundary.inMsPerByte, outMsPerByte: p.boundary.outMsPerByte, method: p.boundary.method, ...(p.boundary.fitR2 !== undefined ? { fitR2: p.boundary.fitR2 } : {}), ...(p.boundary.encodings ? { encodings: p.boundary.encodings } : {}) } } : {}),
    powerSource: p.power.source,
    ...(p.power.energyPerInferenceMj !== undefined ? { energyPerInferenceMj: p.power.energyPerInferenceMj } : {}),
    topNodes: top.map((n) => ({ name: n.name, op: n.op, medianMs: n.latencyMs.median, share: n.latencyMs.median / total })),
    warnings: p.warnings,
  };
}

function formatSummary(s: ProfileSummary, ctx: CommandContext): string {
  return [
    `${s.model} on ${s.board}: end-to-end median ${fixed(s.endToEndMedianMs)} ms (p90 ${fixed(s.endToEndP90Ms)} ms)` +
      (s.nodeSumToEndToEnd !== undefined ? `, node sum / end-to-end ${fixed(s.nodeSumToEndToEnd)}` : '') +
      (s.rawNodeSumToEndToEnd !== undefined ? ` (${fixed(s.rawNodeSumToEndToEnd)} as profiled)` : ''),
    ...(s.boundary
      ? [`stage boundary (${s.boundary.method}): ${fixed(s.boundary.fixedMs, 3)} ms + ${fixed(s.boundary.inMsPerByte * 1e6, 3)} ms/MB in + ${fixed(s.boundary.outMsPerByte * 1e6, 3)} ms/MB out` +
          (s.boundary.fitR2 !== undefined ? ` (fit R² ${fixed(s.boundary.fitR2)})` : '') +
          (s.singleStageMs !== undefined ? `; whole model as one stage ${fixed(s.singleStageMs)} ms` : '')]
      : []),
    ...(s.boundary?.encodings
      ? [`encoding tensors for a link (${s.boundary.encodings.method}), encode / decode: int8 ${fixed(s.boundary.encodings.int8.encodeMsPerByte * 1e6, 3)} / ${fixed(s.boundary.encodings.int8.decodeMsPerByte * 1e6, 3)} ms/MB, fp16 ${fixed(s.boundary.encodings.fp16.encodeMsPerByte * 1e6, 3)} / ${fixed(s.boundary.encodings.fp16.decodeMsPerByte * 1e6, 3)} ms/MB of float32`]
      : []),
    `power: ${s.powerSource}${s.energyPerInferenceMj !== undefined ? `, ${fixed(s.energyPerInferenceMj)} mJ per inference` : ''}${s.powerSource === 'unavailable' ? ' (no power sensor here; --describe <board.yaml> estimates it from the description)' : ''}`,
    'top layers by time:',
    table(['node', 'op', 'median ms', 'share'], s.topNodes.map((n) => [n.name, n.op, fixed(n.medianMs, 3), `${(n.share * 100).toFixed(1)}%`])),
    ...s.warnings.map((w) => `warning: ${w}`),
    ...(s.trace ? [`trace written to ${displayPath(ctx, s.trace)} (open in https://ui.perfetto.dev or chrome://tracing)`] : []),
    `profile written to ${displayPath(ctx, s.file)}`,
  ].join('\n');
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
