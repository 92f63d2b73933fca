// zoo list, zoo export, inspect, split: the commands about models themselves.
import path from 'node:path';
import { inspectModel, loadModel, parseInputSpecs, parseLoopTrips, splitModel, writeSplit, type Graph, type GraphTensor, type InputShapes, type InspectResult, type SplitManifest } from '@dnnpart/onnx-graph';
import { buildZooModel, listZoo, zooDefaultInputShape, type ZooInputShape } from '@dnnpart/zoo';
import { bytes, si, table } from './_format.js';
import { asGiven, displayPath, ensureDir, plural, resolvePath, writeOutput, type CommandContext, type CommandOutput } from './context.js';
import { UsageError } from './errors.js';
import { problemNodes } from '../system/build.js';

export interface ZooEntry {
  readonly name: string;
  readonly params: number;
  readonly macs: number;
  readonly description?: string;
}

/** `dnnpart zoo list`: the built-in networks. */
export function zooList(): CommandOutput<ZooEntry[]> {
  const entries = listZoo().map((z) => ({ name: z.name, params: z.params, macs: z.macs, ...(z.description ? { description: z.description } : {}) }));
  const text = table(
    ['network', 'params', 'MACs', 'description'],
    entries.map((e) => [e.name, si(e.params), si(e.macs), e.description ?? '']),
  );
  return { data: entries.map(({ name, params, macs }) => ({ name, params, macs })), text };
}

export interface ZooExportOptions {
  readonly name: string;
  readonly input?: string;
  readonly seed?: number;
  readonly output: string;
}

/** `dnnpart zoo export`: write a zoo network as ONNX. */
export async function zooExport(opts: ZooExportOptions, ctx: CommandContext): Promise<CommandOutput<{ file: string; bytes: number; name: string; input: number[] }>> {
  // The network's own default: NxCxHxW images, or batch x sequence for the text encoders; the zoo
  // checks a given shape against the network (rank, sizes) and says what it takes.
  const shape = opts.input ? parseInputSpecs([opts.input]) : zooDefaultInputShape(opts.name);
  if (!Array.isArray(shape)) throw new UsageError('CLI_BAD_VALUE', `--input for zoo export is one shape like 1x3x224x224 (1x128 for a text encoder), got "${opts.input}"`);
  const inputShape = shape as unknown as ZooInputShape;
  const model = buildZooModel(opts.name, { inputShape, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) });
  const file = resolvePath(ctx, opts.output);
  await writeOutput(file, opts.output, model);
  const input = [...(shape as number[])];
  return {
    data: { file, bytes: model.byteLength, name: opts.name, input },
    text: `wrote ${displayPath(ctx, file)} (${opts.name}, input ${input.join('x')}, ${bytes(model.byteLength)})`,
  };
}

export interface ModelOptions {
  readonly model: string;
  readonly input?: readonly string[];
}

function shapesOf(input: readonly string[] | undefined): InputShapes | undefined {
  return input && input.length > 0 ? parseInputSpecs([...input]) : undefined;
}

/**
 * What the whole model needs in memory on one board running onnxruntime, as plans count a stage:
 * its weights plus the largest activationBytes of a node (see system/build.ts).
 */
export interface MemoryEstimate {
  readonly bytes: number;
  readonly weightBytes: number;
  readonly activationBytes: number;
  /** The node at which the most activation bytes are alive. */
  readonly peakNode: string;
}

/** `inspect --json`: the graph package's inspection, with the model path as given, and the memory estimate. */
export type InspectOutput = InspectResult & { readonly model: string; readonly memoryEstimate: MemoryEstimate };

