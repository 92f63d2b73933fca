// ORT's Chrome-trace JSON split into model runs, kernel times summed per run.
import { describe, expect, it } from 'vitest';
import { parseTrace } from '../src/_trace.js';

const ev = (cat: string, name: string, ts: number, dur: number, op = 'Conv') => ({ cat, name, ts, dur, ph: 'X', args: { op_name: op, provider: 'CPUExecutionProvider' } });

describe('parseTrace', () => {
  it('splits by model_run and sums repeated kernels within a run (µs -> ms)', () => {
    const trace = [
      ev('Session', 'model_loading_uri', 0, 200),
      ev('Session', 'model_run', 1000, 500),
      ev('Node', 'a_kernel_time', 1010, 100),
      ev('Node', 'b_kernel_time', 1120, 300, 'Relu'),
      ev('Session', 'model_run', 2000, 400),
      ev('Node', 'a_kernel_time', 2010, 150),
      ev('Node', 'a_kernel_time', 2200, 50),
      // Outside any run (e.g. a session-initialisation kernel): ignored.
      ev('Node', 'c_kernel_time', 5000, 10),
      // Not a kernel event.
      ev('Node', 'a_fence_before', 2005, 1),
    ];
    const t = parseTrace(trace, 'ort.json');
    expect(t.runs.map((r) => r.ms)).toEqual([0.5, 0.4]);
    expect([...t.runs[0]!.kernels]).toEqual([['a', 0.1], ['b', 0.3]]);
    expect([...t.runs[1]!.kernels]).toEqual([['a', 0.2]]);
    expect(t.kernelInfo.get('b')).toEqual({ op: 'Relu', provider: 'CPUExecutionProvider' });
    expect(t.kernelInfo.has('c')).toBe(false);
  });

  it('accepts the { traceEvents } form', () => {
    expect(parseTrace({ traceEvents: [ev('Session', 'model_run', 0, 1000)] }, 'ort.json').runs).toEqual([{ ms: 1, kernels: new Map() }]);
  });

  it.each([['a string', 'oops'], ['null', null], ['an object without events', { events: [] }]])('refuses %s', (_label, json) => {
    expect(() => parseTrace(json, 'ort.json')).toThrow(expect.objectContaining({ code: 'PROFILE_TRACE', message: expect.stringContaining('ort.json') }));
  });
});
