// Reading, validating and writing profile files; joining a profile with its model.
import { readFile } from 'node:fs/promises';
import { ProfileError } from './errors.js';
import { profileJsonSchema, profileV1JsonSchema } from './profile-schema.js';
import { PROFILE_SCHEMA_IDS, type Profile } from './types.js';
import { compile, describeAjvError } from './_validate.js';
import { whyUnwritable, writeFileAtomic } from './_atomic.js';

const validators = {
  'dnnpart/profile@1': compile<Profile>(profileV1JsonSchema),
  'dnnpart/profile@2': compile<Profile>(profileJsonSchema),
} as const;

/** Check parsed JSON against the schema of its version (@2, or @1 for old files); `source` names the file in errors. */
export function validateProfile(json: unknown, source = '(profile)'): Profile {
  const id = json !== null && typeof json === 'object' && 'schema' in json ? (json as { schema: unknown }).schema : PROFILE_SCHEMA_IDS.at(-1);
  if (!(PROFILE_SCHEMA_IDS as readonly unknown[]).includes(id)) {
    throw new ProfileError('PROFILE_SCHEMA', `${source}: field schema is ${JSON.stringify(id)}, expected one of ${PROFILE_SCHEMA_IDS.map((s) => `"${s}"`).join(', ')} (re-create the profile with this version of dnnpart)`);
  }
  const validate = validators[id as keyof typeof validators];
  if (!validate(json)) {
    const { field, problem } = describeAjvError(validate.errors);
    throw new ProfileError('PROFILE_SCHEMA', `${source}: field ${field} ${problem}`);
  }
  const names = new Set<string>();
  for (const [i, n] of json.nodes.entries()) {
    if (names.has(n.name)) throw new ProfileError('PROFILE_SCHEMA', `${source}: field nodes.${i}.name repeats node "${n.name}"`);
    names.add(n.name);
  }
  return json;
}

/** Read and validate a profile file. */
export async function readProfile(path: string): Promise<Profile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ProfileError('PROFILE_FILE_NOT_FOUND', `${path}: cannot read profile (${code ?? 'error'})`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ProfileError('PROFILE_NOT_JSON', `${path}: not JSON (${(e as Error).message})`, { cause: e });
  }
  return validateProfile(json, path);
}

/** Validate and write a profile atomically (old file intact on failure; no temp file left behind). */
export async function writeProfile(path: string, profile: Profile, signal?: AbortSignal): Promise<void> {
  validateProfile(profile, path);
  const why = await whyUnwritable(path);
  if (why) throw new ProfileError('PROFILE_OUTPUT_UNWRITABLE', `${path}: cannot write profile: ${why}`);
  try {
    await writeFileAtomic(path, `${JSON.stringify(profile, null, 2)}\n`, signal);
  } catch (e) {
    if (signal?.aborted) throw new ProfileError('PROFILE_INTERRUPTED', `${path}: interrupted before the profile was written`, { cause: e });
    throw new ProfileError('PROFILE_OUTPUT_UNWRITABLE', `${path}: cannot write profile (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, { cause: e });
  }
}

/** Throw PROFILE_OUTPUT_UNWRITABLE now when `path` could not be written later (call before a long run). */
export async function assertWritable(path: string): Promise<void> {
  const why = await whyUnwritable(path);
  if (why) throw new ProfileError('PROFILE_OUTPUT_UNWRITABLE', `${path}: cannot write profile: ${why}`);
}

/** Refuse a profile made from another model file than the one with `sha256`. */
export function assertProfileMatchesModel(profile: Profile, sha256: string, modelName: string): void {
  if (profile.model.sha256 !== sha256.toLowerCase()) {
    throw new ProfileError(
      'PROFILE_MODEL_MISMATCH',
      `profile of model "${profile.model.name}" (sha256 ${profile.model.sha256.slice(0, 12)}…, board ${profile.board.name}) does not match model "${modelName}" (sha256 ${sha256.slice(0, 12)}…); profile this model file`,
    );
  }
}
