// Chrome trace event JSON: tracks become named rows, ms become µs, bad spans and paths are refused.
import { chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFile } from 'node:fs/promises';
import { chromeTrace, profileModel, writeChromeTrace, type ChromeTraceSpan } from '@dnnpart/profiler';
import { tinyCnn } from './_model.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dnnpart-chrome-trace-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const spans: ChromeTraceSpan[] = [
  { name: '/conv1/Conv', track: 'stage 0 (pi5)', startMs: 0, durMs: 1.5, cat: 'node', args: { op: 'Conv' } },
  { name: '/relu/Relu', track: 'stage 0 (pi5)', startMs: 1.5, durMs: 0.0005 },
  { name: '/fc/Gemm', track: 'stage 1 (orin)', process: 'pipeline', startMs: 2.25, durMs: 0.125 },
];

describe('chromeTrace', () => {
  it('gives each process a pid and each track a tid, named by metadata events, times in µs', () => {
    const t = chromeTrace(spans);
    expect(t.displayTimeUnit).toBe('ms');
    const meta = t.traceEvents.filter((e) => e.ph === 'M' && (e.name === 'process_name' || e.name === 'thread_name'));
    expect(meta).toEqual([
      { ph: 'M', name: 'process_name', pid: 1, tid: 0, args: { name: 'dnnpart' } },
      { ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: { name: 'stage 0 (pi5)' } },
      { ph: 'M', name: 'process_name', pid: 2, tid: 0, args: { name: 'pipeline' } },
      { ph: 'M', name: 'thread_name', pid: 2, tid: 2, args: { name: 'stage 1 (orin)' } },
    ]);
    expect(t.traceEvents.filter((e) => e.ph === 'X')).toEqual([
      { name: '/conv1/Conv', cat: 'node', ph: 'X', ts: 0, dur: 1500, pid: 1, tid: 1, args: { op: 'Conv' } },
      { name: '/relu/Relu', cat: 'span', ph: 'X', ts: 1500, dur: 0.5, pid: 1, tid: 1 },
      { name: '/fc/Gemm', cat: 'span', ph: 'X', ts: 2250, dur: 125, pid: 2, tid: 2 },
    ]);
  });

  it.each([
    ['a negative duration', { name: 'x', track: 't', startMs: 0, durMs: -1 }],
    ['a NaN start', { name: 'x', track: 't', startMs: Number.NaN, durMs: 1 }],
    ['no track', { name: 'x', startMs: 0, durMs: 1 } as unknown as ChromeTraceSpan],
  ])('refuses %s, naming the span', (_label, span) => {
    expect(() => chromeTrace([spans[0]!, span])).toThrow(expect.objectContaining({ code: 'PROFILE_BAD_OPTIONS', message: expect.stringMatching(/^trace span 1 \("x"\)/) }));
  });
});

describe('writeChromeTrace', () => {
  it('writes the JSON that chromeTrace returns', async () => {
    const path = join(dir, 'sub', 't.json');
    await writeChromeTrace(spans, path);
    expect(JSON.parse(await readFile(path, 'utf8'))).toEqual(chromeTrace(spans));
  });

  it('refuses a directory that cannot be made, promptly (Node\'s recursive mkdir loops forever under /proc)', async () => {
    await expect(writeChromeTrace(spans, '/proc/dnnpart-no-such-dir/t.json')).rejects.toMatchObject({
      code: 'PROFILE_OUTPUT_UNWRITABLE',
      message: '/proc/dnnpart-no-such-dir/t.json: cannot write the trace: cannot create directory /proc/dnnpart-no-such-dir (ENOENT)',
    });
  });

  it('profileModel checks its trace path before any run', async () => {
    const model = join(dir, 'tiny.onnx');
    await writeFile(model, tinyCnn());
    await expect(profileModel(model, { board: 'b', runs: 1, warmup: 0, threads: 1, sensor: null, trace: '/proc/dnnpart-no-such-dir/t.json' })).rejects.toMatchObject({
      code: 'PROFILE_OUTPUT_UNWRITABLE',
      message: expect.stringMatching(/^\/proc\/dnnpart-no-such-dir\/t\.json: cannot write the trace: /),
    });
  });

  it('refuses a directory or an unwritable place with PROFILE_OUTPUT_UNWRITABLE naming the path', async () => {
    await mkdir(join(dir, 'adir'));
    await expect(writeChromeTrace(spans, join(dir, 'adir'))).rejects.toMatchObject({ code: 'PROFILE_OUTPUT_UNWRITABLE', message: expect.stringMatching(/adir: cannot write the trace: it is a directory/) });
    await mkdir(join(dir, 'ro'));
    await chmod(join(dir, 'ro'), 0o500);
    try {
      // Root ignores directory permissions for access(), but the probe write still fails on a
      // read-only directory only for non-root users; the path must be named either way.
      const r = await writeChromeTrace(spans, join(dir, 'ro', 't.json')).then(() => null, (e: unknown) => e);
      if (r !== null) expect(r).toMatchObject({ code: 'PROFILE_OUTPUT_UNWRITABLE', message: expect.stringContaining(join(dir, 'ro')) });
    } finally {
      await chmod(join(dir, 'ro'), 0o700);
    }
  });
});
