// System files: the happy path resolves every reference; each mistake names file, line and field.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSystem, parseSystem, profilesDir, systemSchema, SystemError } from '@dnnpart/report';

const fixtures = fileURLToPath(new URL('./fixtures/system/', import.meta.url));
const file = path.join(fixtures, 'sys.yaml');

describe('loadSystem', () => {
  it('reads a valid file with every reference resolved and defaults filled', () => {
    const s = loadSystem(path.join(fixtures, 'valid.yaml'), 'valid.yaml');
    expect(s.name).toBe('fixture');
    expect(s.model).toEqual({ zoo: 'resnet18', input: ['1x3x64x64'] });
    expect(s.boards).toEqual([
      { id: 'a', measure: { runs: 3 } },
      { id: 'b', profile: path.join(fixtures, 'placeholder.profile.json'), memoryBytes: null },
    ]);
    expect(s.links).toEqual([
      { from: 'a', to: 'b', link: path.join(fixtures, 'link-fast.yaml'), bidirectional: true, field: 'links[0]' },
    ]);
    expect(s.inputBoard).toBe('b');
    expect(s.objective).toBe('latency');
    expect(s.boardOrder).toBe('fixed');
    expect(s.constraints).toEqual({ maxLatencyMs: 100 });
    expect(s.lines['boards[1].profile']).toBe(10);
  });

  it('defaults: name from the file, input board first, throughput, free order', () => {
    const s = parseSystem('version: 1\nmodel: { zoo: resnet18 }\nboards:\n  - id: x\n    describe: link-fast.yaml\n', file, 'sys.yaml');
    expect([s.name, s.inputBoard, s.objective, s.boardOrder, s.links.length]).toEqual(['sys', 'x', 'throughput', 'free', 0]);
  });

  // A bare name that is not there: the error lists the descriptions that are, and the nearest one.
  const boardNames = readdirSync(path.join(profilesDir, 'boards')).map((f) => f.replace(/\.yaml$/, '')).sort().join(', ');
  const linkNames = readdirSync(path.join(profilesDir, 'links')).map((f) => f.replace(/\.yaml$/, '')).sort().join(', ');
  const lookedFor = (kind: string, name: string) => path.relative(process.cwd(), path.join(profilesDir, kind, `${name}.yaml`));
  it.each([
    ['an unknown board', 'boards:\n  - id: x\n    describe: no-such-board\n',
      `sys.yaml:5: boards[0].describe: no board description "no-such-board" (looked for ${lookedFor('boards', 'no-such-board')}); valid names: ${boardNames}; or give a path to a description file`],
    ['a misspelled board', 'boards:\n  - id: x\n    describe: raspbery-pi-5\n',
      `sys.yaml:5: boards[0].describe: no board description "raspbery-pi-5" (looked for ${lookedFor('boards', 'raspbery-pi-5')}); did you mean "raspberry-pi-5"? Valid names: ${boardNames}; or give a path to a description file`],
    ['a misspelled link', 'boards:\n  - { id: x, describe: raspberry-pi-5 }\n  - { id: y, describe: raspberry-pi-5 }\nlinks:\n  - { from: x, to: y, link: ethernet-1000base }\n',
      `sys.yaml:7: links[0].link: no link description "ethernet-1000base" (looked for ${lookedFor('links', 'ethernet-1000base')}); did you mean "ethernet-1000base-t"? Valid names: ${linkNames}; or give a path to a description file`],
    ['a misspelled network', 'boards:\n  - { id: x, describe: raspberry-pi-5 }\nnetwork: wifi\n',
      `sys.yaml:5: network: no link description "wifi" (looked for ${lookedFor('links', 'wifi')}); valid names: ${linkNames}; or give a path to a description file`],
  ])('looks bare description names up in profiles/: %s', (_label, rest, message) => {
    const text = `version: 1\nmodel: { zoo: resnet18 }\n${rest}`;
    expect(() => parseSystem(text, file, 'sys.yaml')).toThrow(expect.objectContaining({ code: 'SYSTEM_REF_NOT_FOUND', message }));
  });

  it('names a missing file', () => {
    expect(() => loadSystem(path.join(fixtures, 'nope.yaml'), 'nope.yaml')).toThrow(expect.objectContaining({ code: 'SYSTEM_FILE_NOT_FOUND', message: 'nope.yaml: system file not found' }));
  });
});

const base = ['version: 1', 'model:', '  zoo: resnet18', 'boards:', '  - id: a', '    measure: true', '  - id: b', '    profile: placeholder.profile.json'];
const withLines = (...extra: string[]) => [...base, ...extra].join('\n') + '\n';
const replace = (i: number, line: string, ...extra: string[]) => {
  const l = [...base];
  l[i] = line;
  return [...l, ...extra].join('\n') + '\n';
};

