import { describe, expect, it } from 'vitest';
import { csvField, parseCsv, toCsv } from '../src/render/index.js';

describe('csvField (RFC 4180)', () => {
  it.each([
    ['plain', 'plain'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rhere', '"cr\rhere"'],
    [' padded', '" padded"'],
    ['', ''],
    [null, ''],
    [undefined, ''],
    [4.814, '4.814'],
    [0, '0'],
    [-0.12, '-0.12'],
    [Number.NaN, ''],
    [Number.POSITIVE_INFINITY, ''],
    ['jetson[0..57] > rpi[58..240]', 'jetson[0..57] > rpi[58..240]'],
  ] as const)('%o -> %o', (value, expected) => {
    expect(csvField(value)).toBe(expected);
  });
});

describe('toCsv and parseCsv', () => {
  const rows = [
    { a: 'x,y', b: 1.5, c: null },
    { a: 'q"uote', b: 0, c: 'line\nbreak' },
    { a: '', b: -2, c: 'pareto:throughput/energy#1' },
  ];

  it('writes CRLF line ends, a header and one line per row', () => {
    const text = toCsv(['a', 'b', 'c'], rows);
    expect(text).toBe('a,b,c\r\n"x,y",1.5,\r\n"q""uote",0,"line\nbreak"\r\n,-2,pareto:throughput/energy#1\r\n');
  });

  it('parses its own output back to the same fields', () => {
    const parsed = parseCsv(toCsv(['a', 'b', 'c'], rows));
    expect(parsed).toEqual([
      ['a', 'b', 'c'],
      ['x,y', '1.5', ''],
      ['q"uote', '0', 'line\nbreak'],
      ['', '-2', 'pareto:throughput/energy#1'],
    ]);
  });
});
