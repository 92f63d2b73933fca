// Fidelity of an output against the full-precision reference: cosine similarity, SQNR, top-k
// agreement, and a Wilson interval so a small sample says how unsure it is. Pure functions.

type Vec = ArrayLike<number>;

/** Cosine similarity of two vectors; 1 when both are all zeros, 0 when only one is. */
export function cosine(a: Vec, b: Vec): number {
  if (a.length !== b.length) throw new RangeError(`cosine of vectors of lengths ${a.length} and ${b.length}`);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  if (na === 0 && nb === 0) return 1;
  if (na === 0 || nb === 0) return 0;
  return dot / Math.sqrt(na * nb);
}

/** Signal energy and noise energy of `test` against `ref` (sums of squares). */
export function signalNoise(ref: Vec, test: Vec): { signal: number; noise: number } {
  if (ref.length !== test.length) throw new RangeError(`SQNR of vectors of lengths ${ref.length} and ${test.length}`);
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i]!;
    const d = r - test[i]!;
    signal += r * r;
    noise += d * d;
  }
  return { signal, noise };
}

/** Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - test)^2); Infinity when equal. */
export function sqnrDb(ref: Vec, test: Vec): number {
  const { signal, noise } = signalNoise(ref, test);
  return toDb(signal, noise);
}

/** 10 log10(signal / noise), Infinity for no noise (NaN noise counts as no signal left: -Infinity). */
export function toDb(signal: number, noise: number): number {
  if (Number.isNaN(noise)) return -Infinity;
  if (noise === 0) return Infinity;
  if (signal === 0) return -Infinity;
  return 10 * Math.log10(signal / noise);
}

/** Indices of the k largest values, largest first (ties: the lower index first). */
export function topK(row: Vec, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((i, j) => row[j]! - row[i]! || i - j);
  return idx.slice(0, Math.min(k, row.length));
}

/** Index of the largest value (the first of ties). */
export function argmax(row: Vec): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/**
 * Agreement over rows of `classes` scores: the fraction of rows whose reference top-1 class is
 * among the test's top `k` (k = 1: the two top-1 classes are equal).
 */
export function topKAgreement(ref: Vec, test: Vec, classes: number, k: number): { agree: number; rows: number } {
  if (ref.length !== test.length || classes < 1 || ref.length % classes !== 0) {
    throw new RangeError(`top-${k} agreement of ${ref.length} and ${test.length} scores in rows of ${classes}`);
  }
  const rows = ref.length / classes;
  let agree = 0;
  for (let r = 0; r < rows; r++) {
    const a = Array.prototype.slice.call(ref, r * classes, (r + 1) * classes) as number[];
    const b = Array.prototype.slice.call(test, r * classes, (r + 1) * classes) as number[];
    const want = argmax(a);
    if (k === 1 ? argmax(b) === want : topK(b, k).includes(want)) agree++;
  }
  return { agree, rows };
}

/** Wilson score interval of a proportion (95 % by default); [0, 1] for no trials. */
export function wilsonInterval(successes: number, trials: number, z = 1.959964): [number, number] {
  if (trials === 0) return [0, 1];
  const p = successes / trials;
  const z2 = z * z;
  const denom = 1 + z2 / trials;
  const centre = (p + z2 / (2 * trials)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / trials + z2 / (4 * trials * trials))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Pooled fidelity over samples. */
export interface Fidelity {
  readonly samples: number;
  /** Mean over samples of the per-sample cosine similarity (all outputs concatenated). */
  readonly cosine: number;
  /** The worst sample's cosine similarity. */
  readonly cosineMin: number;
  /** SQNR in dB over every element of every sample (pooled signal / pooled noise). */
  readonly sqnrDb: number;
  /** Present when the first output is classifier scores (a last dimension of 2 or more). */
  readonly top1Agreement?: number;
  readonly top1Interval?: readonly [number, number];
  /** Fraction of rows whose reference top-1 class is in the test's top 5 (absent for fewer than 6 classes). */
  readonly top5Agreement?: number;
  readonly top5Interval?: readonly [number, number];
  /** Rows compared for top-k (samples x rows per sample). */
  readonly rows?: number;
  /** With labels: true top-1 accuracy of the reference and of the test. */
  readonly referenceTop1?: number;
  readonly top1?: number;
}

/** Accumulates fidelity sample by sample. `classes`: the row length of classifier scores, or 0. */
export class FidelityAccumulator {
  private n = 0;
  private cosSum = 0;
  private cosMin = 1;
  private signal = 0;
  private noise = 0;
  private rows = 0;
  private top1 = 0;
  private top5 = 0;
  private labelled = 0;
  private refCorrect = 0;
  private testCorrect = 0;

  constructor(private readonly classes: number) {}

  /** One sample: reference and test values (all outputs concatenated), scores of the first output, an optional label. */
  add(ref: Vec, test: Vec, scores?: { ref: Vec; test: Vec }, label?: number): void {
    this.n++;
    const c = cosine(ref, test);
    this.cosSum += c;
    this.cosMin = Math.min(this.cosMin, c);
    const sn = signalNoise(ref, test);
    this.signal += sn.signal;
    this.noise += sn.noise;
    if (this.classes >= 2 && scores) {
      const a1 = topKAgreement(scores.ref, scores.test, this.classes, 1);
      this.rows += a1.rows;
      this.top1 += a1.agree;
      if (this.classes > 5) this.top5 += topKAgreement(scores.ref, scores.test, this.classes, 5).agree;
      if (label !== undefined && a1.rows === 1) {
        this.labelled++;
        if (argmax(scores.ref) === label) this.refCorrect++;
        if (argmax(scores.test) === label) this.testCorrect++;
      }
    }
  }

  result(): Fidelity {
    const base = {
      samples: this.n,
      cosine: this.n ? this.cosSum / this.n : 1,
      cosineMin: this.cosMin,
      sqnrDb: toDb(this.signal, this.noise),
    };
    if (this.classes < 2 || this.rows === 0) return base;
    return {
      ...base,
      top1Agreement: this.top1 / this.rows,
      top1Interval: wilsonInterval(this.top1, this.rows),
      ...(this.classes > 5 ? { top5Agreement: this.top5 / this.rows, top5Interval: wilsonInterval(this.top5, this.rows) } : {}),
      rows: this.rows,
      ...(this.labelled ? { referenceTop1: this.refCorrect / this.labelled, top1: this.testCorrect / this.labelled } : {}),
    };
  }
}
