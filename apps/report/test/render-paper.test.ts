// The paper's EfficientNet-B0 case end to end through the renderer: the problem imported from
// the published per-layer costs, solved with GLPK, rendered. The headline must state the
// paper's result: 4.82 FPS on Eyeriss-like then Simba-like, +47.7 % over Simba-like alone.
import { CNNPARTED_DATA_DIR, importCnnparted } from '@dnnpart/cnnparted';
import { solve, type Objective, type Plan } from '@dnnpart/solver';
import { describe, expect, it } from 'vitest';
import type { ReportData } from '../src/report-data.js';
import { partsFromProblem } from '../src/system/plans.js';
import { buildReport } from '../src/render/index.js';

const PAPER = CNNPARTED_DATA_DIR;

describe('the paper\'s EfficientNet-B0 result in the report', () => {
  it('headlines 4.82 FPS, +47.7 % over the best single board, and draws the split', async () => {
    const problem = await importCnnparted(PAPER, { net: 'efficientnet', platforms: ['eyeriss_like', 'simba_like'], order: 'fixed' });
    const plans = {} as Record<Objective, Plan>;
    for (const o of ['throughput', 'latency', 'energy'] as const) plans[o] = await solve(problem, { objective: o, timeLimitS: 60 });
    const data: ReportData = {
      title: 'EfficientNet-B0 on the paper\'s two accelerators', createdAt: '2026-11-28T12:00:00Z', tool: { name: 'dnnpart', version: 'test' },
      systems: [{ ...partsFromProblem(problem, 'efficientnet'), plans, pareto: {} }],
    };
    const { html, markdown, rows } = await buildReport(data);
    const headline = 'Best throughput: 4.82 FPS on eyeriss_like → simba_like, +47.7 % over the best single board (simba_like, 3.26 FPS).';
    expect(html).toContain(headline);
    expect(markdown).toContain(`**${headline}**`);
    const best = rows.find((r) => r.name === 'optimum:throughput');
    expect(best?.stages).toMatch(/^eyeriss_like\[0\.\.\d+\] > simba_like\[\d+\.\.\d+\]$/);
    expect(best?.gainOverBestSingleBoard).toBeCloseTo(4.821 / 3.263 - 1, 2);
    // The chosen cut is drawn on both layer charts and in the pipeline.
    expect(html).toContain('data-chart="s1-layer-latency"');
    expect(html).toMatch(/<svg[^>]*data-chart="pipeline"[\s\S]*?eyeriss_like[\s\S]*?simba_like[\s\S]*?bottleneck/);
  });
});
