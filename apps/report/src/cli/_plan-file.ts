// Plan files: what `dnnpart solve --json` writes (a plan with stages of node names), what `dnnpart
// verify --json` writes (the same, with the model's sha256), or report's plans.json (rows whose stages
// are layer index ranges, "a[0..57] > b[58..240]"). Each becomes a node -> stage map of one model,
// checked against it: a plan of another model or one that does not cover it is refused, never guessed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isGraphError, loadModel, type Graph, type InputShapes, type LoadedModel } from '@dnnpart/onnx-graph';
// Types only: solve and split read plan files without loading the runtime (gRPC).
import type { WireEncoding } from '@dnnpart/runtime';
import { UsageError } from './errors.js';
import { inputLink, type TransferPlan } from '../system/plans.js';

export interface PlanFileStage {
  readonly board: string;
  /** Node names (solve/verify plans) or layer indices into the model's node order (plans.json rows). */
  readonly nodes?: readonly string[];
  readonly indices?: readonly number[];
  /** The plan's own prediction of the stage's time, when it has one. */
  readonly computeMs?: number;
  /** The plan's memory of the stage, when it has one. */
  readonly memoryBytes?: number;
  /** Of memoryBytes: the frames in flight, when the plan says. */
  readonly framesBytes?: number;
}

export interface PlanFile {
  readonly stages: readonly PlanFileStage[];
  /** The model the plan was made for, when the file says. */
  readonly model?: PlanModel;
  /** What was read: "plan", or "plans.json row <name>". */
  readonly what: string;
  /** True when the plan sends the model inputs over a link to its first stage (its first transfer goes into the first stage's board). */
  readonly inputCrosses?: boolean;
}

