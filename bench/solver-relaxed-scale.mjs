// Scale check of the relaxed pipeline-aware bound (solver README step 6): a synthetic decoder-like
// problem of L layers, each a trunk of T nodes (every fifth costly, the rest cheap, 1,152-byte
// tensors) with S cheap side branches from its first node to its last (as a merged decoder's shape
// arithmetic), on three boards of speed 1, 1.5 and 2 joined by 1 Gb/s links: 2^S ways to hold the
// side nodes at every cut of a layer, far past what any walk visits. Prints the chain bound alone
// (3 s deadline) and a throughput solve (20 s limit).
// Usage: node bench/solver-relaxed-scale.mjs [L T S] [--solver <dir of a solver build's dist>]
// Build first: npx tsc -p packages/solver/tsconfig.json.
const args = process.argv.slice(2);
const at = args.indexOf('--solver');
const dist = at >= 0 ? args.splice(at, 2)[1] : new URL('../packages/solver/dist/', import.meta.url).pathname;
const [L, T, S] = (args.length >= 3 ? args : ['24', '100', '20']).map(Number);
const { parseProblem, solve } = await import(`${dist}/index.js`);
const { compile } = await import(`${dist}/_compiled.js`);
const { chainBoundAndPlan } = await import(`${dist}/_chain-bound.js`);
const nodes = [];
const tensors = [{ id: 'x', producer: null, consumers: [], bytes: 1000 }];
const lat = [{}, {}, {}];
let prev = tensors[0];
let k = 0;
for (let l = 0; l < L; l++) {
  const sides = [];
  for (let t = 0; t < T; t++) {
    const id = `l${l}t${t}`;
    nodes.push({ id, memoryBytes: 1 });
    [1, 1.5, 2].forEach((f, b) => { lat[b][id] = (t % 5 === 0 ? 0.2 : 0.002) * f * (1 + (k % 7) / 10); });
    k++;
    prev.consumers.push(id);
    const out = { id: `${id}.o`, producer: id, consumers: [], bytes: 1152 };
    tensors.push(out);
    if (t === 0) {
      for (let s = 0; s < S; s++) {
        const sid = `l${l}s${s}`;
        nodes.push({ id: sid, memoryBytes: 1 });
        [1, 1.5, 2].forEach((f, b) => { lat[b][sid] = 0.001 * f; });
        out.consumers.push(sid);
        const so = { id: `${sid}.o`, producer: sid, consumers: [], bytes: 8 };
        tensors.push(so);
        sides.push(so);
      }
    }
    if (t === T - 1) for (const so of sides) so.consumers.push(id);
    prev = out;
  }
}
prev.modelOutput = true;
const boards = ['a', 'b', 'c'];
const p = parseProblem({
  version: 1, nodes, tensors, inputBoard: 'a', objective: 'throughput', boardOrder: 'free',
  boards: boards.map((id, b) => ({ id, memoryBytes: null, latencyMs: lat[b] })),
  links: boards.flatMap((x) => boards.filter((y) => y !== x).map((y) => ({ from: x, to: y, bandwidthBytesPerSec: 125e6, latencyMs: 0.1, powerW: 1 }))),
});
const cp = compile(p);
let t0 = performance.now();
const r = chainBoundAndPlan(cp, 'throughput', performance.now() + 3000);
const boundMs = performance.now() - t0;
t0 = performance.now();
const s = await solve(p, { objective: 'throughput', timeLimitS: 20 });
const solveMs = performance.now() - t0;
console.log(`| ${L} x (${T} + ${S}) | ${nodes.length} | ${r.bound === undefined ? 'none' : r.bound.toFixed(4)} in ${boundMs.toFixed(0)} ms | ${s.status}${s.gap ? ` ${(s.gap * 100).toFixed(3)} %` : ''}, ${s.method}, period ${(1000 / s.throughputFps).toFixed(4)} ms, ${(solveMs / 1000).toFixed(1)} s |`);
