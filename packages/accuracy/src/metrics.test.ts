import { describe, expect, it } from 'vitest';
import { FidelityAccumulator, argmax, cosine, sqnrDb, topK, topKAgreement, wilsonInterval } from './metrics.js';

describe('cosine', () => {
  it.each([
    [[1, 0], [0, 1], 0],
    [[1, 2, 3], [1, 2, 3], 1],
    [[1, 2, 3], [2, 4, 6], 1],
    [[1, 0], [-1, 0], -1],
    [[3, 4], [4, 3], 24 / 25],
    [[0, 0], [0, 0], 1],
    [[0, 0], [1, 0], 0],
  ])('%j vs %j = %d', (a, b, want) => {
    expect(cosine(a, b)).toBeCloseTo(want, 12);
  });
});

describe('SQNR', () => {
  it.each([
    // signal 1+4+9 = 14, noise 0.1^2 * 3 = 0.03: 10 log10(14 / 0.03) = 26.690...
    [[1, 2, 3], [1.1, 2.1, 3.1], 10 * Math.log10(14 / 0.03)],
    // signal 100, noise 1: 20 dB
    [[10, 0], [10, 1], 20],
    [[10, 0], [10, 0], Infinity],
    [[0, 0], [1, 0], -Infinity],
  ])('%j vs %j = %d dB', (a, b, want) => {
    const got = sqnrDb(a, b);
    if (Number.isFinite(want)) expect(got).toBeCloseTo(want, 9);
    else expect(got).toBe(want);
  });
});

describe('top-k', () => {
  it.each([
    [[0.1, 0.5, 0.2, 0.9], 2, [3, 1]],
    [[1, 1, 0], 2, [0, 1]],
    [[5], 3, [0]],
  ])('topK(%j, %d) = %j', (row, k, want) => {
    expect(topK(row, k)).toEqual(want);
  });

  it.each([
    // rows of 3: ref argmax 2, 0; test argmax 2, 1 -> top-1 agrees on one row of two
    [[0, 1, 2, 5, 1, 0], [0, 1, 3, 1, 2, 0], 3, 1, 1, 2],
    // top-2: the second row's ref class 0 is the test's second best -> both agree
    [[0, 1, 2, 5, 1, 0], [0, 1, 3, 1, 2, 0], 3, 2, 2, 2],
    [[1, 0], [0, 1], 2, 1, 0, 1],
  ])('agreement of %j and %j (rows of %d, top-%d) = %d of %d', (ref, test, classes, k, agree, rows) => {
    expect(topKAgreement(ref, test, classes, k)).toEqual({ agree, rows });
  });

  it('argmax takes the first of ties', () => {
    expect(argmax([1, 3, 3])).toBe(1);
  });
});

describe('Wilson interval', () => {
  it.each([
    // Hand-computed with z = 1.96: p = 0.5, n = 10 -> 0.5 +- 0.2775 -> [0.2366, 0.7634]
    [5, 10, 0.2366, 0.7634],
    // p = 1, n = 16 -> [16/(16+3.8415), 1] = [0.8064, 1]
    [16, 16, 0.8064, 1],
    [0, 20, 0, 0.1611],
    [90, 100, 0.8256, 0.9448],
  ])('%d of %d -> [%d, %d]', (k, n, lo, hi) => {
    const [a, b] = wilsonInterval(k, n);
    expect(a).toBeCloseTo(lo, 3);
    expect(b).toBeCloseTo(hi, 3);
  });

  it('is [0, 1] with no trials', () => {
    expect(wilsonInterval(0, 0)).toEqual([0, 1]);
  });
});

describe('FidelityAccumulator', () => {
  it('pools SQNR over samples, averages cosine, counts top-1/top-5 and true top-1', () => {
    const acc = new FidelityAccumulator(6);
    const ref1 = [0, 1, 2, 3, 4, 5];
    const test1 = [0, 1, 2, 3, 5, 4]; // top-1 differs (4 vs 5), ref's class 5 is test's second: top-5 agrees
    const ref2 = [5, 0, 0, 0, 0, 0];
    acc.add(ref1, test1, { ref: ref1, test: test1 }, 5);
    acc.add(ref2, ref2, { ref: ref2, test: ref2 }, 1);
    const r = acc.result();
    expect(r.samples).toBe(2);
    expect(r.cosine).toBeCloseTo((cosine(ref1, test1) + 1) / 2, 12);
    expect(r.cosineMin).toBeCloseTo(cosine(ref1, test1), 12);
    // signal 55 + 25 = 80, noise 2: 10 log10(40)
    expect(r.sqnrDb).toBeCloseTo(10 * Math.log10(40), 9);
    expect(r.top1Agreement).toBe(0.5);
    expect(r.top5Agreement).toBe(1);
    expect(r.rows).toBe(2);
    expect(r.referenceTop1).toBe(0.5);
    expect(r.top1).toBe(0);
  });
});
