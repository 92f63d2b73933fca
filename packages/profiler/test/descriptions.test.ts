import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBoardName, listBoardDescriptions, listLinkDescriptions, loadBoardDescription, loadLinkDescription } from '@dnnpart/profiler';

const PROFILES = new URL('../../../profiles/', import.meta.url).pathname;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnnpart-desc-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const GOOD_BOARD = `name: tiny-board
title: A test board
kind: cpu
peakGops: { fp32: 10 }
memoryBandwidthBytesPerSec: 1e9
memoryBytes: 1e9
power: { idleW: 1, activeW: 2 }
sources: [a datasheet]
`;

describe('board descriptions in profiles/boards', () => {
  it('all load, and the required boards are there', async () => {
    const boards = await listBoardDescriptions(join(PROFILES, 'boards'));
    const names = boards.map((b) => b.name);
    for (const n of ['raspberry-pi-4', 'raspberry-pi-5', 'jetson-nano', 'jetson-orin-nano', 'coral-dev-board', 'eyeriss-like', 'simba-like', 'ci-x86-2core']) {
      expect(names).toContain(n);
    }
    for (const b of boards) {
      expect(b.sources.length).toBeGreaterThan(0);
      expect(b.power.activeW).toBeGreaterThanOrEqual(b.power.idleW);
      expect(b.file).toBe(join(PROFILES, 'boards', `${b.name}.yaml`));
    }
  });

  it('holds the paper accelerators at 200 MHz: 168 x 16-bit MACs and 1024 x 8-bit MACs', async () => {
    const eyeriss = await loadBoardDescription(join(PROFILES, 'boards', 'eyeriss-like.yaml'));
    const simba = await loadBoardDescription(join(PROFILES, 'boards', 'simba-like.yaml'));
    expect(eyeriss.peakGops.int16).toBeCloseTo(168 * 2 * 0.2, 9);
    expect(simba.peakGops.int8).toBeCloseTo(1024 * 2 * 0.2, 9);
    expect(eyeriss.memoryBytes).toBe(600000000);
  });
});

describe('loadBoardDescription: bad files', () => {
  it.each([
    ['missing field', GOOD_BOARD.replace(/^memoryBytes.*\n/m, ''), /field memoryBytes is required/],
    ['negative bandwidth', GOOD_BOARD.replace('1e9\nmemoryBytes', '-1\nmemoryBytes'), /field memoryBandwidthBytesPerSec must be > 0/],
    ['zero activation bandwidth', `${GOOD_BOARD}activationBandwidthBytesPerSec: 0\n`, /field activationBandwidthBytesPerSec must be > 0/],
    ['a negative cache', `${GOOD_BOARD}cacheBytes: -1\n`, /field cacheBytes must be > 0/],
    ['unknown kind', GOOD_BOARD.replace('kind: cpu', 'kind: fpga'), /field kind must be one of/],
    ['unknown precision', GOOD_BOARD.replace('{ fp32: 10 }', '{ fp64: 10 }'), /field peakGops\.fp64 is not a known field/],
    ['no sources', GOOD_BOARD.replace('[a datasheet]', '[]'), /field sources must NOT have fewer than 1 items/],
    ['active below idle', GOOD_BOARD.replace('activeW: 2', 'activeW: 0.5'), /field power\.activeW \(0\.5\) is below power\.idleW/],
    ['precision without a peak', `${GOOD_BOARD}defaultPrecision: int8\n`, /field defaultPrecision is int8 but peakGops has no int8/],
    ['name with a path', GOOD_BOARD.replace('name: tiny-board', 'name: ../tiny-board'), /field name must match pattern/],
    ['name unlike the file', GOOD_BOARD.replace('name: tiny-board', 'name: other-board'), /field name is "other-board" but the file is named "tiny-board"/],
    ['not YAML', 'name: [unclosed', /not valid YAML/],
  ])('%s', async (_label, text, message) => {
    const path = join(dir, 'tiny-board.yaml');
    await writeFile(path, text);
    await expect(loadBoardDescription(path)).rejects.toMatchObject({ code: 'PROFILE_BOARD_DESCRIPTION', message: expect.stringMatching(message) });
    await expect(loadBoardDescription(path)).rejects.toMatchObject({ message: expect.stringContaining(path) });
  });

  it('a missing file', async () => {
    await expect(loadBoardDescription(join(dir, 'nope.yaml'))).rejects.toMatchObject({ code: 'PROFILE_BOARD_DESCRIPTION', message: expect.stringContaining('ENOENT') });
  });
});

