import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../src/report-data.js';
import { buildReport, parseCsv, PLAN_COLUMNS, PLANS_SCHEMA, renderReport, RenderError, type PlanRow } from '../src/render/index.js';
import { prefixSvgIds, renderChartSvg } from '../src/render/_charts.js';

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/render/report-data.json', import.meta.url), 'utf8'),
) as ReportData;

describe('renderReport on the fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dnnpart-render-'));
  let files: string[] = [];
  let html = '';
  let md = '';
  let json: { schema: string; rows: PlanRow[] } = { schema: '', rows: [] };
  let csv: string[][] = [];

  beforeAll(async () => {
    ({ files } = await renderReport(fixture, join(dir, 'out')));
    html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    md = readFileSync(join(dir, 'out', 'report.md'), 'utf8');
    json = JSON.parse(readFileSync(join(dir, 'out', 'plans.json'), 'utf8'));
    csv = parseCsv(readFileSync(join(dir, 'out', 'plans.csv'), 'utf8'));
  });

  it('writes the four files into a new directory', () => {
    expect(files.map((f) => f.slice(dir.length + 5))).toEqual(['report.html', 'report.md', 'plans.csv', 'plans.json']);
    for (const f of files) expect(existsSync(f)).toBe(true);
  });

  it('plans.json and plans.csv hold the same rows, one per plan and objective', () => {
    expect(json.schema).toBe(PLANS_SCHEMA);
    expect(json.rows).toHaveLength(3 + 5 + 3 + 6 + 3 + 4 + 1);
    expect(csv[0]).toEqual([...PLAN_COLUMNS]);
    expect(csv).toHaveLength(json.rows.length + 1);
    json.rows.forEach((row, i) => {
      const line = csv[i + 1] as string[];
      PLAN_COLUMNS.forEach((col, j) => {
        const v = row[col];
        expect(line[j]).toBe(v === null ? '' : String(v));
      });
    });
  });

  it.each([
    ['a', 'optimum:throughput', 'squeezenet-3boards', '281.9 FPS'],
    ['b', 'single:npu_stick', 'squeezenet-3boards', 'infeasible'],
    ['c', 'optimum:energy', 'squeezenet-2boards <eth>', 'infeasible'],
  ])('row %s: %s of %s shows %s in the HTML plan table', (_k, name, system, text) => {
    const index = json.rows.findIndex((r) => r.name === name && r.system === system);
    expect(index).toBeGreaterThanOrEqual(0);
    const tr = new RegExp(`<tr[^>]*data-row="${index}"[^>]*>(.*?)</tr>`, 's').exec(html);
    expect(tr?.[1]).toContain(text);
  });

  it('is self-contained: no script, no external URL, a CSP that forbids loading anything', () => {
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|@font-face/i);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//i);
    expect(html).not.toMatch(/url\((['"])?https?:/i);
    expect(html).toContain("default-src 'none'");
  });

  it('holds every chart as inline SVG with ids unique across the page', () => {
    const charts = [...html.matchAll(/<svg[^>]*data-chart="([^"]+)"/g)].map((m) => m[1]);
    expect(charts).toEqual([
      'comparison',
      's1-layer-latency', 's1-cut-bytes', 'pipeline', 's1-pareto-throughput-energy', 's1-pareto-latency-energy', 's1-memory', 's1-measured',
      's2-layer-latency', 's2-cut-bytes', 'pipeline', 's2-memory',
    ]);
    expect(html).toContain('aria-label="Latency of each layer on each board" data-chart="s1-layer-latency"');
    const ids = [...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('escapes names from the data and states headlines, infeasible plans and missing measurements', () => {
    expect(html).toContain('squeezenet-2boards &lt;eth&gt;');
    expect(html).not.toContain('<eth>');
    expect(html).toContain('Best throughput: 281.9 FPS on rpi5 → npu_stick → jetson_orin_nano, +57.4 % over the best single board (jetson_orin_nano, 179.1 FPS).');
    expect(html).toContain('No plan (infeasible): no plan meets maxEnergyMj 40 together with minThroughputFps 20');
    expect(html).toContain('No runtime measurements of these plans exist yet');
    expect(html).toContain('Comparison across systems');
  });

  it('report.md carries the same tables', () => {
    expect(md).toContain('## Comparison across systems');
    expect(md).toContain('**Best throughput: 281.9 FPS on rpi5 → npu_stick → jetson_orin_nano, +57.4 % over the best single board (jetson_orin_nano, 179.1 FPS).**');
    expect(md).toMatch(/\| Optimum: throughput \| optimal \| 281\.9 FPS \| 12\.0 ms \| 44\.9 mJ \| \+57\.4 % throughput \|/);
    expect(md).toContain('## 2. squeezenet-2boards &lt;eth>');
    // Every line of a table has as many cells as its header: no unescaped pipe broke a row.
    const tables: string[][] = [];
    let current: string[] = [];
    for (const line of md.split('\n')) {
      if (line.startsWith('|')) current.push(line);
      else if (current.length > 0) { tables.push(current); current = []; }
    }
    expect(tables.length).toBeGreaterThan(10);
    for (const t of tables) {
      const widths = t.map((l) => l.replace(/\\\|/g, '').split('|').length);
      expect(new Set(widths).size, t[0]).toBe(1);
    }
  });
});

describe('plans stopped before optimality was proven', () => {
  it.each([
    ['feasible with a gap', { status: 'feasible', gap: 0.0123, reason: 'stopped at the time limit before optimality was proven' },
      '(feasible, gap 1.2 %)', 'Not proven optimal (feasible, gap 1.2 %): stopped at the time limit before optimality was proven'],
    ['timeout without a plan', { status: 'timeout', reason: 'no plan found within 30 s', throughputFps: undefined, stages: undefined },
      'Lowest latency: no plan (timeout: no plan found within 30 s).', 'No plan (timeout): no plan found within 30 s'],
  ])('%s', async (_name, change, headlineText, rowText) => {
    const s1 = fixture.systems[0]!;
    const data: ReportData = { ...fixture, systems: [{ ...s1, plans: { ...s1.plans, latency: { ...s1.plans.latency, ...change } as never } }] };
    const { html, markdown, rows } = await buildReport(data);
    const row = rows.find((r) => r.name === 'optimum:latency');
    expect(row?.status).toBe(change.status);
    expect(html).toContain(headlineText);
    expect(html).toContain(rowText);
    expect(markdown).toContain(rowText);
  });
});

describe('renderer errors', () => {
  const tmp = () => mkdtempSync(join(tmpdir(), 'dnnpart-render-'));
  it.each([
    ['no systems', 'RENDER_NO_SYSTEMS', async () => renderReport({ ...fixture, systems: [] }, tmp())],
    ['output path is a file', 'RENDER_OUT_DIR', async () => {
      const file = join(tmp(), 'taken');
      writeFileSync(file, 'x');
      return renderReport(fixture, file);
    }],
    ['chart data from a URL', 'RENDER_NETWORK_BLOCKED', async () => renderChartSvg('remote', {
      data: { url: 'https://example.com/data.json' }, mark: 'point',
      encoding: { x: { field: 'a', type: 'quantitative' } },
    })],
    ['malformed chart', 'RENDER_CHART_FAILED', async () => renderChartSvg('broken', { mark: 'nonsense' } as never)],
  ] as const)('%s -> %s', async (_name, code, run) => {
    const err = await run().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RenderError);
    expect((err as RenderError).code).toBe(code);
    expect((err as RenderError).message).not.toContain('\n');
  });
});

describe('prefixSvgIds', () => {
  it.each([
    ['<clipPath id="clip1"/><g clip-path="url(#clip1)"/>', '<clipPath id="p-clip1"/><g clip-path="url(#p-clip1)"/>'],
    ['<use xlink:href="#g2"/><linearGradient id="g2"/>', '<use xlink:href="#p-g2"/><linearGradient id="p-g2"/>'],
    ['<rect width="3"/>', '<rect width="3"/>'],
  ])('%o', (input, expected) => {
    expect(prefixSvgIds(input, 'p-')).toBe(expected);
  });
});

describe('caveats', () => {
  it('are listed under their system, escaped in HTML and in Markdown', async () => {
    const data = structuredClone(fixture) as ReportData;
    const first = data.systems[0]!;
    (data.systems as ReportData['systems'][number][])[0] = { ...first, caveats: ['node <nms> | costed from here'] };
    const dir = mkdtempSync(join(tmpdir(), 'dnnpart-caveats-'));
    await renderReport(data, join(dir, 'out'));
    const html = readFileSync(join(dir, 'out', 'report.html'), 'utf8');
    const md = readFileSync(join(dir, 'out', 'report.md'), 'utf8');
    expect(html).toContain('<ul class="caveats"><li>node &lt;nms&gt; | costed from here</li></ul>');
    expect(html.match(/<h3>Caveats<\/h3>/g)).toHaveLength(1);
    expect(md).toMatch(/### Caveats\n\n.*\n\n- node &lt;nms> \\\| costed from here\n/);
  });
});