describe.each([
  ['YAML syntax', withLines('links: [ {from: a'), 'SYSTEM_YAML_SYNTAX', /^sys\.yaml:(9|10): not valid YAML: /],
  ['not a mapping', '- 1\n- 2\n', 'SYSTEM_SCHEMA', /^sys\.yaml:1: a system file is a mapping/],
  ['wrong version', replace(0, 'version: 2'), 'SYSTEM_SCHEMA', /^sys\.yaml:1: version: must be 1$/],
  ['unknown top-level field', withLines('bords: []'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: bords: unknown field \(allowed: version, name, model, boards, network, linksFile, links, transfer, inputBoard, objective, boardOrder, constraints\)$/],
  ['model without file or zoo', replace(2, '  input: 1x3x8x8'), 'SYSTEM_SCHEMA', /^sys\.yaml:2: model: give exactly one of file or zoo$/],
  ['model with both', replace(2, '  zoo: resnet18\n  file: x.onnx'), 'SYSTEM_SCHEMA', /^sys\.yaml:2: model: give exactly one of file or zoo$/],
  ['bad input shape', replace(2, '  zoo: resnet18\n  input: 1x3xA'), 'SYSTEM_SCHEMA', /^sys\.yaml:4: model\.input: must be a shape like 1x3x224x224/],
  ['board without a source', replace(5, '    memoryBytes: 5'), 'SYSTEM_SCHEMA', /^sys\.yaml:5: boards\[0\]: give exactly one source of costs: profile, measure, or describe alone$/],
  ['board with profile and measure', replace(7, '    profile: placeholder.profile.json\n    measure: true'), 'SYSTEM_SCHEMA', /^sys\.yaml:7: boards\[1\]: give exactly one source/],
  ['board id with a slash', replace(6, '  - id: ../b'), 'SYSTEM_SCHEMA', /^sys\.yaml:7: boards\[1\]\.id: must be a lower-case name/],
  ['negative memory', withLines('    memoryBytes: -1'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: boards\[1\]\.memoryBytes: must be a non-negative number, or null for no cap$/],
  ['unknown board field', withLines('    profiel: x.json'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: boards\[1\]\.profiel: unknown field \(allowed: id, profile, measure, describe, memoryBytes, frameBuffers, precision\)$/],
  ['negative frame buffers', withLines('    frameBuffers: { perInByte: -1, perOutByte: 2 }'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: boards\[1\]\.frameBuffers\.perInByte: must be >= 0$/],
  ['frame buffers without perOutByte', withLines('    frameBuffers: { perInByte: 1 }'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: boards\[1\]\.frameBuffers\.perOutByte: missing \(required\)$/],
  ['duplicate board id', replace(6, '  - id: a'), 'SYSTEM_DUPLICATE_ID', /^sys\.yaml:7: boards\[1\]\.id: board id "a" is used twice$/],
  ['profile file missing', replace(7, '    profile: missing.profile.json'), 'SYSTEM_REF_NOT_FOUND', /^sys\.yaml:8: boards\[1\]\.profile: file not found: missing\.profile\.json$/],
  ['link to an unknown board', withLines('links:', '  - from: a', '    to: c', '    link: link-fast.yaml'), 'SYSTEM_UNKNOWN_BOARD', /^sys\.yaml:11: links\[0\]\.to: no board "c" \(boards of sys\.yaml: a, b\)$/],
  ['link without figures', withLines('links:', '  - { from: a, to: b, latencyMs: 1 }'), 'SYSTEM_SCHEMA', /^sys\.yaml:10: links\[0\]: name a link description/],
  ['link description missing', withLines('links:', '  - { from: a, to: b, link: ./nope.yaml }'), 'SYSTEM_REF_NOT_FOUND', /^sys\.yaml:10: links\[0\]\.link: file not found: \.\/nope\.yaml$/],
  ['input board unknown', withLines('inputBoard: z'), 'SYSTEM_UNKNOWN_BOARD', /^sys\.yaml:9: inputBoard: no board "z"/],
  ['bad objective', withLines('objective: speed'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: objective: must be one of throughput, latency, energy$/],
  ['bad constraint', withLines('constraints: { maxLatencyMs: 0 }'), 'SYSTEM_SCHEMA', /^sys\.yaml:9: constraints\.maxLatencyMs: must be > 0$/],
  ['duplicate key', withLines('objective: latency', 'objective: energy'), 'SYSTEM_YAML_SYNTAX', /^sys\.yaml:10: not valid YAML: Map keys must be unique/],
])('parseSystem rejects %s', (_what, text, code, message) => {
  it(`with ${code}`, () => {
    let err: unknown;
    try {
      parseSystem(text, file, 'sys.yaml');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SystemError);
    expect((err as SystemError).code).toBe(code);
    expect((err as SystemError).message).toMatch(message);
    expect((err as SystemError).message).not.toContain('\n');
  });
});

describe('committed system files', () => {
  it.each(['example.yaml', 'default.yaml', 'effnet-ci-orin-rpi5.yaml'])('%s is valid', (name) => {
    const s = loadSystem(path.join(profilesDir, 'systems', name));
    expect(s.boards.length).toBeGreaterThanOrEqual(2);
  });
});

describe('system.schema.json', () => {
  it('is the schema the loader validates with, for editors', () => {
    const committed = JSON.parse(readFileSync(path.join(profilesDir, 'systems', 'system.schema.json'), 'utf8'));
    expect(committed).toEqual({ $schema: 'http://json-schema.org/draft-07/schema#', title: 'dnnpart system file, version 1', ...JSON.parse(JSON.stringify(systemSchema)) });
  });
});
