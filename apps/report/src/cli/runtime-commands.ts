// The runtime commands: `dnnpart agent` (serve this board), `agents` (who answers), `link`
// (measure every directed pair), `profile --agents` (profile on every board at once) and `run`
// (deploy a plan and stream frames through it). Each is a thin layer over @dnnpart/runtime.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseInputSpecs, type LoadedModel } from '@dnnpart/onnx-graph';
import { loadBoardDescription, writeProfile } from '@dnnpart/profiler';
import {
  RuntimeError,
  checkAgents,
  linksYaml,
  loadAgentsFile,
  measureLinks,
  profileOnAgents,
  agentOptionsFromFlags,
  sharedMachines,
  runPlan,
  startAgent,
  enterWorkDir,
  type WireEncoding,
  type Engine,
  type RunOutput,
  type RunPlan,
  type AgentFlags,
} from '@dnnpart/runtime';
import { buildZooModel, type ZooInputShape } from '@dnnpart/zoo';
import { loadSystem } from '../system/load.js';
import { fixed, si, table } from './_format.js';
import { displayPath, ensureDir, resolvePath, writeOutput, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';
import { checkInputsMatchSystem } from './_system-input.js';
import { checkPlanModel, hopEncodings, inputHopEncoding, loadPlannedModel, planModelOf, planOfJson, planTransferOf, readPlanJson, systemTransfer, type PlanModel, type PlanTransfer } from './_plan-file.js';

/** `dnnpart agent`'s options: dnnpart-agent's flags (AgentFlags), files taken from the working directory. */
export type AgentCommandOptions = AgentFlags;

/** `dnnpart agent`: serve Info, Profile, LinkTest and Stage until interrupted. */
export async function agent(opts: AgentCommandOptions, ctx: CommandContext): Promise<CommandOutput<{ address: string }>> {
  const log = (line: string) => ctx.progress.note(`agent: ${line}`);
  const files = Object.fromEntries((['tokenFile', 'tlsCert', 'tlsKey', 'tlsCa'] as const).flatMap((k) => (opts[k] === undefined ? [] : [[k, resolvePath(ctx, opts[k])]])));
  // The same checks, files and defaults as dnnpart-agent: one function for both commands.
  const options = agentOptionsFromFlags({ ...opts, ...files }, log);
  // Its temporary files in a directory of its own, and what killed agents left removed (as dnnpart-agent does).
  const work = enterWorkDir(log);
  let running: Awaited<ReturnType<typeof startAgent>>;
  try {
    running = await startAgent(options);
  } catch (e) {
    work.release();
    throw e;
  }
  // Serve until Ctrl-C; an agent has no other end.
  await new Promise<void>((resolve) => {
    if (ctx.signal?.aborted) return resolve();
    ctx.signal?.addEventListener('abort', () => resolve(), { once: true });
  });
  await running.close();
  work.release();
  return { data: { address: running.address }, text: `agent on ${running.address} stopped` };
}

function agentsOf(ctx: CommandContext, file: string) {
  return loadAgentsFile(resolvePath(ctx, file), file).agents;
}

/** `dnnpart agents`: each agent's facts; exit 2 naming the first agent that does not answer or refuses. */
export async function agents(opts: { readonly file: string }, ctx: CommandContext): Promise<CommandOutput> {
  const list = agentsOf(ctx, opts.file);
  ctx.progress.note(`asking ${list.length} agents`);
  const status = await checkAgents(list);
  const rows = status.map((s) => [
    s.id, s.address, s.ok ? 'yes' : 'NO',
    s.info ? `${s.info.board.cpu}, ${s.info.board.cores} cores, ${si(s.info.board.memoryBytes, 'B')}` : (s.error ?? ''),
    s.info ? s.info.engines.join(' ') : '',
    s.info ? s.info.onnxruntime : '',
    // Whether tensors of 32 MiB or more a stage hands back reuse memory (glibc started with REUSE_ENV).
    s.info?.outputMemory ?? '—',
    s.ms !== undefined ? fixed(s.ms, 1) : '—',
  ]);
  // Agents on one machine share its cores and talk over its loopback: said, with what that means for profiles and links.
  const shared = sharedMachines(status.flatMap((s) => (s.info ? [{ id: s.id, address: s.address, cores: s.info.board.cores }] : [])));
  const text = [
    table(['agent', 'address', 'answers', 'board', 'engines', 'onnxruntime', 'output memory', 'ms'], rows),
    ...shared.map((m) => `agents ${m.agents.join(', ')} run on one machine (${m.host === 'loopback' ? 'this one' : m.host}, ${m.cores} cores): profile them one at a time, and their links are that machine's, not a network's; a run of stages on them shares its cores`),
  ].join('\n');
  const bad = status.filter((s) => !s.ok);
  if (bad.length > 0) {
    ctx.progress.note(text);
    const first = bad[0]!;
    throw new RuntimeError(first.code === 'RUNTIME_UNAUTHENTICATED' ? 'RUNTIME_UNAUTHENTICATED' : 'RUNTIME_UNAVAILABLE', `${opts.file}: ${first.error ?? `agent ${first.id} does not answer`}${bad.length > 1 ? ` (and ${bad.length - 1} more: ${bad.slice(1).map((b) => b.id).join(', ')})` : ''}`);
  }
  return { data: status, text };
}

/** `dnnpart link`: measure every directed pair of agents and write a links file. */
export async function link(opts: { readonly agents: string; readonly output: string; readonly repeats?: number; readonly maxBytes?: number }, ctx: CommandContext): Promise<CommandOutput> {
  const list = agentsOf(ctx, opts.agents);
  const out = resolvePath(ctx, opts.output);
  const max = opts.maxBytes ?? 16 << 20;
  const sizes: number[] = [];
  for (let s = 1024; s <= max; s *= 4) sizes.push(s);
  if (sizes.length < 2) throw new UsageError('CLI_BAD_VALUE', `--max-bytes ${max}: give at least 4096 so two payload sizes can be fitted`);
  const links = await measureLinks(list, { sizes, ...(opts.repeats ? { repeats: opts.repeats } : {}), onProgress: (done, total, pair) => ctx.progress.update(`measuring ${pair}`, done, total) });
  ctx.progress.end();
  await writeOutput(out, opts.output, linksYaml(links, `from ${opts.agents}`));
  const text = [
    table(['link', 'latency ms', 'bandwidth', 'rtt ms', `ms @ ${si(sizes[sizes.length - 1]!, 'B')}`], links.map((l) => [
      `${l.from} -> ${l.to}`, fixed(l.latencyMs, 3), `${si(l.bandwidthBytesPerSec, 'B/s')} (${si(l.bandwidthBytesPerSec * 8, 'bit/s')})`, fixed(l.rttMs, 3), fixed(l.samples[l.samples.length - 1]?.ms, 2),
    ])),
    `wrote ${displayPath(ctx, out)} (reference it from a system file as linksFile: ${path.basename(out)})`,
  ].join('\n');
  return { data: { file: out, links }, text };
}

/** `dnnpart profile --agents`: profile the model on every agent at once, `<dir>/<id>.profile.json` each. */
export async function profileAgents(
  opts: { readonly agents: string; readonly model: string; readonly output: string; readonly runs?: number; readonly warmup?: number; readonly threads?: number; readonly boundary?: string; readonly input?: readonly string[] },
  ctx: CommandContext,
): Promise<CommandOutput> {
  if (opts.boundary !== undefined && opts.boundary !== 'calibrate' && opts.boundary !== 'default') {
    throw new UsageError('CLI_BAD_VALUE', `--boundary must be calibrate or default, got ${JSON.stringify(opts.boundary)}`);
  }
  const list = agentsOf(ctx, opts.agents);
  const model = resolvePath(ctx, opts.model);
  if (!existsSync(model) || !statSync(model).isFile()) throw new UsageError('CLI_FILE_NOT_FOUND', `${opts.model}: model not found`);
  const dir = resolvePath(ctx, opts.output);
  await ensureDir(dir, opts.output);
  let done = 0;
  ctx.progress.update('profiling on the agents', 0, list.length);
  const profiles = await profileOnAgents(list, model, {
    ...(opts.runs !== undefined ? { runs: opts.runs } : {}),
    ...(opts.warmup !== undefined ? { warmup: opts.warmup } : {}),
    ...(opts.threads !== undefined ? { threads: opts.threads } : {}),
    ...(opts.boundary !== undefined ? { boundary: opts.boundary } : {}),
    // A model's dynamic input dims (and an input's fixed value), as for a profile here.
    ...(opts.input && opts.input.length > 0 ? { inputShapes: parseInputSpecs([...opts.input]) } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onDone: (id) => ctx.progress.update(`profiled ${id}`, ++done, list.length),
  });
  ctx.progress.end();
  const files: { id: string; file: string; endToEndMedianMs: number }[] = [];
  for (const { id, profile } of profiles) {
    const file = path.join(dir, `${id}.profile.json`);
    await writeProfile(file, profile);
    files.push({ id, file, endToEndMedianMs: profile.endToEnd.medianMs });
  }
  const text = [
    table(['board', 'end-to-end ms', 'file'], files.map((f) => [f.id, fixed(f.endToEndMedianMs), displayPath(ctx, f.file)])),
  ].join('\n');
  return { data: files, text };
}

export interface RunCommandOptions {
  readonly plan: string;
  readonly agents: string;
  readonly model?: string;
  readonly system?: string;
  readonly input?: readonly string[];
  readonly frames?: number;
  readonly rate?: number;
  readonly trace?: string;
  readonly stallTimeoutS?: number;
  readonly threads?: number;
  /** How float tensors travel between stages; default: the system file's (`transfer`, `links[].transfer`), else fp32. */
  readonly transfer?: string;
}

/** A plan file for `run`: its plan (`dnnpart solve --json`, or a verify result's), and the model it names (solve --system --json, verify --json). */
export function readRunPlan(file: string, display: string): { plan: RunPlan; model: PlanModel | undefined; transfer: PlanTransfer | undefined } {
  const json = readPlanJson(file, display);
  return { plan: planOfJson(json, display) as unknown as RunPlan, model: planModelOf(json), transfer: planTransferOf(json, display) };
}

/** The model of a run and the engine each board's figures assume (from the system file's descriptions). */
async function runModelAndEngines(opts: RunCommandOptions, ctx: CommandContext, planned: PlanModel | undefined): Promise<{ model: LoadedModel; engines: Record<string, Engine>; transfer?: PlanTransfer }> {
  if (opts.model && opts.system) throw new UsageError('CLI_CONFLICTING_FLAGS', 'give --model or --system, not both');
  if (!opts.model && !opts.system) throw new UsageError('CLI_MISSING_ARGUMENT', 'run needs the model: --model <m.onnx>, or --system <system.yaml> (see dnnpart run --help)');
  const engines: Record<string, Engine> = {};
  let source: string | Uint8Array;
  let input = opts.input;
  let systemInput: readonly string[] | undefined;
  let transfer: PlanTransfer | undefined;
  if (opts.system) {
    const spec = loadSystem(resolvePath(ctx, opts.system), opts.system);
    systemInput = spec.model.input;
    for (const b of spec.boards) {
      // A measured profile was made with onnxruntime-node on the CPU; a description says what it assumes.
      const d = b.describe && !b.profile && !b.measure ? await loadBoardDescription(b.describe) : undefined;
      engines[b.id] = (d?.engine as Engine | undefined) ?? 'onnxruntime-cpu';
    }
    input ??= spec.model.input;
    transfer = systemTransfer(spec);
    if (spec.model.zoo) {
      const shape = input && input.length === 1 && !input[0]!.includes('=') ? (parseInputSpecs([...input]) as unknown as ZooInputShape) : undefined;
      source = buildZooModel(spec.model.zoo, { ...(shape ? { inputShape: shape } : {}), ...(spec.model.seed !== undefined ? { seed: spec.model.seed } : {}) });
    } else source = spec.model.file!;
  } else {
    source = resolvePath(ctx, opts.model!);
    if (!existsSync(source)) throw new UsageError('CLI_FILE_NOT_FOUND', `--model ${opts.model}: model not found`);
  }
  const inputShapes = input && input.length > 0 ? parseInputSpecs([...input]) : undefined;
  const model = await loadPlannedModel(source, inputShapes, planned, (m) => ctx.progress.note(m));
  if (opts.system && systemInput && systemInput.length > 0) checkInputsMatchSystem(model.graph, parseInputSpecs([...systemInput]), opts.input, opts.system);
  return { model, engines, ...(transfer ? { transfer } : {}) };
}

/** Encoded hops: what encoding took on the sender and decoding on the receiver, which a plan's transfer time does not hold. One line each. */
export function codingLines(r: RunOutput): string[] {
  return r.stages
    .filter((s) => s.transferIn.encoding !== undefined && (s.transferIn.encodeMs !== undefined || s.transferIn.decodeMs !== undefined))
    .map((s) => `${s.transferIn.encoding} into stage ${s.stage}: ${s.stage === 0 && s.transferIn.encodeMs === undefined ? `the model inputs encoded by the ${s.transferIn.from} before the frames were sent` : `encoding ${fixed(s.transferIn.encodeMs)} ms a frame on ${s.transferIn.from} (in the hop's transfer time)`}, decoding ${fixed(s.transferIn.decodeMs)} ms on ${s.agent} (after it); a plan solved with the system's transfer prices both in the two stages' predicted times, from each board's profile`);
}

/**
 * Hops that carried far more bytes than the plan expected, with no encoding given: the plan was
 * solved with a system's `transfer: fp16|int8` and the run sent float32. One line each.
 */
export function unencodedHopLines(r: RunOutput): string[] {
  const hops = r.stages.filter((s) => s.transferIn.predictedBytes !== null && s.transferIn.predictedBytes > 0);
  return [
    ...hops
      .filter((s) => s.transferIn.encoding === undefined && s.transferIn.predictedBytes! < 0.75 * s.transferIn.bytes)
      .map((s) => `stage ${s.stage} received ${si(s.transferIn.bytes, 'B')} a frame where the plan expected ${si(s.transferIn.predictedBytes!, 'B')}: the plan was solved with tensors encoded (a system file's transfer: fp16 or int8); run with --system <that file>, or --transfer fp16|int8, to send them so`),
    // The other way: tensors encoded on a hop the plan priced as float32, whose predicted time is then too long.
    ...hops
      .filter((s) => s.transferIn.encoding !== undefined && s.transferIn.bytes < 0.75 * s.transferIn.predictedBytes!)
      .map((s) => `stage ${s.stage} received ${si(s.transferIn.bytes, 'B')} a frame as ${s.transferIn.encoding} where the plan priced ${si(s.transferIn.predictedBytes!, 'B')}: the plan was solved for tensors as they are, so its transfer and throughput figures do not stand for this run; solve with transfer: ${s.transferIn.encoding} in the system file`),
  ];
}

/** `dnnpart run`: deploy the plan's stages on the agents, stream frames, measured beside predicted. */
export async function run(opts: RunCommandOptions, ctx: CommandContext): Promise<CommandOutput> {
  const { plan, model: planned, transfer: planned2 } = readRunPlan(resolvePath(ctx, opts.plan), opts.plan);
  const list = agentsOf(ctx, opts.agents);
  const { model, engines, transfer: fromSystem } = await runModelAndEngines(opts, ctx, planned);
  // --transfer, else the system file's, else what the plan file says it was solved with: between the
  // stages, and for the model inputs when the plan sends them over a link to its first stage.
  const chosen: PlanTransfer | undefined = opts.transfer !== undefined ? { encoding: opts.transfer as WireEncoding } : fromSystem ?? planned2;
  const transfer = chosen ? hopEncodings(chosen, plan.stages.map((s) => s.board)) : undefined;
  const inputTransfer = inputHopEncoding(chosen, plan);
  checkPlanModel(planned, model.graph, model.sha256, opts.plan, model.path ? displayPath(ctx, model.path) : model.graph.name);
  const frames = opts.frames ?? 50;
  if (!Number.isInteger(frames) || frames < 1) throw new UsageError('CLI_BAD_VALUE', `--frames needs a positive integer, got ${frames}`);
  const result = await runPlan({
    model, plan, planName: opts.plan, agents: list, frames, engines,
    ...(opts.rate ? { rate: opts.rate } : {}),
    ...(opts.stallTimeoutS ? { stallTimeoutMs: opts.stallTimeoutS * 1000 } : {}),
    ...(opts.threads ? { threads: opts.threads } : {}),
    ...(transfer ? { transfer } : {}),
    ...(inputTransfer !== 'fp32' ? { inputTransfer } : {}),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    onProgress: (m, done, total) => (done !== undefined && total !== undefined ? ctx.progress.update(m, done, total) : ctx.progress.note(m)),
  });
  ctx.progress.end();
  const { trace, ...data } = result;
  if (opts.trace) {
    await writeOutput(resolvePath(ctx, opts.trace), opts.trace, JSON.stringify(trace));
  }
  return { data, text: formatRun(result, opts.trace ? displayPath(ctx, resolvePath(ctx, opts.trace)) : undefined) };
}

/**
 * Where the frame period went. When a quarter of it or more is in no timed step, that is the agents'
 * channel and the coordinator, which the plan prices only through links measured between the agents.
 */
export function periodLine(p: RunOutput['period']): string {
  const head = `a frame every ${fixed(p.frameMs)} ms; the slowest timed step, ${p.slowest.step}, took ${fixed(p.slowest.ms)} ms`;
  if (p.frameMs <= 0 || p.unaccountedMs < 0.25 * p.frameMs) return head;
  return `${head}: ${fixed(p.unaccountedMs)} ms a frame (${Math.round((100 * p.unaccountedMs) / p.frameMs)} %) is in no timed step (the agents' channel, the coordinator); `
    + 'a plan prices it only through links measured between the agents (dnnpart link --agents ..., then linksFile: in the system file)';
}

/**
 * Hops whose measured time is mostly their receiver computing other frames (onnxruntime holds the
 * agent's only JavaScript thread), one line each: that part is not the link's.
 */
export function waitingLines(stages: RunOutput['stages']): string[] {
  return stages
    .filter((s) => (s.transferIn.waitingMs ?? 0) >= 0.25 * s.transferIn.measuredMs && (s.transferIn.waitingMs ?? 0) >= 0.5)
    .map((s) => `transfer into stage ${s.stage}: ${fixed(s.transferIn.measuredMs)} ms from send to arrival, ${fixed(s.transferIn.waitingMs!)} ms of it while ${s.agent} computed other frames (its link's own time: ${fixed(s.transferIn.measuredMs - s.transferIn.waitingMs!)} ms)`);
}

/** What each stage added to its agent's memory, beside the plan's memory of it (agents that report it). */
export function memoryLine(stages: RunOutput['stages']): string[] {
  const known = stages.filter((s) => s.memory);
  if (known.length === 0) return [];
  return [`memory each stage added to its agent (loaded / most after a frame; the plan's; alone in a fresh process on that board): ${known.map((s) => `stage ${s.stage} on ${s.agent} ${s.memory!.peakBytes === 0 ? 'nothing new (it took memory the agent already held, from an earlier profile or stage)' : `${si(s.memory!.loadedBytes, 'B')} / ${si(s.memory!.peakBytes, 'B')}`} (${s.memory!.predictedBytes === null ? '—' : si(s.memory!.predictedBytes, 'B')}${s.memory!.predictedFramesBytes !== undefined ? `, ${si(s.memory!.predictedFramesBytes, 'B')} of it frames in flight` : ''})${s.memory!.alone ? `, alone ${si(s.memory!.alone.loadedBytes, 'B')} / ${si(s.memory!.alone.peakBytes, 'B')}` : ''}${s.memory!.preoptimised === false ? ' loaded as sent' : ''}${s.memory!.threadBytes !== undefined ? `, its thread ${si(s.memory!.threadBytes, 'B')} apart` : ''}`).join('; ')}`];
}

/** Over the plan's memory by this fraction and at least MEMORY_OVER_MIN_BYTES, a stage gets a line of its own. */
const MEMORY_OVER = 0.25;
const MEMORY_OVER_MIN_BYTES = 16 * 2 ** 20;

/**
 * Stages that held clearly more on their agents while frames streamed than the plan says they need,
 * one line each: a board whose memory the plan fills would not have held them.
 */
export function memoryOverLines(stages: RunOutput['stages']): string[] {
  return stages
    .filter((s) => s.memory && s.memory.predictedBytes !== null && s.memory.peakBytes > (1 + MEMORY_OVER) * s.memory.predictedBytes && s.memory.peakBytes - s.memory.predictedBytes >= MEMORY_OVER_MIN_BYTES)
    .map((s) => {
      const m = s.memory!;
      return `stage ${s.stage} held ${si(m.peakBytes, 'B')} on ${s.agent} while frames streamed, ${Math.round((m.peakBytes / m.predictedBytes! - 1) * 100)} % over the plan's ${si(m.predictedBytes!, 'B')}`
        + `${m.alone ? ` (alone in a fresh process ${si(m.alone.peakBytes, 'B')})` : ''}: a board the plan fills would not hold it; leave that much room in its memoryBytes, or give it larger frameBuffers in the system file`;
    });
}

/** What the outputs' difference is made of when tensors travelled encoded (lossy): the encoding, scored by dnnpart accuracy. */
function encodedNote(r: RunOutput): string {
  const used = [...new Set(r.stages.map((s) => s.transferIn.encoding).filter((e) => e !== undefined))];
  return used.length > 0 ? ` (tensors between stages sent as ${used.join(' and ')}: their rounding is in it; dnnpart accuracy --transfer ${used[0]} scores it on more inputs)` : '';
}

/**
 * Agents that ran on one machine, one line each: their stages shared its cores, so the measured stage
 * times and throughput are that machine's, not those of boards with cores of their own.
 */
export function sharedMachineLines(r: Pick<RunOutput, 'sharedMachines' | 'stages'>): string[] {
  return (r.sharedMachines ?? []).map((m) => {
    const stages = r.stages.filter((s) => m.agents.includes(s.agent)).map((s) => s.stage);
    return `agents ${m.agents.join(', ')} run on one machine (${m.host === 'loopback' ? 'this one' : m.host}, ${m.cores} cores): stages ${stages.join(', ')} shared its cores, which a plan of one board per stage does not price; their measured times and the throughput are that machine's`;
  });
}

/** A run for people: measured beside predicted. */
export function formatRun(r: RunOutput, traceFile?: string): string {
  const pct = (m: number, p: number | null) => (p ? `${m >= p ? '+' : ''}${(((m - p) / p) * 100).toFixed(1)}%` : '—');
  return [
    `${r.frames} frames in ${fixed(r.wallMs / 1000, 2)} s; outputs of the first ${r.compared} frames vs the unsplit model: max abs diff ${r.maxAbsDiff.toExponential(2)}${r.maxAbsDiffOptimised !== undefined ? ` unoptimised, ${r.maxAbsDiffOptimised.toExponential(2)} optimised as the stages run (onnxruntime's fused kernels round differently)` : ''}${encodedNote(r)}`,
    '',
    table(['', 'measured', 'predicted', 'difference'], [
      ['throughput FPS', fixed(r.throughputFps), fixed(r.predicted.throughputFps), pct(r.throughputFps, r.predicted.throughputFps)],
      ['latency p50 ms', fixed(r.latencyMs.p50), fixed(r.predicted.latencyMs), pct(r.latencyMs.p50, r.predicted.latencyMs)],
      ['latency p95 ms', fixed(r.latencyMs.p95), '—', '—'],
    ]),
    '',
    // With tensors encoded, a stage's time is its session's and its own encoding and decoding (the plan prices both).
    table(['stage', 'agent', 'nodes', r.stages.some((s) => s.computeMs.codingMs !== undefined) ? 'compute + coding ms' : 'compute ms', 'predicted', 'in from', 'bytes', 'transfer ms', 'predicted'], r.stages.map((s) => [
      String(s.stage), s.agent, String(s.nodes), fixed(s.computeMs.measured) + (s.computeMs.codingMs !== undefined ? ` + ${fixed(s.computeMs.codingMs)}` : ''), fixed(s.computeMs.predicted),
      s.transferIn.from + (s.transferIn.encoding ? ` (${s.transferIn.encoding})` : ''), si(s.transferIn.bytes, 'B'), fixed(s.transferIn.measuredMs), fixed(s.transferIn.predictedMs),
    ])),
    `outputs back from ${r.transferOut.from}: ${si(r.transferOut.bytes, 'B')} in ${fixed(r.transferOut.measuredMs)} ms`,
    ...memoryLine(r.stages),
    ...memoryOverLines(r.stages),
    ...waitingLines(r.stages),
    ...unencodedHopLines(r),
    ...codingLines(r),
    ...sharedMachineLines(r),
    periodLine(r.period),
    ...(traceFile ? [`trace: ${traceFile} (open in chrome://tracing or ui.perfetto.dev)`] : []),
  ].join('\n');
}
