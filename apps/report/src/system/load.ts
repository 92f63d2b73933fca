// Reading a system file: YAML with line numbers, validated by the JSON Schema, references
// checked and resolved, so every later error can still name the file, the line and the field.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Node as YamlNode } from 'yaml';
import type { BoardOrder, Constraints, Framing, Objective } from '@dnnpart/solver';
import { SystemError, type SystemErrorCode } from './errors.js';

/** How float tensors travel over links (the accuracy package's encodings). */
export type TransferEncoding = 'fp32' | 'fp16' | 'int8';

/** Minimum fidelity of the chosen plan, checked by running it (not solver constraints). */
export interface FidelityConstraints {
  readonly minCosine?: number;
  readonly minTop1Agreement?: number;
}
import { linksFileSchema, systemSchema } from './schema.js';

/** The repository's `profiles/` directory (board and link descriptions by name). */
export const profilesDir = fileURLToPath(new URL('../../../../profiles/', import.meta.url));

export interface MeasureSettings {
  readonly runs?: number;
  readonly warmup?: number;
  readonly threads?: number;
}

export interface SystemBoard {
  readonly id: string;
  /** Absolute path of a profile file. */
  readonly profile?: string;
  /** Profile this board here (it is the machine running dnnpart). */
  readonly measure?: MeasureSettings;
  /** Absolute path of a board description (analytic costs, or power and memory for the others). */
  readonly describe?: string;
  /** Overrides the description's or profile's memory; null: no cap. */
  readonly memoryBytes?: number | null;
  /** Memory of frames in flight per byte a stage receives and sends on (default: FRAME_BUFFERS in build.ts). */
  readonly frameBuffers?: { readonly perInByte: number; readonly perOutByte: number };
  /** The arithmetic the board runs (default: its description's defaultPrecision when analytic, else fp32). */
  readonly precision?: 'fp32' | 'fp16' | 'int8' | 'int16';
}

export interface SystemLink {
  readonly from: string;
  readonly to: string;
  /** Absolute path of a link description, when one is named. */
  readonly link?: string;
  readonly bidirectional: boolean;
  readonly bandwidthBytesPerSec?: number;
  readonly latencyMs?: number;
  readonly powerW?: number;
  readonly framing?: Framing;
  /** Encoding of float tensors on this link; overrides the system's `transfer`. */
  readonly transfer?: TransferEncoding;
  /** The field path in the file (`links[2]`), for messages. */
  readonly field: string;
}

/** A validated system file with every path made absolute. */
export interface SystemSpec {
  /** Absolute path of the file. */
  readonly file: string;
  /** The file as the user named it, for messages. */
  readonly displayFile: string;
  readonly name: string;
  readonly model: { readonly file?: string; readonly zoo?: string; readonly input?: readonly string[]; readonly seed?: number; readonly loopTrips?: Readonly<Record<string, number>> };
  readonly boards: readonly SystemBoard[];
  /** Absolute path of the link description joining every ordered pair not listed in `links`. */
  readonly network?: string;
  readonly links: readonly SystemLink[];
  readonly inputBoard: string;
  readonly objective: Objective;
  readonly boardOrder: BoardOrder;
  readonly constraints: Constraints;
  /** Encoding of float tensors crossing links (absent: fp32). */
  readonly transfer?: TransferEncoding;
  /** `constraints.minCosine` / `minTop1Agreement`, kept out of the solver's constraints. */
  readonly fidelity?: FidelityConstraints;
  /** Line number of each field path (`boards[1].profile` → 12). */
  readonly lines: Readonly<Record<string, number>>;
}

/** `file:line: field: message` — the prefix every system error starts with. */
export function where(spec: Pick<SystemSpec, 'displayFile' | 'lines'>, field: string): string {
  let f = field;
  // Fall back to the nearest enclosing field that has a line.
  // A top-level field has no parent: stop there (a missing `boards:` has no line at all).
  while (f && spec.lines[f] === undefined) f = f.includes('.') || f.includes('[') ? f.replace(/(\.[^.[\]]+|\[\d+\])$/, '') : '';
  const line = spec.lines[f];
  return `${spec.displayFile}${line !== undefined ? `:${line}` : ''}: ${field}`;
}

function fail(code: SystemErrorCode, spec: Pick<SystemSpec, 'displayFile' | 'lines'>, field: string, message: string): never {
  throw new SystemError(code, `${where(spec, field)}: ${message}`);
}

let validator: ReturnType<Ajv['compile']> | undefined;
let linksValidator: ReturnType<Ajv['compile']> | undefined;

/** Read, validate and resolve a system file; `displayFile` is how messages name it. */
export function loadSystem(file: string, displayFile: string = file): SystemSpec {
  const abs = path.resolve(file);
  if (!existsSync(abs) || !statSync(abs).isFile()) throw new SystemError('SYSTEM_FILE_NOT_FOUND', `${displayFile}: system file not found`);
  return parseSystem(readFileSync(abs, 'utf8'), abs, displayFile);
}

