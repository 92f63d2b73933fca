import { mkdtemp, readFile, readdir, rm, writeFile, mkdir, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertProfileMatchesModel, profileJsonSchema, readProfile, validateProfile, writeProfile, type Profile } from '@dnnpart/profiler';
import { SHA, sampleProfile } from './_profiles.js';
import { writeFileAtomic } from '../src/_atomic.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnnpart-profile-file-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A deep copy of the sample with one change applied. */
function variant(change: (p: Record<string, any>) => void): unknown {
  const p = structuredClone(sampleProfile()) as Record<string, any>;
  change(p);
  return p;
}

describe('validateProfile', () => {
  it('accepts a good profile and returns it', () => {
    expect(validateProfile(sampleProfile(), 'good.json').nodes).toHaveLength(2);
  });

  it.each([
    ['unknown schema version', (p: any) => (p.schema = 'dnnpart/profile@9'), /field schema is "dnnpart\/profile@9", expected one of "dnnpart\/profile@1", "dnnpart\/profile@2"/],
    ['missing board', (p: any) => delete p.board, /field board is required/],
    ['board name with a path', (p: any) => (p.board.name = '../etc'), /field board\.name must match pattern/],
    ['short sha256', (p: any) => (p.model.sha256 = 'abc'), /field model\.sha256 must match pattern/],
    ['negative latency', (p: any) => (p.nodes[0].latencyMs.median = -1), /field nodes\.0\.latencyMs\.median must be >= 0/],
    ['string latency', (p: any) => (p.nodes[1].latencyMs.p90 = '1'), /field nodes\.1\.latencyMs\.p90 must be number/],
    ['missing energyMj', (p: any) => delete p.nodes[0].energyMj, /field nodes\.0\.energyMj is required/],
    ['unknown power source', (p: any) => (p.power.source = 'guessed'), /field power\.source must be one of "measured", "estimated", "unavailable"/],
    ['unknown top-level field', (p: any) => (p.extra = 1), /field extra is not a known field/],
    ['repeated node', (p: any) => (p.nodes[1].name = '/conv1/Conv'), /field nodes\.1\.name repeats node "\/conv1\/Conv"/],
    ['not an object', (p: any) => (p.nodes = {}), /field nodes must be array/],
  ])('rejects %s with PROFILE_SCHEMA naming the file and field', (_label, change, message) => {
    let err: any;
    try {
      validateProfile(variant(change), 'bad.profile.json');
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe('PROFILE_SCHEMA');
    expect(err.message).toMatch(/^bad\.profile\.json: /);
    expect(err.message).toMatch(message);
  });

  it('exports the schema it validates with', () => {
    expect(profileJsonSchema.properties.schema.const).toBe('dnnpart/profile@2');
  });
});

describe('readProfile / writeProfile', () => {
  it('round-trips through an atomic write and leaves no temp file', async () => {
    const path = join(dir, 'rt', 'tiny.profile.json');
    await writeProfile(path, sampleProfile());
    expect(await readProfile(path)).toEqual(sampleProfile());
    expect(await readdir(join(dir, 'rt'))).toEqual(['tiny.profile.json']);
  });

  it('keeps the old file intact when the new profile is invalid', async () => {
    const path = join(dir, 'keep.profile.json');
    await writeProfile(path, sampleProfile());
    const before = await readFile(path, 'utf8');
    const bad = variant((p) => (p.endToEnd.medianMs = -5)) as Profile;
    await expect(writeProfile(path, bad)).rejects.toMatchObject({ code: 'PROFILE_SCHEMA' });
    expect(await readFile(path, 'utf8')).toBe(before);
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it('refuses a directory as the output before writing anything', async () => {
    const path = join(dir, 'occupied');
    await mkdir(join(path, 'inside'), { recursive: true });
    await expect(writeProfile(path, sampleProfile())).rejects.toMatchObject({ code: 'PROFILE_OUTPUT_UNWRITABLE', message: expect.stringContaining('is a directory') });
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('writeFileAtomic removes its temp file when the rename fails', async () => {
    // The target is a non-empty directory: the temp file is written and synced, then rename() fails.
    const sub = join(dir, 'atomic');
    await mkdir(join(sub, 'target', 'inside'), { recursive: true });
    await expect(writeFileAtomic(join(sub, 'target'), 'data')).rejects.toThrow();
    expect(await readdir(sub)).toEqual(['target']);
    expect(await readdir(join(sub, 'target'))).toEqual(['inside']);
  });

  it('writes nothing when aborted', async () => {
    const path = join(dir, 'aborted.profile.json');
    const ac = new AbortController();
    ac.abort();
    await expect(writeProfile(path, sampleProfile(), ac.signal)).rejects.toMatchObject({ code: 'PROFILE_INTERRUPTED' });
    expect((await readdir(dir)).filter((f) => f.startsWith('aborted') || f.includes('aborted.profile.json'))).toEqual([]);
  });

  it.each([
    ['under a regular file', async () => {
      await writeFile(join(dir, 'plain'), 'x');
      return join(dir, 'plain', 'p.json');
    }],
    ['in a read-only directory', async () => {
      const ro = join(dir, 'ro');
      await mkdir(ro, { recursive: true });
      await chmod(ro, 0o555);
      return join(ro, 'p.json');
    }],
  ])('refuses an unwritable path (%s)', async (_label, make) => {
    const path = await make();
    const e = await writeProfile(path, sampleProfile()).catch((x: unknown) => x as any);
    // Root may write into a read-only directory; then the write succeeds, which is correct too.
    if (e === undefined) expect(process.getuid?.()).toBe(0);
    else expect(e.code).toBe('PROFILE_OUTPUT_UNWRITABLE');
  });

  it.each([
    ['missing file', 'nope.json', null, 'PROFILE_FILE_NOT_FOUND'],
    ['not JSON', 'garbage.json', '{"schema": ', 'PROFILE_NOT_JSON'],
    ['schema violation', 'old.json', JSON.stringify({ schema: 'dnnpart/profile@0' }), 'PROFILE_SCHEMA'],
  ])('readProfile: %s -> %s', async (_label, name, content, code) => {
    const path = join(dir, name);
    if (content !== null) await writeFile(path, content);
    await expect(readProfile(path)).rejects.toMatchObject({ code, message: expect.stringContaining(path) });
  });
});

describe('assertProfileMatchesModel', () => {
  it('accepts the same model (hash case-insensitive)', () => {
    expect(() => assertProfileMatchesModel(sampleProfile(), SHA.toUpperCase(), 'tiny')).not.toThrow();
  });

  it('refuses a profile of another model, naming both', () => {
    expect(() => assertProfileMatchesModel(sampleProfile(), 'b'.repeat(64), 'resnet18')).toThrow(
      expect.objectContaining({ code: 'PROFILE_MODEL_MISMATCH', message: expect.stringMatching(/profile of model "tiny".*does not match model "resnet18"/) }),
    );
  });
});