/** The memory a one-stage plan of the graph counts. */
export function memoryEstimate(graph: Graph): MemoryEstimate {
  const nodes = problemNodes(graph);
  let weightBytes = 0;
  let peak = nodes[0];
  for (const n of nodes) {
    weightBytes += n.memoryBytes;
    if ((n.activationBytes ?? 0) > (peak?.activationBytes ?? 0)) peak = n;
  }
  const activationBytes = peak?.activationBytes ?? 0;
  return { bytes: weightBytes + activationBytes, weightBytes, activationBytes, peakNode: peak?.id ?? '' };
}

/** An input as inspect prints it: `x[1x3x224x224]`, with its element type when that is not float32 (`xq[1x3x32x32 uint8]`). */
function inputLabel(t: GraphTensor | undefined, name: string): string {
  if (!t) return `${name}[?]`;
  // A scalar has no dims: `sr[int64]`.
  return `${name}[${[t.shape.join('x'), t.dtype === 'float32' ? '' : t.dtype].filter(Boolean).join(' ')}]`;
}

/** `dnnpart inspect`: counts and cut points of a model. */
export async function inspect(opts: ModelOptions & { readonly all?: boolean; readonly loopTrips?: readonly string[] }, ctx: CommandContext): Promise<CommandOutput<InspectOutput>> {
  const file = resolvePath(ctx, opts.model);
  const inputShapes = shapesOf(opts.input);
  const loopTrips = opts.loopTrips && opts.loopTrips.length > 0 ? parseLoopTrips(opts.loopTrips) : undefined;
  const model = await asGiven(ctx, [file], () => loadModel(file, { ...(inputShapes ? { inputShapes } : {}), ...(loopTrips ? { loopTrips } : {}) }));
  const info = inspectModel(model);
  // A Loop whose trip count only a run can tell costs one iteration until the user says more.
  for (const l of info.loops.filter((x) => x.trips === 'assumed')) {
    ctx.progress.note(`warning: Loop node ${l.node} has a trip count computed at run time; costed as 1 iteration (give --loop-trips ${l.node}=<n>)`);
  }
  for (const b of info.inputBranches) ctx.progress.note(`warning: ${b.message} (--input ${b.condition}=${b.shape.join('x')}:1)`);
  for (const m of info.shapeMismatches) ctx.progress.note(`warning: ${m.message}`);
  for (const m of [...info.replacedOutputs, ...info.emptyTensors]) ctx.progress.note(`warning: ${m.message}`);
  const data: InspectOutput = { model: displayPath(ctx, file), ...info, memoryEstimate: memoryEstimate(model.graph) };
  const cuts = info.cutPoints;
  const shown = opts.all ? cuts : cuts.filter((c) => c.tensors.length === 1);
  const lines = [
    `${data.model}: ${plural(info.nodes, 'node')}, ${si(info.params)} parameters, ${si(info.macs)} MACs, inputs ${model.graph.inputs.map((n) => inputLabel(model.graph.tensors.get(n), n)).join(', ')}`,
  ];
  if (info.unknownOps.length > 0) lines.push(`ops the cost model does not know (counted as 0 MACs): ${info.unknownOps.join(', ')}`);
  lines.push(simplifiedLine(info));
  if (info.loops.length > 0) lines.push(`Loop nodes costed at: ${info.loops.map((l) => `${l.node} ${plural(l.iterations, 'iteration')} (${l.trips})`).join(', ')}`);
  if (info.valueTimed.length > 0) {
    lines.push(`nodes whose time the data decides (a board description cannot price them; a system prices them on described boards from a measured one): ${info.valueTimed.map((v) => `${v.node} (${v.op}: ${v.why})`).join(', ')}`);
  }
  const mem = data.memoryEstimate;
  lines.push(`memory on one board (onnxruntime), as plans count it: ${bytes(mem.bytes)} (weights ${bytes(mem.weightBytes)}; activations and runtime ${bytes(mem.activationBytes)}, at their peak at ${mem.peakNode})`);
  lines.push(
    '',
    `${opts.all ? 'cut points' : 'cut points where one tensor crosses'} (${shown.length} of ${cuts.length}${opts.all ? '' : '; --all lists every position'}):`,
    table(['after', 'bytes', 'tensors'], shown.map((c) => [c.after, bytes(c.bytes), String(c.tensors.length)])),
  );
  return { data, text: lines.join('\n') };
}