/** Validate and resolve system YAML text; relative paths are taken from `file`'s directory. */
export function parseSystem(text: string, file: string, displayFile: string = file): SystemSpec {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new SystemError('SYSTEM_YAML_SYNTAX', `${displayFile}:${line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const lines: Record<string, number> = {};
  collectLines(doc.contents as YamlNode | null, '', lineCounter, lines);
  const loc = { displayFile, lines };
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new SystemError('SYSTEM_SCHEMA', `${displayFile}:1: a system file is a mapping with version, model, boards, links`);
  }

  validator ??= new Ajv({ allErrors: true, strict: false }).compile(systemSchema);
  if (!validator(data)) {
    const { field, message } = explain(validator.errors ?? []);
    fail('SYSTEM_SCHEMA', loc, field, message);
  }
  const raw = data as RawSystem;
  const dir = path.dirname(file);

  const ids = new Set<string>();
  raw.boards.forEach((b, i) => {
    if (ids.has(b.id)) fail('SYSTEM_DUPLICATE_ID', loc, `boards[${i}].id`, `board id "${b.id}" is used twice`);
    ids.add(b.id);
  });
  const knownBoard = (id: string, field: string) => {
    if (!ids.has(id)) fail('SYSTEM_UNKNOWN_BOARD', loc, field, `no board "${id}" (boards: ${[...ids].join(', ')})`);
  };

  const ref = (value: string, field: string, kind: 'boards' | 'links' | null): string => {
    const p = resolveRef(value, dir, kind);
    if (existsSync(p)) return p;
    if (kind === null || looksLikePath(value)) fail('SYSTEM_REF_NOT_FOUND', loc, field, `file not found: ${value}`);
    // A bare name: say which names exist, as for zoo networks and board ids.
    const names = describedNames(kind);
    const near = closest(value, names);
    fail('SYSTEM_REF_NOT_FOUND', loc, field, `no ${kind === 'boards' ? 'board' : 'link'} description "${value}" (looked for ${path.relative(process.cwd(), p) || p}); ${near ? `did you mean "${near}"? Valid` : 'valid'} names: ${names.join(', ')}; or give a path to a description file`);
  };

  const boards: SystemBoard[] = raw.boards.map((b, i) => ({
    id: b.id,
    ...(b.profile !== undefined ? { profile: ref(b.profile, `boards[${i}].profile`, null) } : {}),
    ...(b.measure !== undefined ? { measure: b.measure === true ? {} : b.measure } : {}),
    ...(b.describe !== undefined ? { describe: ref(b.describe, `boards[${i}].describe`, 'boards') } : {}),
    ...(b.memoryBytes !== undefined ? { memoryBytes: b.memoryBytes } : {}),
    ...(b.frameBuffers !== undefined ? { frameBuffers: b.frameBuffers } : {}),
    ...(b.precision !== undefined ? { precision: b.precision } : {}),
  }));

  // Links from `linksFile` come first, so the file's own `links` override them pair by pair.
  const fileLinks = raw.linksFile !== undefined ? readLinksFile(ref(raw.linksFile, 'linksFile', null), raw.linksFile, loc) : null;
  const linkList = [...(fileLinks?.links ?? []), ...(raw.links ?? [])];
  const links: SystemLink[] = linkList.map((l, j) => {
    const fromFile = fileLinks !== null && j < fileLinks.links.length;
    const i = fromFile ? j : j - (fileLinks?.links.length ?? 0);
    const field = fromFile ? 'linksFile' : `links[${i}]`;
    // A mistake in the links file names its own line there.
    const at = fromFile ? fileLinks!.loc : loc;
    const f = `links[${i}]`;
    const known = (id: string, sub: string) => {
      if (!ids.has(id)) fail('SYSTEM_UNKNOWN_BOARD', at, `${f}.${sub}`, `no board "${id}" (boards of ${displayFile}: ${[...ids].join(', ')})`);
    };
    known(l.from, 'from');
    known(l.to, 'to');
    if (l.from === l.to) fail('SYSTEM_SCHEMA', at, `${f}.to`, `a link joins two different boards, got "${l.from}" twice`);
    if (l.link === undefined && (l.bandwidthBytesPerSec === undefined || l.latencyMs === undefined || l.powerW === undefined)) {
      fail('SYSTEM_SCHEMA', at, f, 'name a link description (link: 1000base-t) or give bandwidthBytesPerSec, latencyMs and powerW');
    }
    return {
      from: l.from,
      to: l.to,
      ...(l.link !== undefined ? { link: fromFile ? resolveRef(l.link, path.dirname(fileLinks!.file), 'links') : ref(l.link, `${field}.link`, 'links') } : {}),
      bidirectional: l.bidirectional ?? false,
      ...(l.bandwidthBytesPerSec !== undefined ? { bandwidthBytesPerSec: l.bandwidthBytesPerSec } : {}),
      ...(l.latencyMs !== undefined ? { latencyMs: l.latencyMs } : {}),
      ...(l.powerW !== undefined ? { powerW: l.powerW } : {}),
      ...(l.framing !== undefined ? { framing: l.framing } : {}),
      ...(l.transfer !== undefined ? { transfer: l.transfer } : {}),
      field,
    };
  });

  const inputBoard = raw.inputBoard ?? raw.boards[0]!.id;
  if (raw.inputBoard !== undefined) knownBoard(raw.inputBoard, 'inputBoard');

  const input = raw.model.input === undefined ? undefined
    : typeof raw.model.input === 'string' ? [raw.model.input]
    : Object.entries(raw.model.input).map(([k, v]) => `${k}=${v}`);
  const model = {
    ...(raw.model.file !== undefined ? { file: ref(raw.model.file, 'model.file', null) } : {}),
    ...(raw.model.zoo !== undefined ? { zoo: raw.model.zoo } : {}),
    ...(input ? { input } : {}),
    ...(raw.model.seed !== undefined ? { seed: raw.model.seed } : {}),
    ...(raw.model.loopTrips !== undefined ? { loopTrips: raw.model.loopTrips } : {}),
  };

  return {
    file,
    displayFile,
    name: raw.name ?? path.basename(file).replace(/\.ya?ml$/, ''),
    model,
    boards,
    ...(raw.network !== undefined ? { network: ref(raw.network, 'network', 'links') } : {}),
    links,
    inputBoard,
    objective: raw.objective ?? 'throughput',
    boardOrder: raw.boardOrder ?? 'free',
    constraints: Object.fromEntries(Object.entries(raw.constraints ?? {}).filter(([k]) => k !== 'minCosine' && k !== 'minTop1Agreement')),
    transfer: raw.transfer ?? 'fp32',
    fidelity: {
      ...(raw.constraints?.minCosine !== undefined ? { minCosine: raw.constraints.minCosine } : {}),
      ...(raw.constraints?.minTop1Agreement !== undefined ? { minTop1Agreement: raw.constraints.minTop1Agreement } : {}),
    },
    lines,
  };
}

interface RawSystem {
  version: 1;
  name?: string;
  model: { file?: string; zoo?: string; input?: string | Record<string, string>; seed?: number; loopTrips?: Record<string, number> };
  boards: { id: string; profile?: string; measure?: true | MeasureSettings; describe?: string; memoryBytes?: number | null; frameBuffers?: { perInByte: number; perOutByte: number }; precision?: 'fp32' | 'fp16' | 'int8' | 'int16' }[];
  network?: string;
  linksFile?: string;
  links?: { from: string; to: string; link?: string; bidirectional?: boolean; bandwidthBytesPerSec?: number; latencyMs?: number; powerW?: number; framing?: Framing; transfer?: TransferEncoding }[];
  inputBoard?: string;
  objective?: Objective;
  boardOrder?: BoardOrder;
  constraints?: Constraints & FidelityConstraints;
  transfer?: TransferEncoding;
}

type RawLink = NonNullable<RawSystem['links']>[number];

/** Read a links file (`dnnpart link` writes one) with its own line numbers. */
function readLinksFile(file: string, display: string, from: Pick<SystemSpec, 'displayFile' | 'lines'>): { file: string; links: RawLink[]; loc: Pick<SystemSpec, 'displayFile' | 'lines'> } {
  const shown = path.join(path.dirname(from.displayFile), display);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    return fail('SYSTEM_REF_NOT_FOUND', from, 'linksFile', `cannot read ${display} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new SystemError('SYSTEM_YAML_SYNTAX', `${shown}:${lineCounter.linePos(e.pos[0]).line}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const lines: Record<string, number> = {};
  collectLines(doc.contents as YamlNode | null, '', lineCounter, lines);
  const loc = { displayFile: shown, lines };
  const data: unknown = doc.toJS();
  linksValidator ??= new Ajv({ allErrors: true, strict: false }).compile(linksFileSchema);
  if (!linksValidator(data)) {
    const { field, message } = explain(linksValidator.errors ?? []);
    fail('SYSTEM_SCHEMA', loc, field || 'links', field === 'version' ? 'must be 1' : message);
  }
  return { file, links: (data as { links: RawLink[] }).links, loc };
}

function looksLikePath(value: string): boolean {
  return value.includes('/') || value.includes('\\') || /\.(ya?ml|json)$/.test(value);
}

/** A path relative to `dir`, or a bare name looked up in profiles/<kind>/<name>.yaml. */
export function resolveRef(value: string, dir: string, kind: 'boards' | 'links' | null): string {
  if (kind === null || looksLikePath(value)) return path.resolve(dir, value);
  return path.join(profilesDir, kind, `${value}.yaml`);
}

/** The names of the descriptions in profiles/<kind>/, sorted. */
function describedNames(kind: 'boards' | 'links'): string[] {
  try {
    return readdirSync(path.join(profilesDir, kind)).filter((f) => f.endsWith('.yaml')).map((f) => f.slice(0, -'.yaml'.length)).sort();
  } catch {
    return [];
  }
}

/** The name nearest to `value` by edit distance, if it is a likely typo (at most 2 edits). */
function closest(value: string, names: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
      prev = row;
    }
    return prev[b.length]!;
  };
  let best: { name: string; d: number } | undefined;
  for (const name of names) {
    const d = distance(value, name);
    if (d <= 2 && (best === undefined || d < best.d)) best = { name, d };
  }
  return best?.name;
}

/** Record the line of every mapping key and sequence item under `prefix`. */
function collectLines(node: YamlNode | null, prefix: string, lc: LineCounter, out: Record<string, number>): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = pair.key as YamlNode & { value?: unknown };
      const name = String((key as { value?: unknown }).value ?? key);
      const field = prefix ? `${prefix}.${name}` : name;
      if (key.range) out[field] = lc.linePos(key.range[0]).line;
      collectLines(pair.value as YamlNode | null, field, lc, out);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const field = `${prefix}[${i}]`;
      const n = item as YamlNode;
      if (n && n.range) out[field] = lc.linePos(n.range[0]).line;
      collectLines(n, field, lc, out);
    });
  }
}

/** ajv's JSON pointer (`/boards/1/profile`) as a field path (`boards[1].profile`). */
function fieldOf(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

/** One readable message out of ajv's errors: the deepest one outside oneOf branches. */
function explain(errors: readonly ErrorObject[]): { field: string; message: string } {
  const top = errors.filter((e) => !/\/(oneOf|anyOf|allOf|not)\/\d+|\/not\//.test(e.schemaPath));
  const pool = top.length > 0 ? top : errors;
  const best = [...pool].sort((a, b) => depth(b) - depth(a) || rank(a) - rank(b))[0]!;
  let field = fieldOf(best.instancePath);
  const p = best.params as Record<string, unknown>;
  switch (best.keyword) {
    case 'additionalProperties':
      field = field ? `${field}.${String(p.additionalProperty)}` : String(p.additionalProperty);
      return { field, message: `unknown field (allowed: ${allowedFields(best.instancePath).join(', ')})` };
    case 'required':
      field = field ? `${field}.${String(p.missingProperty)}` : String(p.missingProperty);
      return { field, message: 'missing (required)' };
    case 'enum':
      return { field, message: `must be one of ${(p.allowedValues as unknown[]).join(', ')}` };
    case 'const':
      return { field, message: `must be ${JSON.stringify(p.allowedValue)}` };
    case 'oneOf':
      return { field, message: oneOfMessage(field) };
    case 'pattern':
      return { field, message: field.endsWith('input') ? 'must be a shape like 1x3x224x224' : field.includes('input.') ? 'must be a shape like 1x3x224x224, "" for a scalar, or a fixed value like ":16000"' : 'must be a lower-case name of letters, digits, -, _ and . (no spaces or slashes)' };
    default:
      return { field, message: best.message ?? 'is not valid' };
  }
}

function depth(e: ErrorObject): number {
  return e.instancePath.split('/').length + (e.keyword === 'additionalProperties' || e.keyword === 'required' ? 1 : 0);
}

function rank(e: ErrorObject): number {
  return e.keyword === 'oneOf' ? 1 : 0;
}

function oneOfMessage(field: string): string {
  if (field === 'model') return 'give exactly one of file or zoo';
  if (/^boards\[\d+\]$/.test(field)) return 'give exactly one source of costs: profile, measure, or describe alone';
  if (field.endsWith('memoryBytes')) return 'must be a non-negative number, or null for no cap';
  if (field.endsWith('measure')) return 'must be true or a mapping of runs, warmup, threads';
  if (field.endsWith('input')) return 'must be a shape like 1x3x224x224, or a mapping of input name to shape';
  return 'does not match any allowed form';
}

function allowedFields(pointer: string): string[] {
  const parts = pointer.split('/').slice(1);
  let s: unknown = systemSchema;
  for (const part of parts) {
    const o = s as { properties?: Record<string, unknown>; items?: unknown };
    s = /^\d+$/.test(part) ? o.items : o.properties?.[part];
  }
  return Object.keys((s as { properties?: Record<string, unknown> })?.properties ?? {});
}
