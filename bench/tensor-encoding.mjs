// How long the tensor encodings of a hop between stages take (onnx-graph's tensor-encoding.ts, what
// an agent runs when a plan's tensors travel as fp16 or int8): 802 816 float32 elements (ResNet-18's
// first activation, 3.2 MB), each direction timed 20 times after two warm-ups, median.
// Run with glibc reusing memory as the agent does (MALLOC_MMAP_MAX_=0 ...), else each fresh buffer's
// pages fault in on first touch and that dominates:
//   npx turbo run build && MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=4294967295 node bench/tensor-encoding.mjs
import { decodeHalf, decodeInt8, encodeHalf, encodeInt8 } from '@dnnpart/onnx-graph';

const n = 802816;
const x = new Float32Array(n);
let s = 1;
for (let i = 0; i < n; i++) x[i] = ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 10 - 3;
const time = (f) => {
  f();
  f();
  const t = [];
  for (let i = 0; i < 20; i++) {
    const t0 = performance.now();
    f();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[10].toFixed(2);
};
const q = encodeInt8(x);
const h = encodeHalf(x);
console.log(`${n} elements, ms (median of 20): encodeInt8 ${time(() => encodeInt8(x))}, decodeInt8 ${time(() => decodeInt8(q))}, encodeHalf ${time(() => encodeHalf(x))}, decodeHalf ${time(() => decodeHalf(h))}; MALLOC_MMAP_MAX_=${process.env.MALLOC_MMAP_MAX_ ?? 'unset'}`);
