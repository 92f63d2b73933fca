// Board descriptions (profiles/boards/*.yaml): datasheet figures with their sources.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ProfileError } from './errors.js';
import { analyticParameterProperties } from './profile-schema.js';
import type { BoardDescription } from './types.js';
import { compile, describeAjvError } from './_validate.js';

const BOARD_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/** Throw PROFILE_BAD_BOARD_NAME unless `name` is a safe board name (no path characters). */
export function assertBoardName(name: string): void {
  if (typeof name !== 'string' || !BOARD_NAME.test(name) || name.includes('..')) {
    throw new ProfileError('PROFILE_BAD_BOARD_NAME', `board name ${JSON.stringify(name)} is not allowed: use lower-case letters, digits, ".", "_" and "-", starting with a letter or digit`);
  }
}

/** Engines a description's figures can assume: what runs the model on that board. */
export const boardEngines = ['onnxruntime-cpu', 'onnxruntime-cuda', 'onnxruntime-tensorrt', 'edgetpu', 'simulated'] as const;

const pos = { type: 'number', exclusiveMinimum: 0 } as const;
const nonNeg = { type: 'number', minimum: 0 } as const;

/** JSON Schema for a board description (the YAML file's content). */
export const boardDescriptionJsonSchema = {
  type: 'object',
  required: ['name', 'title', 'kind', 'peakGops', 'memoryBandwidthBytesPerSec', 'memoryBytes', 'power', 'sources'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: BOARD_NAME.source },
    title: { type: 'string', minLength: 1 },
    kind: { enum: ['cpu', 'gpu', 'npu', 'accelerator'] },
    engine: { enum: boardEngines },
    peakGops: {
      type: 'object',
      minProperties: 1,
      additionalProperties: false,
      properties: { fp32: pos, fp16: pos, int16: pos, int8: pos },
    },
    memoryBandwidthBytesPerSec: pos,
    activationBandwidthBytesPerSec: pos,
    cacheBytes: pos,
    memoryBytes: pos,
    power: {
      type: 'object',
      required: ['idleW', 'activeW'],
      additionalProperties: false,
      properties: { idleW: nonNeg, activeW: nonNeg },
    },
    defaultPrecision: { enum: ['fp32', 'fp16', 'int16', 'int8'] },
    analytic: {
      type: 'object',
      required: ['computeEfficiency', 'memoryEfficiency', 'perOpOverheadMs'],
      additionalProperties: false,
      properties: {
        ...analyticParameterProperties,
        calibration: { type: 'string' },
      },
    },
    boundary: {
      type: 'object',
      required: ['fixedMs', 'inMsPerByte', 'outMsPerByte'],
      additionalProperties: false,
      properties: { fixedMs: nonNeg, inMsPerByte: nonNeg, outMsPerByte: nonNeg, source: { type: 'string' } },
    },
    sources: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    notes: { type: 'string' },
    measured: { type: 'object', additionalProperties: { type: ['string', 'number'] } },
  },
} as const;

const validate = compile<BoardDescription>(boardDescriptionJsonSchema);

/** Validate a parsed board description; `file` names the source in errors. */
export function validateBoardDescription(json: unknown, file = '(board description)'): BoardDescription {
  if (!validate(json)) {
    const { field, problem } = describeAjvError(validate.errors);
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${file}: field ${field} ${problem}`);
  }
  const d = json;
  if (d.power.activeW < d.power.idleW) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${file}: field power.activeW (${d.power.activeW}) is below power.idleW (${d.power.idleW})`);
  }
  if (d.defaultPrecision && d.peakGops[d.defaultPrecision] === undefined) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${file}: field defaultPrecision is ${d.defaultPrecision} but peakGops has no ${d.defaultPrecision}`);
  }
  return d;
}

/** Load one board description YAML file; its `name` must equal the file's base name. */
export async function loadBoardDescription(path: string): Promise<BoardDescription> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${path}: cannot read board description (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  let json: unknown;
  try {
    json = parseYaml(text);
  } catch (e) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${path}: not valid YAML (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const d = validateBoardDescription(json, path);
  const stem = basename(path).replace(/\.ya?ml$/, '');
  if (d.name !== stem) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${path}: field name is "${d.name}" but the file is named "${stem}"; make them equal`);
  }
  return { ...d, file: path };
}

/** Load every `*.yaml` board description in `dir`, sorted by name. */
export async function listBoardDescriptions(dir: string): Promise<BoardDescription[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw new ProfileError('PROFILE_BOARD_DESCRIPTION', `${dir}: cannot list board descriptions (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  const files = entries.filter((f) => /\.ya?ml$/.test(f)).sort();
  return Promise.all(files.map((f) => loadBoardDescription(join(dir, f))));
}
