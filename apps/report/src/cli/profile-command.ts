// dnnpart profile: measure a model on this machine and write its board profile.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseInputSpecs } from '@dnnpart/onnx-graph';
import { loadBoardDescription, profileModel, type BoardDescription, type Profile } from '@dnnpart/profiler';
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
}

export interface ProfileSummary {
  readonly file: string;
  readonly board: string;
  readonly model: string;
  readonly endToEndMedianMs: number;
  readonly endToEndP90Ms: number;
  readonly nodeSumToEndToEnd?: number;
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
  const inputShapes = opts.input && opts.input.length > 0 ? parseInputSpecs([...opts.input]) : undefined;
  const p = await asGiven(ctx, [model, out], () => profileModel(model, {
    board: opts.board,
    ...(inputShapes ? { inputShapes } : {}),
    ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
    ...(opts.warmup !== undefined ? { warmup: opts.warmup } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(boardDescription ? { boardDescription } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    // The profiler checks the path is writable before the runs and writes it atomically after.
    output: out,
    onProgress: (e) => ctx.progress.update(phaseLabel(e.phase), e.done, e.total),
  }));
  ctx.progress.end();
  const summary = summarise(p, out);
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
    powerSource: p.power.source,
    ...(p.power.energyPerInferenceMj !== undefined ? { energyPerInferenceMj: p.power.energyPerInferenceMj } : {}),
    topNodes: top.map((n) => ({ name: n.name, op: n.op, medianMs: n.latencyMs.median, share: n.latencyMs.median / total })),
    warnings: p.warnings,
  };
}

function formatSummary(s: ProfileSummary, ctx: CommandContext): string {
  return [
    `${s.model} on ${s.board}: end-to-end median ${fixed(s.endToEndMedianMs)} ms (p90 ${fixed(s.endToEndP90Ms)} ms)` +
      (s.nodeSumToEndToEnd !== undefined ? `, node sum / end-to-end ${fixed(s.nodeSumToEndToEnd)}` : ''),
    `power: ${s.powerSource}${s.energyPerInferenceMj !== undefined ? `, ${fixed(s.energyPerInferenceMj)} mJ per inference` : ''}`,
    'top layers by time:',
    table(['node', 'op', 'median ms', 'share'], s.topNodes.map((n) => [n.name, n.op, fixed(n.medianMs, 3), `${(n.share * 100).toFixed(1)}%`])),
    ...s.warnings.map((w) => `warning: ${w}`),
    `profile written to ${displayPath(ctx, s.file)}`,
  ].join('\n');
}
