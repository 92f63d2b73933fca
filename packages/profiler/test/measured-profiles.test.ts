// The committed measured profiles: valid, named honestly, and joinable with the zoo's default export.
import { createHash } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readProfile } from '@dnnpart/profiler';
import { buildZooModel } from '@dnnpart/zoo';

const DIR = new URL('../../../profiles/measured/ci-x86-2core/', import.meta.url).pathname;
const files = (await readdir(DIR)).filter((f) => f.endsWith('.profile.json')).sort();

describe('profiles/measured/ci-x86-2core', () => {
  it('has 1- and 2-thread profiles of at least efficientnet_b0, resnet18 and mobilenet_v2', () => {
    for (const net of ['efficientnet_b0', 'resnet18', 'mobilenet_v2']) {
      expect(files).toContain(`${net}.t1.profile.json`);
      expect(files).toContain(`${net}.t2.profile.json`);
    }
  });

  it.each(files)('%s is valid and says what it is', async (file) => {
    const p = await readProfile(join(DIR, file));
    const [, net, threads] = /^(.+)\.t(\d+)\.profile\.json$/.exec(file)!;
    expect(p.model.name).toBe(net);
    expect(p.settings.threads).toBe(Number(threads));
    expect(p.board.name).toBe('ci-x86-2core');
    expect(p.source).toBe('measured');
    // No sensor on this machine: power comes from the description, and says so.
    expect(p.power.source).toBe('estimated');
    expect(p.nodes.length).toBeGreaterThan(10);
  });

  it.each(['resnet18', 'mobilenet_v2', 'efficientnet_b0', 'squeezenet1_1'])('%s matches the zoo default export (sha256)', async (net) => {
    const sha = createHash('sha256').update(buildZooModel(net)).digest('hex');
    for (const t of [1, 2]) expect((await readProfile(join(DIR, `${net}.t${t}.profile.json`))).model.sha256).toBe(sha);
  });
});
