import { describe, expect, it } from 'vitest';
import {
  escapeHtml, formatBytes, formatCount, formatFps, formatMj, formatMs, formatNumber, formatPercent, formatRate,
  parseFormatted,
} from '../src/render/index.js';
import { escapeMarkdownCell } from '../src/render/format.js';

const M = '\u2212';

describe('formatters', () => {
  it.each([
    [formatFps, 4.814, '4.81 FPS'],
    [formatFps, 4.8214, '4.82 FPS'],
    [formatFps, 50.3, '50.3 FPS'],
    [formatFps, 176.52, '176.5 FPS'],
    [formatFps, 1234.4, '1\u2009234 FPS'],
    [formatFps, 0, '0 FPS'],
    [formatFps, Number.NaN, '—'],
    [formatFps, null, '—'],
    [formatMs, 207.729, '207.7 ms'],
    [formatMs, 0.715, '0.72 ms'],
    [formatMs, 9999, '9\u2009999 ms'],
    [formatMs, 30_000, '30.0 s'],
    [formatMs, 0.00003, '0.03 µs'],
    [formatMs, 0.0042, '4.20 µs'],
    [formatMs, 0, '0 ms'],
    [formatMj, 381.22, '381.2 mJ'],
    [formatMj, 12_345, '12.3 J'],
    [formatMj, Number.POSITIVE_INFINITY, '—'],
    [formatBytes, 0, '0 B'],
    [formatBytes, 999, '999 B'],
    [formatBytes, 87_808, '87.8 kB'],
    [formatBytes, 1_200_000, '1.20 MB'],
    [formatBytes, 602_112, '602 kB'],
    [formatBytes, 4e9, '4.00 GB'],
    [formatRate, 125e6, '125 MB/s'],
    [formatCount, 386_700_000, '386.7 M'],
    [formatCount, 5_288_548, '5.29 M'],
    [formatCount, 999, '999'],
    [formatCount, 4.1e9, '4.10 G'],
    [formatPercent, 0.4775, '+47.8 %'],
    [formatPercent, 0.475, '+47.5 %'],
    [formatPercent, -0.12, `${M}12.0 %`],
    [formatPercent, 0.00001, '±0.0 %'],
    [formatPercent, null, '—'],
    [formatNumber, -3.256, `${M}3.26`],
    [formatNumber, -0.0001, '0.00'],
  ] as const)('%o(%o) = %o', (fn, input, expected) => {
    expect((fn as (x: number | null) => string)(input as number | null)).toBe(expected);
  });
});

describe('parseFormatted reads back what the formatters write', () => {
  it.each([
    ['4.82 FPS', 4.82],
    ['207.7 ms', 207.7],
    ['30.0 s', 30_000],
    ['4.20 µs', 0.0042],
    ['12.3 J', 12_300],
    ['87.8 kB', 87_800],
    ['1\u2009234 FPS', 1234],
    [`${M}12.0 %`, -0.12],
    ['+47.5 %', 0.475],
    ['±0.0 %', 0],
    ['—', Number.NaN],
    ['12 parsecs', Number.NaN],
  ])('%o -> %o', (text, expected) => {
    const v = parseFormatted(text);
    if (Number.isNaN(expected)) expect(v).toBeNaN();
    else expect(v).toBeCloseTo(expected, 9);
  });

  it.each([0.0123, 4.814, 57.3, 207.729, 1234.5, 98_765])('round trip of %o ms stays within the printed precision', (x) => {
    const back = parseFormatted(formatMs(x));
    expect(Math.abs(back - x)).toBeLessThanOrEqual(x >= 10_000 ? 50 : x >= 1000 ? 0.5 : x >= 10 ? 0.05 : 0.005);
  });
});

describe('escaping', () => {
  it.each([
    ['plain', 'plain'],
    ['<script>alert("x")</script>', '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'],
    ["a & b's", 'a &amp; b&#39;s'],
    ['&amp;', '&amp;amp;'],
  ])('escapeHtml(%o)', (input, expected) => {
    expect(escapeHtml(input)).toBe(expected);
  });

  it.each([
    ['a|b', 'a\\|b'],
    ['back\\slash', 'back\\\\slash'],
    ['<img src=x>', '&lt;img src=x>'],
    ['two\nlines', 'two lines'],
    ['jetson[0..57] > rpi[58..240]', 'jetson[0..57] > rpi[58..240]'],
  ])('escapeMarkdownCell(%o)', (input, expected) => {
    expect(escapeMarkdownCell(input)).toBe(expected);
  });
});
