// Fuzzing the loader: truncated and byte-mutated model files must give a GraphError (or a valid
// graph), never another exception, a hang, or an unbounded allocation.
import { describe, expect, it } from 'vitest';
import { GraphError, loadModel } from '@dnnpart/onnx-graph';
import { chain, inception, residual, rng, squeezeExcite, type ModelBuilder } from './_models.js';

const BASES: [string, () => ModelBuilder][] = [['chain', () => chain('N')], ['residual', residual], ['squeeze-excite', squeezeExcite], ['inception', inception]];
const CASES_PER_BASE = 300;
/** Per-case wall-clock cap: a loader that takes longer than this on a few-KB file is hanging. */
const CASE_CAP_MS = 5_000;

function mutate(bytes: Uint8Array, rand: () => number, kind: number): Uint8Array {
  const at = () => Math.floor(rand() * bytes.length);
  switch (kind) {
    case 0: // truncate anywhere
      return bytes.slice(0, at());
    case 1: { // flip 1..8 random bytes
      const out = bytes.slice();
      for (let k = 1 + Math.floor(rand() * 8); k > 0; k--) out[at()] = Math.floor(rand() * 256);
      return out;
    }
    case 2: { // overwrite a run with 0xff (huge varints and lengths)
      const out = bytes.slice();
      const p = at();
      out.fill(0xff, p, Math.min(out.length, p + 1 + Math.floor(rand() * 10)));
      return out;
    }
    case 3: { // delete or duplicate a slice
      const p = at();
      const q = Math.min(bytes.length, p + 1 + Math.floor(rand() * 32));
      return rand() < 0.5 ? new Uint8Array([...bytes.subarray(0, p), ...bytes.subarray(q)]) : new Uint8Array([...bytes.subarray(0, q), ...bytes.subarray(p)]);
    }
    default: { // one bit flip (keeps most of the structure valid)
      const out = bytes.slice();
      const p = at();
      out[p] = out[p]! ^ (1 << Math.floor(rand() * 8));
      return out;
    }
  }
}

describe('fuzzing loadModel', () => {
  it.each(BASES)(`${CASES_PER_BASE} mutated %s models give only GraphErrors or valid graphs`, async (name, build) => {
    const base = build().bytes();
    const rand = rng(0xc0ffee + name.length);
    const outcomes = new Map<string, number>();
    let heapPeak = 0;
    const heap0 = process.memoryUsage().heapUsed;
    for (let i = 0; i < CASES_PER_BASE; i++) {
      const bytes = mutate(base, rand, i % 5);
      const t0 = performance.now();
      let outcome: string;
      try {
        const m = await loadModel(bytes);
        // Whatever loaded must be a consistent graph.
        for (const t of m.graph.tensors.values()) expect(Number.isSafeInteger(t.bytes)).toBe(true);
        outcome = 'loaded';
      } catch (e) {
        if (!(e instanceof GraphError)) {
          throw new Error(`case ${i} (kind ${i % 5}) threw a non-GraphError: ${(e as Error).stack}`);
        }
        expect(e.message).not.toContain('\n');
        outcome = e.code;
      }
      const ms = performance.now() - t0;
      expect(ms, `case ${i} took ${ms} ms`).toBeLessThan(CASE_CAP_MS);
      heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed - heap0);
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    // Bounded memory: nothing a few-KB file declares may make the loader allocate big buffers.
    expect(heapPeak).toBeLessThan(256 * 2 ** 20);
    expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(CASES_PER_BASE);
    // The mutations must actually exercise the error paths, not just reload the same model.
    expect(outcomes.get('GRAPH_CORRUPT') ?? 0).toBeGreaterThan(CASES_PER_BASE / 10);
  });

  it('200 random byte strings that start like a ModelProto are all rejected', async () => {
    const rand = rng(42);
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const bytes = Uint8Array.from({ length: 1 + Math.floor(rand() * 4096) }, () => Math.floor(rand() * 256));
      bytes[0] = [0x08, 0x12, 0x3a, 0x42][i % 4]!;
      const err = await loadModel(bytes).then(() => null, (e: unknown) => e);
      expect(err, `case ${i}`).toBeInstanceOf(GraphError);
      codes.add((err as GraphError).code);
    }
    expect([...codes].sort()).toEqual(expect.arrayContaining(['GRAPH_CORRUPT']));
    expect([...codes].every((c) => c === 'GRAPH_CORRUPT' || c === 'GRAPH_NOT_ONNX')).toBe(true);
  });
});
