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
