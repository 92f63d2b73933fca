// Compact text for people: aligned tables and human units.

/** Align rows under a header; numeric-looking cells are right-aligned. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-+]?[\d.,]+\s?\S{0,3}%?$|^—$/.test(r[i] ?? '')));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** 1234567 → "1.23 M" (SI, three significant digits). */
export function si(n: number, unit = ''): string {
  const abs = Math.abs(n);
  const [div, prefix] = abs >= 1e12 ? [1e12, 'T'] : abs >= 1e9 ? [1e9, 'G'] : abs >= 1e6 ? [1e6, 'M'] : abs >= 1e3 ? [1e3, 'k'] : [1, ''];
  const v = n / div;
  const s = div === 1 ? String(Math.round(v * 100) / 100) : v.toPrecision(3);
  return `${s} ${prefix}${unit}`.trimEnd();
}

/** Bytes in binary-free SI units ("1.2 MB"). */
export function bytes(n: number): string {
  return si(n, 'B');
}

/** A number with `digits` decimals, or "—" when absent. */
export function fixed(n: number | undefined | null, digits = 2): string {
  return n === undefined || n === null || !Number.isFinite(n) ? '—' : n.toFixed(digits);
}
