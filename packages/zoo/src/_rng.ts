// Deterministic weights: every tensor gets its own mulberry32 stream, seeded from the model
// seed and the tensor's name, so a tensor's values do not depend on build order or on which
// other tensors were generated (the streaming encoder and the proto builder agree byte for byte).

/** 32-bit FNV-1a of a string, mixed with the seed. */
export function tensorSeed(seed: number, name: string): number {
  let h = (0x811c9dc5 ^ Math.imul(seed | 0, 0x9e3779b1)) >>> 0;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A mulberry32 stream; `fillUniform` continues where the last call stopped. */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed | 0;
  }

  /** Next value in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Fills `out[from, to)` with uniform values in [mean - bound, mean + bound). */
  fillUniform(out: Float32Array, bound: number, mean = 0, from = 0, to = out.length): void {
    // Inlined copy of next(): this loop writes up to 138 M values for vgg16.
    let s = this.state;
    const scale = (2 * bound) / 4294967296;
    const base = mean - bound;
    for (let i = from; i < to; i++) {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), s | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = base + ((t ^ (t >>> 14)) >>> 0) * scale;
    }
    this.state = s;
  }
}
