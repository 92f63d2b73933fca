// Order statistics of timings, shared by verify's measuring, calibrating and comparing.

/** The q-quantile of xs, interpolated between neighbours (NaN when empty). */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

/** The median: the middle value, or the mean of the middle two. */
export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}
