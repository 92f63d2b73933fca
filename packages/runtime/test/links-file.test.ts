// A system file's `linksFile:` (what `dnnpart link` writes): its links come first, the system's
// own links override them, and a mistake in it names the links file's own line.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseSystem } from '@dnnpart/report';
import { linksYaml } from '@dnnpart/runtime';

const dir = mkdtempSync(path.join(tmpdir(), 'dnnpart-linksfile-'));
const system = (extra = '') => `version: 1\nmodel: { zoo: squeezenet1_1 }\nboards:\n  - { id: a, describe: ci-x86-2core }\n  - { id: b, describe: ci-x86-2core }\nlinksFile: links.yaml\n${extra}`;
const load = (links: string, extra = '') => {
  writeFileSync(path.join(dir, 'links.yaml'), links);
  return parseSystem(system(extra), path.join(dir, 'system.yaml'), 'system.yaml');
};

describe('linksFile', () => {
  it('reads what dnnpart link writes', () => {
    const text = linksYaml([
      { from: 'a', to: 'b', latencyMs: 0.25, bandwidthBytesPerSec: 1.1e8, rttMs: 0.5, samples: [] },
      { from: 'b', to: 'a', latencyMs: 0.5, bandwidthBytesPerSec: 9e7, rttMs: 1, samples: [] },
    ]);
    expect(load(text).links.map((l) => [l.from, l.to, l.bandwidthBytesPerSec, l.latencyMs, l.powerW, l.framing, l.field])).toEqual([
      ['a', 'b', 110000000, 0.25, 0, 'none', 'linksFile'],
      ['b', 'a', 90000000, 0.5, 0, 'none', 'linksFile'],
    ]);
  });

  it.each([
    ['links:\n  - { from: a, to: x, bandwidthBytesPerSec: 1, latencyMs: 1, powerW: 0 }\n', 'links.yaml:2: links[0].to: no board "x" (boards of system.yaml: a, b)'],
    ['version: 1\nlinks:\n  - { from: a, to: b, latencyMs: 1, powerW: 0 }\n', 'links.yaml:3: links[0]: name a link description (link: 1000base-t) or give bandwidthBytesPerSec, latencyMs and powerW'],
    ['version: 2\nlinks: []\n', 'links.yaml:1: version: must be 1'],
    ['links:\n  - { from: a, to: b, bandwidth: 5 }\n', 'links.yaml:2: links[0].bandwidth: unknown field'],
    ['nodes: []\n', 'links.yaml: links: missing (required)'],
    ['links: [\n', 'links.yaml:2: not valid YAML'],
  ])('a mistake in the links file names its line: %j', (text, message) => {
    expect(() => load(text)).toThrow(expect.objectContaining({ message: expect.stringContaining(message) }));
  });

  it('a missing links file is named at the system file\'s line', () => {
    expect(() => parseSystem(system().replace('links.yaml', 'gone.yaml'), path.join(dir, 'system.yaml'), 'system.yaml')).toThrow(
      expect.objectContaining({ code: 'SYSTEM_REF_NOT_FOUND', message: expect.stringContaining('system.yaml:6: linksFile: file not found: gone.yaml') }),
    );
  });
});