/** The model a plan file names: its file's sha256 and name, and the input shapes it was solved for. */
export interface PlanModel {
  readonly sha256?: string;
  readonly name?: string;
  readonly inputs?: Readonly<Record<string, readonly number[]>>;
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

type Encoding = WireEncoding;
const ENCODINGS: readonly Encoding[] = ['fp32', 'fp16', 'int8'];

/**
 * How a plan's float tensors travel between boards when not all as float32: its system file's
 * `transfer`, and the links with one of their own (`transfer` in solve --json), so that `dnnpart run`
 * sends them as the plan priced them.
 */
export interface PlanTransfer {
  readonly encoding: Encoding;
  readonly links?: readonly { readonly from: string; readonly to: string; readonly encoding: Encoding }[];
}

/** A system's PlanTransfer; undefined when everything travels as float32. */
export function systemTransfer(spec: { readonly transfer?: Encoding; readonly links: readonly { readonly from: string; readonly to: string; readonly bidirectional?: boolean; readonly transfer?: Encoding }[] }): PlanTransfer | undefined {
  const links = spec.links.filter((l) => l.transfer !== undefined).flatMap((l) => [
    { from: l.from, to: l.to, encoding: l.transfer! },
    ...(l.bidirectional ? [{ from: l.to, to: l.from, encoding: l.transfer! }] : []),
  ]);
  const encoding = spec.transfer ?? 'fp32';
  return encoding === 'fp32' && links.every((l) => l.encoding === 'fp32') ? undefined : { encoding, ...(links.length > 0 ? { links } : {}) };
}

/** The encoding of each hop between consecutive stages on `boards`: a link's own, else the plan's. */
export function hopEncodings(t: PlanTransfer, boards: readonly string[]): Encoding[] {
  return boards.slice(1).map((to, k) => t.links?.find((l) => l.from === boards[k] && l.to === to)?.encoding ?? t.encoding);
}

/** How the model inputs go to the first stage: encoded like the link they cross (inputLink), else as they are. */
export function inputHopEncoding(t: PlanTransfer | undefined, plan: TransferPlan): Encoding {
  const input = inputLink(plan);
  if (!t || !input) return 'fp32';
  return t.links?.find((l) => l.from === input.from && l.to === input.to)?.encoding ?? t.encoding;
}

/** The `transfer` of a plan file (solve --json from a system file); `display` names the file in errors. */
export function planTransferOf(json: unknown, display: string): PlanTransfer | undefined {
  if (!isObject(json) || json.transfer === undefined) return undefined;
  const t = json.transfer;
  const bad = (why: string): never => {
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: transfer${why}; write the file with dnnpart solve --json`);
  };
  if (!isObject(t) || !ENCODINGS.includes(t.encoding as Encoding)) return bad(`.encoding: must be one of ${ENCODINGS.join(', ')}`);
  if (t.links !== undefined && (!Array.isArray(t.links) || !t.links.every((l) => isObject(l) && typeof l.from === 'string' && typeof l.to === 'string' && ENCODINGS.includes(l.encoding as Encoding)))) {
    return bad(`.links: must be a list of { from, to, encoding } with encoding one of ${ENCODINGS.join(', ')}`);
  }
  return t as unknown as PlanTransfer;
}

/** The `model` of a plan file (solve --json from a system file, verify --json), as far as it is well formed. */
export function planModelOf(json: unknown): PlanModel | undefined {
  if (!isObject(json) || !isObject(json.model)) return undefined;
  const m = json.model;
  const inputs = isObject(m.inputs)
    ? Object.fromEntries(Object.entries(m.inputs).filter(([, v]) => Array.isArray(v) && v.every((d) => Number.isInteger(d) && d >= 0)) as [string, number[]][])
    : undefined;
  return {
    ...(typeof m.sha256 === 'string' ? { sha256: m.sha256 } : {}),
    ...(typeof m.name === 'string' ? { name: m.name } : {}),
    ...(inputs && Object.keys(inputs).length > 0 ? { inputs } : {}),
  };
}

/**
 * Refuses a plan made for another model file (sha256) or for other input shapes than the model
 * was loaded with (a dynamic width, a batch): its predictions are for those.
 */
export function checkPlanModel(model: PlanModel | undefined, graph: Graph, sha: string, display: string, modelDisplay: string): void {
  if (model?.sha256 !== undefined && model.sha256.toLowerCase() !== sha.toLowerCase()) {
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: a plan of model "${model.name ?? '?'}" (sha256 ${model.sha256.slice(0, 12)}…), not of ${modelDisplay} (sha256 ${sha.slice(0, 12)}…); plan this model file`);
  }
  for (const [x, planned] of Object.entries(model?.inputs ?? {})) {
    const got = graph.tensors.get(x);
    if (!got || !graph.inputs.includes(x)) continue;
    if (planned.join('x') !== got.shape.join('x')) {
      throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: a plan for input ${x} ${planned.join('x')}, not ${got.shape.join('x')} as ${modelDisplay} is loaded here; give --input ${x}=${planned.join('x')}, or solve again for ${got.shape.join('x')}`);
    }
  }
}

/**
 * Load the model a plan is for. Without `inputShapes` (no --input, no system file), a model whose
 * inputs have dynamic dims takes the shapes the plan was solved for (`model.inputs` of a plan from
 * `solve --system --json`), and `note` says which; a model without dynamic dims loads as it is.
 */
export async function loadPlannedModel(file: string | Uint8Array, inputShapes: InputShapes | undefined, planned: PlanModel | undefined, note: (message: string) => void): Promise<LoadedModel> {
  if (inputShapes || !planned?.inputs) return loadModel(file, inputShapes ? { inputShapes } : {});
  try {
    return await loadModel(file);
  } catch (e) {
    if (!isGraphError(e) || e.code !== 'GRAPH_DYNAMIC_DIM') throw e;
    note(`input shapes from the plan: ${Object.entries(planned.inputs).map(([x, s]) => `${x}=${s.join('x')}`).join(', ')} (give --input for others)`);
    return loadModel(file, { inputShapes: planned.inputs });
  }
}

/** The JSON object of a --plan file: named by its display name when missing, not JSON or not an object. */
export function readPlanJson(file: string, display: string): Json {
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError('CLI_FILE_NOT_FOUND', `--plan ${display}: plan file not found`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: not JSON (${(e as Error).message})`);
  }
  if (!isObject(json)) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: must be a JSON object (a plan from dnnpart solve --json, or a report's plans.json)`);
  return json;
}

/** The plan in a plan file's JSON (a verify result keeps it under "plan"); one without stages is refused with its status. */
export function planOfJson(json: Json, display: string): Json & { stages: unknown[] } {
  const plan = isObject(json.plan) && Array.isArray(json.plan.stages) ? json.plan : json;
  if (!Array.isArray(plan.stages)) {
    const why = typeof plan.status === 'string' ? ` (status ${plan.status}${typeof plan.reason === 'string' ? `: ${plan.reason}` : ''})` : '';
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages: missing${why}; give a plan that has stages (dnnpart solve --json)`);
  }
  return plan as Json & { stages: unknown[] };
}

/** Read a plan file; `row` picks a row of a plans.json (default: the first optimum that has stages). */
export function readPlanFile(file: string, display: string, row?: string): PlanFile {
  const json = readPlanJson(file, display);
  if (json.schema === 'dnnpart/plans@1') return fromRows(json, display, row);
  if (row !== undefined) throw new UsageError('CLI_CONFLICTING_FLAGS', `--row ${row}: ${display} is a single plan, not a report's plans.json`);
  const plan = planOfJson(json, display);
  const stages = plan.stages.map((s, i): PlanFileStage => {
    const at = `--plan ${display}: stages[${i}]`;
    if (!isObject(s)) throw new UsageError('CLI_BAD_VALUE', `${at}: must be an object with board and nodes`);
    if (!Array.isArray(s.nodes) || s.nodes.some((n) => typeof n !== 'string')) throw new UsageError('CLI_BAD_VALUE', `${at}.nodes: must be an array of node names`);
    return {
      board: typeof s.board === 'string' ? s.board : `stage${i}`,
      nodes: s.nodes as string[],
      ...(typeof s.computeMs === 'number' ? { computeMs: s.computeMs } : {}),
      ...(typeof s.memoryBytes === 'number' && s.memoryBytes >= 0 ? { memoryBytes: s.memoryBytes } : {}),
      ...(typeof s.framesBytes === 'number' && s.framesBytes >= 0 ? { framesBytes: s.framesBytes } : {}),
    };
  });
  const model = planModelOf(json);
  const inputCrosses = inputLink({ stages, transfers: Array.isArray(plan.transfers) ? plan.transfers.filter(isObject).map((t) => ({ from: String(t.from), to: String(t.to) })) : undefined }) !== undefined;
  return { stages, ...(model ? { model } : {}), what: 'plan', ...(inputCrosses ? { inputCrosses } : {}) };
}

function fromRows(json: Json, display: string, row: string | undefined): PlanFile {
  const rows = Array.isArray(json.rows) ? json.rows.filter(isObject) : [];
  const usable = rows.filter((r) => typeof r.stages === 'string' && r.stages !== '');
  const pick = row === undefined ? usable.find((r) => r.kind === 'optimum') : usable.find((r) => r.name === row);
  if (!pick) {
    const names = usable.map((r) => String(r.name)).slice(0, 8).join(', ');
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: ${row === undefined ? 'no optimum row with stages' : `no row named "${row}" with stages`} (rows: ${names || 'none'}); pick one with --row <name>`);
  }
  const label = String(pick.stages);
  const stages = label.split(' > ').map((part, i): PlanFileStage => {
    const m = /^(.+)\[([0-9.,]+)\]$/.exec(part.trim());
    if (!m) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: row "${String(pick.name)}": stage ${i} "${part}" has no layer indices (board[0..57]); export the plan with dnnpart solve --json instead`);
    const indices: number[] = [];
    for (const r of m[2]!.split(',')) {
      const [a, b] = r.split('..').map(Number);
      for (let k = a!; k <= (b ?? a!); k++) indices.push(k);
    }
    return { board: m[1]!, indices };
  });
  return { stages, what: `plans.json row ${String(pick.name)}` };
}

