// The I/O half of a system: the model (a file or a zoo export), each board's profile (read,
// measured here, or analytic from a description) and the link descriptions. buildProblem()
// then joins them without touching the disk.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { inputBranches, loadModel, parseInputSpecs, type Graph, type InputShapes } from '@dnnpart/onnx-graph';
import { buildZooModel, type ZooInputShape } from '@dnnpart/zoo';
import {
  analyticProfile,
  loadBoardDescription,
  loadLinkDescription,
  profileModel,
  DEFAULT_MIN_END_TO_END_MS,
  readProfile,
  type BoardDescription,
  type LinkDescription,
  type Profile,
} from '@dnnpart/profiler';
import type { ProblemLink } from '@dnnpart/solver';
import { where, type MeasureSettings, type SystemBoard, type SystemSpec } from './load.js';
import { priceValueTimed } from './value-timed.js';

/** A board with the costs it will be planned with. */
export interface ResolvedBoard {
  readonly spec: SystemBoard;
  readonly profile: Profile;
  /** measured: a profile file or a measurement here; analytic: from its description. */
  readonly source: 'measured' | 'analytic';
  /** The profile file (read, or written after measuring). */
  readonly profileFile?: string;
  readonly description?: BoardDescription;
}

export interface ResolvedSystem {
  readonly spec: SystemSpec;
  /** The file's name, or `<model>-<n>-boards` when the model was replaced. */
  readonly name: string;
  readonly graph: Graph;
  readonly modelFile: string;
  readonly modelSha256: string;
  /** Nodes of the file, or of the If branches and functions it inlined, that loading folded away (Constant nodes, static shape and constant arithmetic): they do not run. */
  readonly foldedNodes?: readonly string[];
  readonly inputShapes?: InputShapes;
  readonly boards: readonly ResolvedBoard[];
  /** Directed links, after descriptions, overrides, `bidirectional` and `network`. */
  readonly links: readonly ProblemLink[];
}

export type ResolveEvent =
  | { readonly kind: 'phase'; readonly message: string }
  | { readonly kind: 'warning'; readonly message: string }
  | { readonly kind: 'written'; readonly board: string; readonly file: string }
  | { readonly kind: 'profile'; readonly board: string; readonly done: number; readonly total: number; readonly phase: string };

export interface ResolveOptions {
  /** Where a zoo export and measured profiles are written. */
  readonly workDir: string;
  /** Replace the file's model (the `start` command's --model / --net / --input). */
  readonly model?: { readonly file?: string; readonly zoo?: string; readonly input?: readonly string[] };
  /** Settings for `measure` boards that override the file's (the command line's --runs, --warmup, --threads). */
  readonly measure?: MeasureSettings;
  readonly onProgress?: (e: ResolveEvent) => void;
  readonly signal?: AbortSignal;
}

/** The profiler's phase names as progress labels. */
export function phaseLabel(phase: string): string {
  const labels: Record<string, string> = {
    load: 'loading the model',
    threads: 'trying 1 thread against all cores',
    boundary: 'timing stage boundaries',
    warmup: 'warming up',
    runs: 'timed runs',
    'end-to-end': 'timing end-to-end runs',
    profile: 'profiling layers',
    write: 'writing the profile',
  };
  return labels[phase] ?? phase;
}

