// Numbers and strings for people: every figure in the HTML and Markdown goes through here,
// so the browser test can parse a cell back and compare it with plans.json.

/** U+2212, so negative figures line up with positive ones in tabular digits. */
const MINUS = '\u2212';

function finite(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Fixed decimals chosen by magnitude: 4.82, 33.1, 207.7, 1 234. */
export function formatNumber(x: number | null | undefined): string {
  if (!finite(x)) return '—';
  const a = Math.abs(x);
  const decimals = a === 0 ? 0 : a < 10 ? 2 : a < 1000 ? 1 : 0;
  const s = a.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals, useGrouping: true })
    .replace(/,/g, '\u2009');
  return x < 0 && /[1-9]/.test(s) ? MINUS + s : s;
}

/** Frames per second: "4.82 FPS". */
export function formatFps(x: number | null | undefined): string {
  return finite(x) ? `${formatNumber(x)} FPS` : '—';
}

/** Milliseconds, switching to seconds above 10 s and microseconds below 0.01 ms: "207.7 ms", "12.3 s", "0.03 µs". */
export function formatMs(x: number | null | undefined): string {
  if (!finite(x)) return '—';
  if (Math.abs(x) >= 10_000) return `${formatNumber(x / 1000)} s`;
  if (x !== 0 && Math.abs(x) < 0.01) return `${formatNumber(x * 1000)} µs`;
  return `${formatNumber(x)} ms`;
}

/** Millijoules, switching to joules above 10 J: "381.2 mJ", "12.3 J". */
export function formatMj(x: number | null | undefined): string {
  if (!finite(x)) return '—';
  if (Math.abs(x) >= 10_000) return `${formatNumber(x / 1000)} J`;
  return `${formatNumber(x)} mJ`;
}

const BYTE_UNITS = ['B', 'kB', 'MB', 'GB', 'TB'] as const;

/** SI bytes (1 MB = 10^6 B, matching link bandwidths in bytes/s): "87.8 kB", "1.2 MB". */
export function formatBytes(x: number | null | undefined): string {
  if (!finite(x)) return '—';
  let v = Math.abs(x);
  let u = 0;
  while (v >= 1000 && u < BYTE_UNITS.length - 1) {
    v /= 1000;
    u += 1;
  }
  const digits = u === 0 ? 0 : v < 10 ? 2 : v < 100 ? 1 : 0;
  const s = v.toFixed(digits);
  return `${x < 0 ? MINUS : ''}${s} ${BYTE_UNITS[u]}`;
}

/** Bytes per second: "125 MB/s". */
export function formatRate(bytesPerSec: number | null | undefined): string {
  return finite(bytesPerSec) ? `${formatBytes(bytesPerSec)}/s` : '—';
}

/** Large counts with SI suffix: 5.29 M parameters, 386.7 M MACs, 4.1 G. */
export function formatCount(x: number | null | undefined): string {
  if (!finite(x)) return '—';
  const a = Math.abs(x);
  const units: ReadonlyArray<[number, string]> = [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']];
  for (const [scale, suffix] of units) {
    if (a >= scale) return `${formatNumber(x / scale)} ${suffix}`;
  }
  return String(Math.round(x));
}

/** A relative change as a signed percentage: 0.4775 -> "+47.7 %", -0.12 -> "−12.0 %". */
export function formatPercent(fraction: number | null | undefined): string {
  if (!finite(fraction)) return '—';
  const v = fraction * 100;
  const s = Math.abs(v).toFixed(1);
  if (s === '0.0') return '±0.0 %';
  return `${v < 0 ? MINUS : '+'}${s} %`;
}

/** Parse a figure written by the formatters above back to a number in the base unit; NaN when none. */
export function parseFormatted(text: string): number {
  const t = text.trim().replace(/\u2009/g, '').replace(MINUS, '-');
  const m = /^([+-]?)±?(\d+(?:\.\d+)?)\s*(.*)$/.exec(t);
  if (!m) return Number.NaN;
  const sign = m[1] === '-' ? -1 : 1;
  const v = sign * Number(m[2]);
  const unit = (m[3] ?? '').trim();
  const scale: Record<string, number> = {
    '': 1, FPS: 1, ms: 1, s: 1000, 'µs': 0.001, mJ: 1, J: 1000, '%': 0.01,
    B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
  };
  const f = scale[unit];
  return f === undefined ? Number.NaN : v * f;
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;',
};

/** Escape text for HTML element content and double- or single-quoted attributes. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Escape text for a Markdown table cell: backslashes, pipes, newlines, and "<" (inline HTML). */
export function escapeMarkdownCell(value: unknown): string {
  return String(value)
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/\r?\n/g, ' ');
}
