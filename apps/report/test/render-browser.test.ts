// report.html in a real browser: Debian's Chromium driven by playwright-core. The page must
// load with no console error and no request at all, draw every chart, and show plans.json.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportData } from '../src/report-data.js';
import { parseFormatted, renderReport, type PlanRow } from '../src/render/index.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../../test-artifacts/', import.meta.url);

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/render/report-data.json', import.meta.url), 'utf8'),
) as ReportData;

/** How far a displayed figure may be from the JSON value: half a unit of its last printed digit. */
function tolerance(text: string, value: number): number {
  const digits = /\.(\d+)/.exec(text.replace(/\u2009/g, ''))?.[1]?.length ?? 0;
  const unit = /\bs$/.test(text) || /\bJ$/.test(text) ? 1000 : /%/.test(text) ? 0.01 : 1;
  return (0.5 * unit) / 10 ** digits + Math.abs(value) * 1e-12;
}

describe('report.html in Chromium', () => {
  let browser: Browser | undefined;
  let page: Page;
  const consoleErrors: string[] = [];
  const requests: string[] = [];
  const failed: string[] = [];
  let rows: PlanRow[] = [];

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`Chromium is missing at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does this in CI)`);
    }
    const dir = mkdtempSync(join(tmpdir(), 'dnnpart-browser-'));
    await renderReport(fixture, dir);
    rows = (JSON.parse(readFileSync(join(dir, 'plans.json'), 'utf8')) as { rows: PlanRow[] }).rows;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
        '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') consoleErrors.push(`${m.type()}: ${m.text()}`); });
    page.on('pageerror', (e) => consoleErrors.push(`pageerror: ${e.message}`));
    const url = pathToFileURL(join(dir, 'report.html')).href;
    page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });
    page.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    await page.goto(url, { waitUntil: 'load' });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads with no console errors, no failed requests and no request besides the page itself', () => {
    expect(consoleErrors).toEqual([]);
    expect(failed).toEqual([]);
    expect(requests).toEqual([]);
  });

  it('draws every chart as an <svg> of non-zero size', async () => {
    const charts = page.locator('svg[data-chart]');
    const n = await charts.count();
    expect(n).toBe(12);
    for (let i = 0; i < n; i += 1) {
      const box = await charts.nth(i).boundingBox();
      const name = await charts.nth(i).getAttribute('data-chart');
      expect(box, `chart ${name}`).not.toBeNull();
      expect(box?.width, `chart ${name}`).toBeGreaterThan(100);
      expect(box?.height, `chart ${name}`).toBeGreaterThan(50);
      // Drawn, not empty: every chart has marks inside.
      expect(await charts.nth(i).locator('path, rect, line, text').count(), `chart ${name}`).toBeGreaterThan(5);
    }
  });

  it('shows in its plan tables the values of plans.json', async () => {
    const cells = await page.$$eval('tr[data-row] td[data-col]', (tds) => tds.map((td) => ({
      row: Number(td.closest('tr')?.getAttribute('data-row')),
      col: td.getAttribute('data-col') as string,
      // innerText: the text as rendered, with <br> as line breaks.
      text: (td as unknown as { innerText: string }).innerText.trim(),
      value: td.getAttribute('data-value'),
    })));
    // data-row is unique on the page: one table row per plans.json row.
    const rowAttrs = await page.$$eval('tr[data-row]', (trs) => trs.map((tr) => tr.getAttribute('data-row')));
    expect(new Set(rowAttrs).size).toBe(rowAttrs.length);
    const seen = new Set(cells.map((c) => c.row));
    // Every optimum and baseline row, and every Pareto point, is on the page.
    expect([...seen].sort((a, b) => a - b)).toEqual(rows.map((_, i) => i));
    let checked = 0;
    for (const c of cells) {
      const row = rows[c.row] as PlanRow;
      const want = row[c.col as keyof PlanRow];
      if (typeof want === 'number') {
        expect(Number(c.value), `${row.name} ${c.col}`).toBe(want);
        if (c.col === 'gainOverBestSingleBoard') {
          expect(parseFormatted(c.text.replace(/\s+[a-z]+$/, '')), `${row.name} ${c.col}: ${c.text}`).toBeCloseTo(want, 3);
        } else {
          const shown = parseFormatted(c.text);
          expect(Math.abs(shown - want), `${row.name} ${c.col}: "${c.text}" vs ${want}`).toBeLessThanOrEqual(tolerance(c.text, want));
        }
        checked += 1;
      } else if (want === null) {
        expect(c.text, `${row.name} ${c.col}`).toBe('—');
      } else if (c.col === 'stages') {
        expect(c.text.replace(/\s*>\s*/g, ' > '), row.name).toBe(want === '' ? '—' : want);
      } else if (c.col === 'status') {
        expect(c.text).toBe(want);
      } else if (c.col === 'reason') {
        expect(c.text).toContain(want);
      }
    }
    // Every figure the tables show was compared: five columns per plan row, three per Pareto point.
    const shown = rows.reduce((n, r) => {
      const cols: (keyof PlanRow)[] = r.kind === 'pareto'
        ? ['throughputFps', 'latencyMs', 'energyMj']
        : ['throughputFps', 'latencyMs', 'energyMj', 'gainOverBestSingleBoard', 'solveMs'];
      return n + cols.filter((c) => typeof r[c] === 'number').length;
    }, 0);
    expect(checked).toBe(shown);
  });

  it('shows infeasible plans with their reason', async () => {
    const index = rows.findIndex((r) => r.system === 'squeezenet-2boards <eth>' && r.name === 'optimum:energy');
    const reason = await page.locator(`tr[data-reason-for="${index}"]`).innerText();
    expect(reason).toContain(`No plan (infeasible): ${rows[index]?.reason ?? ''}`);
    const status = await page.locator(`tr[data-row="${index}"] td[data-col="status"]`).innerText();
    expect(status).toBe('infeasible');
  });

  it('keeps a screenshot as a test artifact', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    const path = new URL('report.png', ARTIFACTS).pathname;
    await page.screenshot({ path, fullPage: true });
    expect(existsSync(path)).toBe(true);
  });
});
