// Copy bandwidth of this machine at one size: the best of `rounds` rounds of Buffer.copy, in
// read + write bytes per second. Shared by the benches that describe this machine.

/** Bytes per second (read + write) copying `mib` MiB, best of `rounds`. */
export function copyBandwidth(mib, rounds = 8) {
  const n = Math.round(mib * 1048576);
  const a = Buffer.alloc(n, 1);
  const b = Buffer.alloc(n);
  const reps = Math.max(3, Math.round(2048 / mib));
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < reps; i++) a.copy(b);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9 / reps);
  }
  return (2 * n) / best;
}

/**
 * The last-level cache as a copy sees it, in bytes: the largest working set (read + write) of a copy
 * that still runs at 75 % or more of the cache plateau (the fastest of 1, 2 and 4 MiB copies),
 * growing the copy from 6 MiB until one falls below. A board description's cacheBytes: a node whose
 * activations exceed it moves them at the DRAM bandwidth.
 */
export function cacheBytes() {
  const plateau = Math.max(...[1, 2, 4].map((mib) => copyBandwidth(mib)));
  let fits = 4;
  for (const mib of [6, 8, 12, 16, 24, 32, 64]) {
    if (copyBandwidth(mib) < 0.75 * plateau) break;
    fits = mib;
  }
  return 2 * fits * 1048576;
}
