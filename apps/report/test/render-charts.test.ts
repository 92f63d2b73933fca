import { readFileSync } from 'node:fs';
import type { PlanMetrics, PlanStage } from '@dnnpart/solver';
import { describe, expect, it } from 'vitest';
import type { ReportData, ReportSystem } from '../src/report-data.js';
import {
  coincidentLabels, cutPositions, layerLatencySpec, memorySpec, paretoSpec, stageSpans, tint,
} from '../src/render/_chart-specs.js';
import { byteScale, renderChartSvg } from '../src/render/_charts.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/render/report-data.json', import.meta.url), 'utf8'),
) as ReportData;
const s1 = fixture.systems[0] as ReportSystem;

function plan(stages: [string, string[]][]): PlanMetrics {
  return {
    throughputFps: 1, latencyMs: 1, energyMj: 1, transfers: [], bottleneck: 'a',
    stages: stages.map(([board, nodes]): PlanStage => ({ board, nodes, computeMs: 1, energyMj: 1, memoryBytes: 1 })),
  };
}
const index = new Map(['l0', 'l1', 'l2', 'l3', 'l4'].map((n, i) => [n, i]));

describe('stage spans and cut positions in the layer sequence', () => {
  it.each([
    ['two contiguous stages', [['a', ['l0', 'l1']], ['b', ['l2', 'l3', 'l4']]], [{ board: 'a', lo: 0, hi: 1 }, { board: 'b', lo: 2, hi: 4 }], [1]],
    ['one stage', [['a', ['l0', 'l1', 'l2', 'l3', 'l4']]], [{ board: 'a', lo: 0, hi: 4 }], []],
    ['interleaved branches have no single cut', [['a', ['l0', 'l2']], ['b', ['l1', 'l3', 'l4']]], [], []],
    ['stages out of sequence order', [['a', ['l3', 'l4']], ['b', ['l0', 'l1', 'l2']]], [], []],
    ['a node outside the layer list', [['a', ['l0', 'zz']]], [], []],
  ] as const)('%s', (_name, stages, spans, cuts) => {
    const p = plan(stages.map(([b, n]) => [b, [...n]]));
    expect(stageSpans(p, index)).toEqual(spans);
    expect(cutPositions(p, index)).toEqual(cuts);
  });
});

describe('small helpers', () => {
  it.each([
    ['#3b6ea8', 0.1, '#ebf1f6'],
    ['#000000', 0, '#ffffff'],
    ['#000000', 1, '#000000'],
  ])('tint(%o, %o) = %o', (hex, share, expected) => {
    expect(tint(hex, share)).toBe(expected);
  });

  it.each([
    [999, 'B', 1], [87_808, 'kB', 1e3], [2e6, 'MB', 1e6], [4e9, 'GB', 1e9],
  ])('byteScale(%o) = %o', (max, unit, divisor) => {
    expect(byteScale(max)).toEqual({ unit, divisor });
  });
});

describe('chart data', () => {
  it('breaks a board\'s latency line where it cannot run a layer', () => {
    const layers = s1.layers.map((l, i) => (i === 3 ? { ...l, latencyMs: { jetson_orin_nano: 1 } } : l));
    const spec = layerLatencySpec({ ...s1, layers }) as { layer: { data: { values: { i: number; board: string; ms: number | null }[] } }[] };
    const values = spec.layer.flatMap((l) => l.data.values).filter((v) => v.i === 3 && 'ms' in v);
    expect(values.map((v) => [v.board, v.ms])).toEqual([['jetson_orin_nano', 1], ['rpi5', null], ['npu_stick', null]]);
  });

  it('labels memory with bytes, the share of the cap, no cap, or not used', () => {
    const spec = memorySpec(s1) as { data: { values: { board: string; plan: string; label: string; pct: number }[] } };
    const label = (board: string, plan: string) => spec.data.values.find((v) => v.board === board && v.plan === plan)?.label;
    expect(label('npu_stick', 'throughput optimum')).toBe('1.30 MB of 1.50 MB (86.7 %)');
    expect(label('npu_stick', 'latency optimum')).toBe('not used');
    expect(label('jetson_orin_nano', 'throughput optimum')).toBe('4.63 MB (no cap)');
    expect(label('rpi5', 'latency optimum')).toBe('1.86 MB of 2.00 GB (<0.1 %)');
  });

  it('gives plans at the same point one label', () => {
    const pt = (x: number, series: string, label: string) => ({ x, y: 1, series, label });
    expect(coincidentLabels([
      pt(1, 'Optimum', 'latency optimum'), pt(1, 'Optimum', 'energy optimum'), pt(1, 'Baseline', 'single:simba_like'),
      pt(2, 'Baseline', 'single:a'), pt(2, 'Baseline', 'single:a#2'), pt(3, 'Optimum', 'throughput optimum (chosen)'),
    ]).map((p) => p.label)).toEqual([
      'latency, energy optimum = single:simba_like', 'single:a, single:a#2', 'throughput optimum (chosen)',
    ]);
  });

  it('draws no Pareto chart for an empty front', () => {
    expect(paretoSpec(fixture.systems[1] as ReportSystem, 'throughput,energy')).toBeUndefined();
    expect(paretoSpec(s1, 'throughput,energy')).toBeDefined();
    expect(paretoSpec(s1, 'no,such')).toBeUndefined();
  });

  it('renders a chart to SVG with escaped text and prefixed ids', async () => {
    const svg = await renderChartSvg('t<1>', {
      data: { values: [{ a: 1, b: '<b>&' }, { a: 2, b: 'x' }] }, mark: 'bar',
      encoding: { x: { field: 'b', type: 'nominal' }, y: { field: 'a', type: 'quantitative' } },
    });
    expect(svg.startsWith('<svg role="img" aria-label="t_1_" data-chart="t_1_"')).toBe(true);
    expect(svg).toContain('&lt;b&gt;&amp;');
    expect(svg).not.toContain('<b>');
  });
});
