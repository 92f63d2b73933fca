// Which axis of a model's first output holds class scores, for top-k agreement: a classifier's last
// axis, a segmentation's channel axis (a class per pixel), and none for a one-channel map.
import { describe, expect, it } from 'vitest';
import { loadModel } from '@dnnpart/onnx-graph';
import { classScores, evaluatePlan } from '@dnnpart/accuracy';
import { encode, segmentationModel } from './_models.js';

describe('classScores', () => {
  it.each([
    [[1, 1000], 1000],
    [[1, 40, 6625], 6625],
    [[1, 21, 64, 64], 21],
    [[1, 64, 64, 21], 21],
    [[1, 1, 1024, 1024], 0],
    [[1, 1], 0],
    [[2, 3, 4, 5, 6], 0],
  ])('%j: %d classes', (shape, classes) => {
    expect(classScores(shape).classes).toBe(classes);
  });

  it('lays an NCHW score map out as a row of class scores per pixel', () => {
    // 2 images, 3 classes, 1x4 pixels: x[b][k][p] = 100b + 10k + p.
    const x = Float32Array.from({ length: 24 }, (_, i) => 100 * Math.floor(i / 12) + 10 * (Math.floor(i / 4) % 3) + (i % 4));
    const { classes, rowsOf } = classScores([2, 3, 1, 4]);
    expect(classes).toBe(3);
    expect([...rowsOf(x)]).toEqual([0, 1, 2, 3, 100, 101, 102, 103].flatMap((p) => [p, p + 10, p + 20]));
    // An NHWC map and a classifier's scores are rows already.
    expect(classScores([1, 64, 64, 21]).rowsOf(x)).toBe(x);
  });

  it('scores a segmentation plan per pixel, and a one-channel map by cosine and SQNR only', async () => {
    const seg = await evaluatePlan(await loadModel(encode(segmentationModel(5))), { split: { after: ['relu'] }, precision: ['fp32', 'int8'], samples: 3 });
    // A class per pixel: 64 rows a sample (before: 40 rows of 8 "classes" along the image's width, a row per channel and line).
    expect(seg.rows).toBe(3 * 64);
    expect(seg.classesPer).toBe('pixel');
    expect(seg.top1Agreement).toBeGreaterThan(0.8);
    expect(seg.top5Agreement).toBeUndefined();
    const map = await evaluatePlan(await loadModel(encode(segmentationModel(1))), { split: { after: ['relu'] }, precision: ['fp32', 'int8'], samples: 3 });
    expect(map.top1Agreement).toBeUndefined();
    expect(map.classesPer).toBeUndefined();
    expect(map.cosine).toBeGreaterThan(0.99);
  });
});
