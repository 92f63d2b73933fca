// profiles/published/*.yaml: public timings of boards not at hand. Every entry has a source and a
// figure, says whether it is comparable with the analytic model (ONNX Runtime, fp32) and why not,
// and names a zoo network that builds at the stated input (bench/profiler-analytic-published.mjs
// fits the board descriptions on the comparable ones).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { isZooName, zooModelInfo } from '@dnnpart/zoo';

const DIR = new URL('../../../profiles/published/', import.meta.url).pathname;
const BOARDS = new URL('../../../profiles/boards/', import.meta.url).pathname;
const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml')).sort();

interface Entry {
  model: string;
  zoo: string | null;
  input: number[] | null;
  threads: number | null;
  runtime: string;
  precision: string;
  latencyMs?: number;
  fps?: number;
  source: string;
  comparable: boolean;
  why?: string;
  note?: string;
}

const KEYS = new Set(['model', 'zoo', 'input', 'threads', 'runtime', 'precision', 'latencyMs', 'fps', 'source', 'comparable', 'why', 'note']);

describe('published figures', () => {
  it('there are files for the Raspberry Pi 4 and 5', () => {
    expect(files).toEqual(expect.arrayContaining(['raspberry-pi-4.yaml', 'raspberry-pi-5.yaml']));
  });

  it.each(files)('%s: named after its board, every entry complete and consistent', (file) => {
    const doc = parse(readFileSync(join(DIR, file), 'utf8')) as { board: string; entries: Entry[] };
    expect(`${doc.board}.yaml`).toBe(file);
    expect(readdirSync(BOARDS)).toContain(file);
    expect(doc.entries.length).toBeGreaterThan(0);
    for (const e of doc.entries) {
      const at = `${file}: ${e.model}`;
      expect(Object.keys(e).filter((k) => !KEYS.has(k)), at).toEqual([]);
      expect(typeof e.model === 'string' && e.model.length > 0, at).toBe(true);
      expect(e.source, at).toMatch(/^https:\/\/\S+$/);
      // Exactly one figure, positive.
      expect((e.latencyMs === undefined) !== (e.fps === undefined), at).toBe(true);
      expect((e.latencyMs ?? e.fps)!, at).toBeGreaterThan(0);
      expect(e.threads === null || (Number.isInteger(e.threads) && e.threads > 0), at).toBe(true);
      expect(['fp32', 'fp16', 'int8'], at).toContain(e.precision);
      expect(typeof e.comparable, at).toBe('boolean');
      // Not comparable says why; comparable means ONNX Runtime, fp32, a zoo network at a stated input.
      if (!e.comparable) expect(e.why, at).toMatch(/\S/);
      else {
        expect(e.runtime, at).toBe('ONNX Runtime');
        expect(e.precision, at).toBe('fp32');
        expect(e.zoo, at).not.toBeNull();
        expect(e.input, at).not.toBeNull();
      }
      if (e.zoo !== null) {
        expect(isZooName(e.zoo), at).toBe(true);
        expect(zooModelInfo(e.zoo, { inputShape: e.input ?? [1, 3, 224, 224] }).inputShape, at).toEqual(e.input ?? [1, 3, 224, 224]);
      }
    }
  });
});