/** One line on what loading folded and how many layers remain. */
function simplifiedLine(info: InspectResult): string {
  const s = info.simplified;
  const blocks = s.sequenceBlocks > 0 ? `; ${plural(s.sequenceBlocks, 'block')} of the nodes an ONNX sequence or optional links, each one layer (no cut can carry either)` : '';
  if (s.passes.every((p) => p.removedNodes === 0 && p.addedInitializers === 0 && p.removedInitializers === 0 && p.rewrittenNodes === 0)) {
    return s.nodesBefore === s.nodesAfter
      ? `nothing to fold: ${plural(s.nodesAfter, 'layer')} as in the file`
      : `nothing to fold: ${plural(s.nodesAfter, 'layer')} (the file has ${plural(s.nodesBefore, 'top-level node')})${blocks}`;
  }
  const fold = foldedOps(info);
  const parts = [
    `${plural(s.constants, 'Constant node')} to initializers`,
    `${plural(s.folded, 'shape node')} folded${fold}`,
    ...(s.functions > 0 ? [`${plural(s.functions, 'function call')} inlined`] : []),
    ...(s.inlined > 0 ? [`${plural(s.inlined, 'If node')} inlined (constant condition)`] : []),
    ...(s.identities > 0 ? [`${plural(s.identities, 'Identity node')} removed`] : []),
    ...(s.dead > 0 ? [`${plural(s.dead, 'dead node')} removed`] : []),
    ...(s.dequantizeColumns > 0 ? [`${plural(s.dequantizeColumns, 'weight DequantizeLinear')} given per-column scales of its own (a shared scalar keeps onnxruntime from fusing it with its MatMul)`] : []),
  ];
  return `folded on load: ${parts.join(', ')}; ${plural(s.nodesAfter, 'layer')} remain (the file has ${plural(s.nodesBefore, 'top-level node')})${blocks}`;
}

/** ` (Shape 4, Cast 23, ...)`: the folded ops, most frequent first. */
function foldedOps(info: InspectResult): string {
  const ops = new Map<string, number>();
  for (const p of info.simplified.passes) {
    if (p.pass !== 'fold-values' && p.pass !== 'fold-initializer-ops') continue;
    for (const [op, n] of Object.entries(p.removedOps)) ops.set(op, (ops.get(op) ?? 0) + n);
  }
  if (ops.size === 0) return '';
  return ` (${[...ops].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([op, n]) => `${op} ${n}`).join(', ')})`;
}

export interface SplitOptions extends ModelOptions {
  readonly after: readonly string[];
  readonly output: string;
}

/** `dnnpart split`: one ONNX model per stage and a manifest.json. */
export async function split(opts: SplitOptions, ctx: CommandContext): Promise<CommandOutput<SplitManifest & { dir: string }>> {
  const file = resolvePath(ctx, opts.model);
  const inputShapes = shapesOf(opts.input);
  const model = await asGiven(ctx, [file], () => loadModel(file, inputShapes ? { inputShapes } : {}));
  const result = splitModel(model, { after: [...opts.after] });
  const dir = resolvePath(ctx, opts.output);
  await ensureDir(dir, opts.output);
  await asGiven(ctx, [dir], () => writeSplit(result, dir));
  const stages = result.manifest.stages;
  const text = [
    `wrote ${plural(stages.length, 'stage')} and manifest.json to ${displayPath(ctx, dir)}`,
    table(
      ['stage', 'file', 'nodes', 'inputs', 'outputs'],
      stages.map((s, i) => [String(i), s.file, String(s.nodes.length), s.inputs.join(', '), s.outputs.join(', ')]),
    ),
  ].join('\n');
  return { data: { dir, stages }, text };
}