/** Load the model, every board's profile and every link of a system. */
export async function resolveSystem(spec: SystemSpec, opts: ResolveOptions): Promise<ResolvedSystem> {
  const emit = opts.onProgress ?? (() => {});
  await mkdir(opts.workDir, { recursive: true });

  const { model: modelSpec, fromFile, inputFromFile } = chooseModel(spec, opts.model);
  const inputShapes = modelSpec.input && modelSpec.input.length > 0
    ? await located(spec, inputFromFile ? 'model.input' : null, () => parseInputSpecs([...modelSpec.input!]))
    : undefined;

  let modelFile: string;
  if (modelSpec.zoo) {
    const zoo = modelSpec.zoo;
    emit({ kind: 'phase', message: `exporting ${zoo} from the zoo` });
    const shape = Array.isArray(inputShapes) ? (inputShapes as unknown as ZooInputShape) : undefined;
    const seed = fromFile ? spec.model.seed : undefined;
    const bytes = await located(spec, fromFile && 'model.zoo', () =>
      buildZooModel(zoo, { ...(shape ? { inputShape: shape } : {}), ...(seed !== undefined ? { seed } : {}) }),
    );
    modelFile = path.join(opts.workDir, `${zoo}${shape ? '-' + shape.join('x') : ''}.onnx`);
    await writeFile(modelFile, bytes);
  } else {
    modelFile = modelSpec.file!;
  }
  emit({ kind: 'phase', message: `loading ${path.basename(modelFile)}` });
  const loopTrips = fromFile ? spec.model.loopTrips : undefined;
  const model = await located(spec, fromFile && `model.${loopTrips ? 'loopTrips' : modelSpec.zoo ? 'zoo' : 'file'}`, () =>
    loadModel(modelFile, { ...(inputShapes ? { inputShapes } : {}), ...(loopTrips ? { loopTrips } : {}) }),
  );
  const graph = model.graph;
  // A Loop whose trip count only a run can tell costs one iteration until the file says more.
  for (const l of graph.nodes.flatMap((n) => n.subgraphCost?.loops ?? []).filter((x) => x.trips === 'assumed')) {
    emit({ kind: 'warning', message: `Loop node ${l.node} has a trip count computed at run time; costed as 1 iteration (give model.loopTrips: { ${l.node}: <n> })` });
  }
  for (const b of inputBranches(graph)) emit({ kind: 'warning', message: `${b.message} (model.input: { ${b.condition}: '${b.shape.join('x')}:1' })` });
  for (const m of model.shapeMismatches) emit({ kind: 'warning', message: m.message });
  for (const m of [...model.replacedOutputs, ...model.emptyTensors]) emit({ kind: 'warning', message: m.message });

  const boards: ResolvedBoard[] = [];
  for (const [i, b] of spec.boards.entries()) {
    opts.signal?.throwIfAborted();
    const field = `boards[${i}]`;
    const description = b.describe
      ? await located(spec, `${field}.describe`, () => loadBoardDescription(b.describe!))
      : undefined;
    if (b.profile) {
      emit({ kind: 'phase', message: `reading the profile of ${b.id}` });
      const profile = await located(spec, `${field}.profile`, () => readProfile(b.profile!));
      boards.push({ spec: b, profile, source: 'measured', profileFile: b.profile, ...(description ? { description } : {}) });
    } else if (b.measure) {
      const settings = { ...b.measure, ...opts.measure };
      emit({ kind: 'phase', message: `profiling ${graph.name} on this machine as ${b.id} (${settings.runs ?? 10} runs)` });
      const profileFile = path.join(opts.workDir, `${b.id}.profile.json`);
      const profile = await profileModel(modelFile, {
        board: b.id,
        ...(inputShapes ? { inputShapes } : {}),
        runs: settings.runs ?? 10,
        warmup: settings.warmup ?? 2,
        // Runs not set: the end-to-end runs cover 0.5 s (a 0.05 ms model's 10 runs cover 0.5 ms).
        ...(settings.runs === undefined ? { minEndToEndMs: DEFAULT_MIN_END_TO_END_MS } : {}),
        // Measured here, so the stage boundary is measured here too (a few seconds), not defaulted.
        boundary: 'calibrate',
        ...(settings.threads ? { threads: settings.threads } : {}),
        ...(description ? { boardDescription: description } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        output: profileFile,
        onProgress: (p) => emit({ kind: 'profile', board: b.id, phase: phaseLabel(p.phase), done: p.done, total: p.total }),
      });
      emit({ kind: 'written', board: b.id, file: profileFile });
      boards.push({ spec: b, profile, source: 'measured', profileFile, ...(description ? { description } : {}) });
    } else {
      emit({ kind: 'phase', message: `estimating ${b.id} from ${path.basename(b.describe!)}` });
      const profile = await located(spec, `${field}.describe`, () => analyticProfile(graph, description!, { sha256: model.sha256, ...(b.precision ? { precision: b.precision } : {}) }));
      boards.push({ spec: b, profile, source: 'analytic', description: description! });
    }
  }

  // NMS and run-time Loops: a described board prices them from a board that ran the model.
  const priced = priceValueTimed(graph, boards);
  for (const w of priced.warnings) emit({ kind: 'warning', message: w });
  const links = await resolveLinks(spec);
  // Not an error (a one-board plan is still a plan), but easy to miss: say it.
  if (spec.boards.length > 1) {
    for (const b of spec.boards) {
      if (!links.some((l) => l.from === b.id || l.to === b.id)) {
        emit({ kind: 'phase', message: `warning: no link joins ${b.id} to another board, so no plan can combine it with one (add \`network:\` or \`links:\` to ${spec.displayFile})` });
      }
    }
  }
  const name = fromFile ? spec.name : `${graph.name}-${spec.boards.length}-boards`;
  return {
    spec, name, graph, modelFile, modelSha256: model.sha256,
    ...(model.simplified.removedNodes.length > 0 || model.simplified.removedInnerNodes ? { foldedNodes: [...model.simplified.removedNodes, ...(model.simplified.removedInnerNodes ?? [])] } : {}),
    ...(inputShapes ? { inputShapes } : {}), boards: priced.boards, links,
  };
}

/**
 * The model to plan: the file's, or the command line's (--model / --net, and --input). A zoo
 * network from the command line keeps the file's input shape; your own file does not.
 * `fromFile` / `inputFromFile` say whether errors can point at a line of the system file.
 */
function chooseModel(spec: SystemSpec, override: ResolveOptions['model']): { model: SystemSpec['model']; fromFile: 'model' | null; inputFromFile: boolean } {
  if (override?.file || override?.zoo) {
    const input = override.input ?? (override.zoo ? spec.model.input : undefined);
    return { model: { ...(override.file ? { file: override.file } : { zoo: override.zoo! }), ...(input ? { input } : {}) }, fromFile: null, inputFromFile: !override.input && !!override.zoo && !!spec.model.input };
  }
  const input = override?.input ?? spec.model.input;
  return { model: { ...spec.model, ...(input ? { input } : {}) }, fromFile: 'model', inputFromFile: !override?.input };
}

/** Directed solver links from the file's links and its `network` default. */
async function resolveLinks(spec: SystemSpec): Promise<ProblemLink[]> {
  const out = new Map<string, ProblemLink>();
  for (const l of spec.links) {
    const desc: Partial<LinkDescription> = l.link ? await located(spec, `${l.field}.link`, () => loadLinkDescription(l.link!)) : {};
    const link = {
      bandwidthBytesPerSec: l.bandwidthBytesPerSec ?? desc.bandwidthBytesPerSec!,
      latencyMs: l.latencyMs ?? desc.latencyMs!,
      powerW: l.powerW ?? desc.powerW!,
      framing: l.framing ?? desc.framing ?? 'none',
    };
    out.set(`${l.from}->${l.to}`, { from: l.from, to: l.to, ...link });
    if (l.bidirectional) out.set(`${l.to}->${l.from}`, { from: l.to, to: l.from, ...link });
  }
  if (spec.network) {
    const desc = await located(spec, 'network', () => loadLinkDescription(spec.network!));
    for (const a of spec.boards) {
      for (const b of spec.boards) {
        const key = `${a.id}->${b.id}`;
        if (a.id === b.id || out.has(key)) continue;
        out.set(key, { from: a.id, to: b.id, bandwidthBytesPerSec: desc.bandwidthBytesPerSec, latencyMs: desc.latencyMs, powerW: desc.powerW, framing: desc.framing });
      }
    }
  }
  return [...out.values()];
}

/**
 * Run `fn`; an error with a code gets the file, line and field in front of its message, so
 * "file not found" from a package still says which line of which system file asked for it.
 */
async function located<T>(spec: SystemSpec, field: string | null, fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (field && e instanceof Error && typeof (e as { code?: unknown }).code === 'string') {
      e.message = `${where(spec, field)}: ${e.message}`;
    }
    throw e;
  }
}