/**
 * The node -> stage map of `plan` on `graph` (from model file `modelDisplay`, sha256 `sha`).
 * Refuses a plan of another model (hash or names differ) and one that does not cover every node once.
 */
export function planStageMap(plan: PlanFile, graph: Graph, sha: string, display: string, modelDisplay: string): Record<string, number> {
  checkPlanModel(plan.model, graph, sha, display, modelDisplay);
  const names = graph.nodes.map((n) => n.name);
  const known = new Set(names);
  const stageOf: Record<string, number> = {};
  plan.stages.forEach((st, s) => {
    const ids = st.nodes ?? (st.indices ?? []).map((k) => {
      if (!Number.isInteger(k) || k < 0 || k >= names.length) {
        throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: ${plan.what}: stage ${s} has layer ${k}, but ${modelDisplay} has ${names.length} nodes (0..${names.length - 1}); a plan of another model?`);
      }
      return names[k]!;
    });
    ids.forEach((id, j) => {
      if (!known.has(id)) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages[${s}].nodes[${j}]: no node "${id}" in ${modelDisplay}; a plan of another model?`);
      if (stageOf[id] !== undefined) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages[${s}].nodes[${j}]: node "${id}" is already in stage ${stageOf[id]}`);
      stageOf[id] = s;
    });
  });
  const missing = names.filter((n) => stageOf[n] === undefined);
  if (missing.length > 0) {
    throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: the stages cover ${names.length - missing.length} of the ${names.length} nodes of ${modelDisplay}; missing "${missing[0]}"${missing.length > 1 ? ` and ${missing.length - 1} more` : ''}`);
  }
  const empty = plan.stages.findIndex((_, s) => !Object.values(stageOf).includes(s));
  if (empty >= 0) throw new UsageError('CLI_BAD_VALUE', `--plan ${display}: stages[${empty}] has no nodes`);
  return stageOf;
}
