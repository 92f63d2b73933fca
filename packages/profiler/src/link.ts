// Link descriptions (profiles/links/*.yaml): bandwidth, latency, power and framing of a link kind.
import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ProfileError } from './errors.js';
import type { LinkDescription, LinkFraming } from './types.js';
import { compile, describeAjvError } from './_validate.js';

interface LinkFile {
  name: string;
  title?: string;
  bandwidthBytesPerSec: number;
  /** Fixed latency per transfer (protocol, stack); propagation is added from the cable. */
  latencyMs?: number;
  propagationNsPerM?: number;
  cableLengthM?: number;
  powerW: number;
  framing: LinkFraming;
  sources: string[];
  notes?: string;
}

const pos = { type: 'number', exclusiveMinimum: 0 } as const;
const nonNeg = { type: 'number', minimum: 0 } as const;

/** JSON Schema for a link description file. */
export const linkDescriptionJsonSchema = {
  type: 'object',
  required: ['name', 'bandwidthBytesPerSec', 'powerW', 'framing', 'sources'],
  additionalProperties: false,
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9._-]*$' },
    title: { type: 'string' },
    bandwidthBytesPerSec: pos,
    latencyMs: nonNeg,
    propagationNsPerM: nonNeg,
    cableLengthM: nonNeg,
    powerW: nonNeg,
    framing: { enum: ['none', 'ethernet'] },
    sources: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    notes: { type: 'string' },
  },
} as const;

const validate = compile<LinkFile>(linkDescriptionJsonSchema);

/** Validate a parsed link file and resolve its latency (fixed + cable propagation). */
export function validateLinkDescription(json: unknown, file = '(link description)'): LinkDescription {
  if (!validate(json)) {
    const { field, problem } = describeAjvError(validate.errors);
    throw new ProfileError('PROFILE_LINK_DESCRIPTION', `${file}: field ${field} ${problem}`);
  }
  const l = json;
  if ((l.propagationNsPerM === undefined) !== (l.cableLengthM === undefined)) {
    throw new ProfileError('PROFILE_LINK_DESCRIPTION', `${file}: field ${l.cableLengthM === undefined ? 'cableLengthM' : 'propagationNsPerM'} is required when the other is given`);
  }
  const propagationMs = ((l.propagationNsPerM ?? 0) * (l.cableLengthM ?? 0)) / 1e6;
  return {
    name: l.name,
    ...(l.title !== undefined ? { title: l.title } : {}),
    bandwidthBytesPerSec: l.bandwidthBytesPerSec,
    latencyMs: (l.latencyMs ?? 0) + propagationMs,
    powerW: l.powerW,
    framing: l.framing,
    sources: l.sources,
    ...(l.cableLengthM !== undefined ? { cableLengthM: l.cableLengthM } : {}),
    ...(l.notes !== undefined ? { notes: l.notes } : {}),
  };
}

/** Load one link description YAML file; its `name` must equal the file's base name. */
export async function loadLinkDescription(path: string): Promise<LinkDescription> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new ProfileError('PROFILE_LINK_DESCRIPTION', `${path}: cannot read link description (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  let json: unknown;
  try {
    json = parseYaml(text);
  } catch (e) {
    throw new ProfileError('PROFILE_LINK_DESCRIPTION', `${path}: not valid YAML (${(e as Error).message.split('\n')[0]})`, { cause: e });
  }
  const l = validateLinkDescription(json, path);
  const stem = basename(path).replace(/\.ya?ml$/, '');
  if (l.name !== stem) {
    throw new ProfileError('PROFILE_LINK_DESCRIPTION', `${path}: field name is "${l.name}" but the file is named "${stem}"; make them equal`);
  }
  return { ...l, file: path };
}

/** Load every `*.yaml` link description in `dir`, sorted by name. */
export async function listLinkDescriptions(dir: string): Promise<LinkDescription[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (e) {
    throw new ProfileError('PROFILE_LINK_DESCRIPTION', `${dir}: cannot list link descriptions (${(e as NodeJS.ErrnoException).code ?? 'error'})`, { cause: e });
  }
  return Promise.all(entries.filter((f) => /\.ya?ml$/.test(f)).sort().map((f) => loadLinkDescription(join(dir, f))));
}