describe('assertBoardName', () => {
  it.each(['ci-x86-2core', 'rpi5', 'jetson_orin.nano', '0board'])('accepts %s', (name) => {
    expect(() => assertBoardName(name)).not.toThrow();
  });
  it.each(['../x', 'a/b', 'a\\b', 'Board', '-x', '', '.hidden', 'a..b', 'a b'])('rejects %j', (name) => {
    expect(() => assertBoardName(name)).toThrow(expect.objectContaining({ code: 'PROFILE_BAD_BOARD_NAME' }));
  });
});

describe('link descriptions', () => {
  it('Ethernet follows the paper: line rates, 6 ns/m over 5 m, power, framing', async () => {
    const links = await listLinkDescriptions(join(PROFILES, 'links'));
    const byName = new Map(links.map((l) => [l.name, l]));
    expect([...byName.keys()]).toEqual(expect.arrayContaining(['ethernet-100base-t', 'ethernet-1000base-t', 'ethernet-10gbase-t', 'usb-2.0', 'usb-3.0']));
    expect(links.some((l) => l.name.startsWith('wifi-'))).toBe(true);
    for (const [name, bw, w] of [
      ['ethernet-100base-t', 12.5e6, 0.2],
      ['ethernet-1000base-t', 125e6, 0.6],
      ['ethernet-10gbase-t', 1.25e9, 4],
    ] as const) {
      const l = byName.get(name)!;
      expect(l).toMatchObject({ bandwidthBytesPerSec: bw, powerW: w, framing: 'ethernet', cableLengthM: 5 });
      expect(l.latencyMs).toBeCloseTo(5 * 6e-6, 12);
    }
    for (const l of links) expect(l.sources.length).toBeGreaterThan(0);
  });

  it.each([
    ['missing bandwidth', 'name: l\nframing: none\npowerW: 1\nsources: [x]\n', /field bandwidthBytesPerSec is required/],
    ['bad framing', 'name: l\nframing: atm\nbandwidthBytesPerSec: 1\npowerW: 1\nsources: [x]\n', /field framing must be one of "none", "ethernet"/],
    ['cable without speed', 'name: l\nframing: none\nbandwidthBytesPerSec: 1\npowerW: 1\ncableLengthM: 3\nsources: [x]\n', /field propagationNsPerM is required when the other is given/],
    ['zero bandwidth', 'name: l\nframing: none\nbandwidthBytesPerSec: 0\npowerW: 1\nsources: [x]\n', /field bandwidthBytesPerSec must be > 0/],
  ])('rejects %s with PROFILE_LINK_DESCRIPTION', async (_label, text, message) => {
    const path = join(dir, 'l.yaml');
    await writeFile(path, text);
    await expect(loadLinkDescription(path)).rejects.toMatchObject({ code: 'PROFILE_LINK_DESCRIPTION', message: expect.stringMatching(message) });
  });

  it('adds cable propagation to the fixed latency', async () => {
    const path = join(dir, 'l.yaml');
    await writeFile(path, 'name: l\nframing: none\nbandwidthBytesPerSec: 1e6\nlatencyMs: 0.5\npropagationNsPerM: 5\ncableLengthM: 100\npowerW: 1\nsources: [x]\n');
    expect(await loadLinkDescription(path)).toMatchObject({ name: 'l', latencyMs: 0.5 + 0.0005, bandwidthBytesPerSec: 1e6, powerW: 1, framing: 'none', sources: ['x'] });
  });
});
