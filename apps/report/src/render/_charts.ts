// Charts as vega-lite specs over plain rows, rendered to SVG on the server so the page
// needs no script: the data is inlined and the loader refuses every URL, so nothing is fetched.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { RenderError } from './errors.js';
import { escapeHtml } from './format.js';

/** Restrained, colour-blind-safe categorical palette (Okabe-Ito, darkened for print). */
export const PALETTE: readonly string[] = ['#3b6ea8', '#d08a2c', '#3f8f6b', '#b5515b', '#7a5fa3', '#8a7352', '#5c6b73'];

/** The font stack every chart uses: installed fonts only, nothing to download. */
export const CHART_FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';

const CHART_CONFIG = {
  font: CHART_FONT,
  background: '#ffffff',
  view: { stroke: '#d4d7dc' },
  axis: {
    labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, titleColor: '#333', labelColor: '#444',
    gridColor: '#eceef1', domainColor: '#888', tickColor: '#888',
  },
  // A fixed y-axis width keeps the x axes of stacked charts aligned.
  axisY: { minExtent: 44 },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600, orient: 'bottom', direction: 'horizontal' },
  title: { fontSize: 13, fontWeight: 600, anchor: 'start', color: '#222' },
  range: { category: [...PALETTE] },
} as const;

/** A spec with the shared look; the caller's own config keys win. */
export function withConfig(spec: TopLevelSpec): TopLevelSpec {
  const own = (spec as { config?: object }).config ?? {};
  return { ...spec, config: { ...CHART_CONFIG, ...own } } as TopLevelSpec;
}

function refuse(what: string): Promise<never> {
  return Promise.reject(new RenderError('RENDER_NETWORK_BLOCKED', `a chart tried to load ${what}; report charts must inline their data`));
}

// Every way vega could reach outside the page fails loudly instead.
const OFFLINE_LOADER: vega.Loader = {
  load: (uri) => refuse(uri),
  sanitize: (uri) => refuse(uri),
  http: (uri) => refuse(uri),
  file: (name) => refuse(name),
};

/**
 * Prefix every id in an SVG (clip paths, gradients) with `prefix`, so several charts inlined
 * in one HTML document cannot capture each other's references.
 */
export function prefixSvgIds(svg: string, prefix: string): string {
  return svg
    .replace(/\bid="([^"]+)"/g, (_m, id: string) => `id="${prefix}${id}"`)
    .replace(/url\(#([^)]+)\)/g, (_m, id: string) => `url(#${prefix}${id})`)
    .replace(/(xlink:href|href)="#([^"]+)"/g, (_m, attr: string, id: string) => `${attr}="#${prefix}${id}"`);
}

/** Render a vega-lite spec to a standalone SVG string; `name` labels the chart in errors and ids. */
export async function renderChartSvg(name: string, spec: TopLevelSpec): Promise<string> {
  // vega reports runtime errors, and failed loads as mere warnings, to its logger instead of
  // rejecting: the logger collects them and they are raised after rendering. Other warnings are dropped.
  const errors: unknown[] = [];
  const logger = vega.logger(vega.Warn, undefined, (_method, level, args) => {
    if (level === 'ERROR') errors.push(...args);
    else errors.push(...args.filter((a) => a instanceof RenderError));
  });
  let view: vega.View | undefined;
  try {
    const compiled = compile(withConfig(spec), { logger }).spec;
    view = new vega.View(vega.parse(compiled), { renderer: 'none', loader: OFFLINE_LOADER, logger });
    const svg = await view.toSVG();
    const blocked = errors.find((e) => e instanceof RenderError);
    if (blocked !== undefined) throw blocked;
    if (errors.length > 0) throw new Error(errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; '));
    const safeName = name.replace(/[^A-Za-z0-9_-]/g, '_');
    // Screen readers get the chart's title; data-chart names it for tests and scripts.
    const title = (spec as { title?: string | { text?: string } }).title;
    const label = (typeof title === 'string' ? title : title?.text) ?? safeName;
    return prefixSvgIds(svg, `${safeName}-`)
      .replace('<svg ', `<svg role="img" aria-label="${escapeHtml(label)}" data-chart="${safeName}" `);
  } catch (e) {
    if (e instanceof RenderError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new RenderError('RENDER_CHART_FAILED', `chart "${name}" failed to render: ${why.split('\n')[0] ?? ''}`);
  } finally {
    view?.finalize();
  }
}

/** A byte unit that keeps an axis's largest value between 1 and 1000. */
export function byteScale(maxBytes: number): { readonly unit: string; readonly divisor: number } {
  if (maxBytes >= 1e9) return { unit: 'GB', divisor: 1e9 };
  if (maxBytes >= 1e6) return { unit: 'MB', divisor: 1e6 };
  if (maxBytes >= 1e3) return { unit: 'kB', divisor: 1e3 };
  return { unit: 'B', divisor: 1 };
}
