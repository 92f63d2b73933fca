// The message format every call uses: tensors survive a round trip bit for bit, and every
// malformed message is refused with a message that says what is wrong.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { decodeInt8, encodeInt8, halfRound } from '@dnnpart/onnx-graph';
import { decodeMessage, encodeMessage, packTensors, unpackTensors } from './_wire.js';

const limits = { maxTensorBytes: 1000 };

describe('tensors on the wire', () => {
  it.each([
    ['float32', new ort.Tensor('float32', Float32Array.from([1.5, -2, Math.PI]), [3])],
    ['int64', new ort.Tensor('int64', BigInt64Array.from([1n, -9007199254740993n]), [1, 2])],
    ['uint8', new ort.Tensor('uint8', Uint8Array.from([0, 255, 7, 9]), [2, 2])],
    ['bool', new ort.Tensor('bool', Uint8Array.from([1, 0]), [2])],
  ])('%s round-trips', (_n, t) => {
    const { headers, parts } = packTensors({ x: t, y: t });
    const msg = decodeMessage<{ tensors: unknown }>(encodeMessage({ tensors: headers }, parts), 'test');
    const back = unpackTensors(msg.header.tensors, msg.payload, limits, 'test');
    expect(Object.keys(back)).toEqual(['x', 'y']);
    for (const v of Object.values(back)) {
      expect(v.type).toBe(t.type);
      expect(v.dims).toEqual(t.dims);
      expect(Array.from(v.data as ArrayLike<number>)).toEqual(Array.from(t.data as ArrayLike<number>));
    }
  });

  // Values across float16's range and past it, subnormals, an exact zero, and one odd length (an
  // encoded tensor's bytes start at any offset of the payload).
  const values = Float32Array.from([0, 1.5, -2, Math.PI, 1e-7, -6.1e-5, 65504, 70000, -1e9, 0.1, 3e-3, 12.25, -0.5]);
  it.each([
    ['fp16', 2, (x: Float32Array) => Float32Array.from(x, halfRound)],
    ['int8', 1, (x: Float32Array) => decodeInt8(encodeInt8(x))],
  ] as const)('float32 sent as %s: %i bytes an element, received as float32 with exactly the encoding\'s rounding; other types as they are', (enc, size, rounded) => {
    const f = new ort.Tensor('float32', values, [values.length]);
    const ids = new ort.Tensor('int64', BigInt64Array.from([3n, -4n]), [2]);
    const odd = new ort.Tensor('uint8', Uint8Array.from([9]), [1]);
    const { headers, parts } = packTensors({ odd, f, ids }, enc);
    expect(headers.map((h) => [h.name, h.dtype, h.bytes, h.encoding])).toEqual([['odd', 'uint8', 1, undefined], ['f', 'float32', size * values.length, enc], ['ids', 'int64', 16, undefined]]);
    const msg = decodeMessage<{ tensors: unknown }>(encodeMessage({ tensors: headers }, parts), 'test');
    expect(msg.payload.length).toBe(1 + size * values.length + 16);
    const back = unpackTensors(msg.header.tensors, msg.payload, { maxTensorBytes: 1000 }, 'test');
    expect(back.f!.type).toBe('float32');
    expect(back.f!.dims).toEqual([values.length]);
    expect(Array.from(back.f!.data as Float32Array)).toEqual(Array.from(rounded(values)));
    expect(Array.from(back.ids!.data as BigInt64Array)).toEqual([3n, -4n]);
    expect(Array.from(back.odd!.data as Uint8Array)).toEqual([9]);
    // The same tensor at an even and at an odd offset of the payload (float16 bits read in place, or copied to align them).
    for (const pad of [0, 1, 2, 3]) {
      const lead = new ort.Tensor('uint8', new Uint8Array(pad).fill(1), [pad]);
      const p = packTensors({ lead, f }, enc);
      const m = decodeMessage<{ tensors: unknown }>(encodeMessage({ tensors: p.headers }, p.parts), 'test');
      const got = unpackTensors(m.header.tensors, m.payload, { maxTensorBytes: 1000 }, 'test');
      expect(Array.from(got.f!.data as Float32Array)).toEqual(Array.from(rounded(values)));
    }
  });
});

const head = (h: object) => encodeMessage(h);
describe('malformed messages', () => {
  it.each([
    ['empty', Buffer.alloc(0), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (0 bytes, shorter than its 4-byte header length)'],
    ['header longer than the message', Buffer.from([0, 0, 0, 9, 1]), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (header length 9 does not fit in 5 bytes)'],
    ['header not JSON', Buffer.from([0, 0, 0, 1, 0x7b]), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (its header is not JSON)'],
    ['header an array', Buffer.concat([Buffer.from([0, 0, 0, 2]), Buffer.from('[]')]), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (its header is not an object)'],
  ])('%s', (_n, buf, code, message) => {
    expect(() => decodeMessage(buf, 'test')).toThrow(expect.objectContaining({ code, message }));
  });

  it.each([
    ['no tensor list', { }, Buffer.alloc(0), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (no tensor list)'],
    ['unknown dtype', { tensors: [{ name: 'x', dtype: 'complex', dims: [1], bytes: 8 }] }, Buffer.alloc(8), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (tensor entry 0 needs name, a known dtype, integer dims and bytes)'],
    ['negative dim', { tensors: [{ name: 'x', dtype: 'float32', dims: [-1], bytes: 4 }] }, Buffer.alloc(4), 'RUNTIME_BAD_MESSAGE', 'test: malformed message (tensor entry 0 needs name, a known dtype, integer dims and bytes)'],
    ['bytes disagree with dims', { tensors: [{ name: 'x', dtype: 'float32', dims: [2], bytes: 4 }] }, Buffer.alloc(4), 'RUNTIME_BAD_MESSAGE', 'test: tensor x: dims [2] of float32 need 8 bytes, header says 4'],
    ['data past the end', { tensors: [{ name: 'x', dtype: 'float32', dims: [2], bytes: 8 }] }, Buffer.alloc(4), 'RUNTIME_BAD_MESSAGE', 'test: tensor x runs past the end of the message (8 > 4 bytes)'],
    ['bytes after the last tensor', { tensors: [{ name: 'x', dtype: 'float32', dims: [1], bytes: 4 }] }, Buffer.alloc(6), 'RUNTIME_BAD_MESSAGE', 'test: 2 bytes after the last tensor'],
    ['over the limit', { tensors: [{ name: 'big', dtype: 'float32', dims: [1000], bytes: 4000 }] }, Buffer.alloc(4000), 'RUNTIME_TOO_LARGE', "test: tensor big has 4000 bytes, over this agent's limit of 1000 (start the agent with a larger --max-tensor-bytes)"],
    // An encoded tensor is held as float32 once received: the limit is on that.
    ['int8 over the limit once decoded', { tensors: [{ name: 'big', dtype: 'float32', dims: [300], bytes: 300, encoding: 'int8', scale: 1, zeroPoint: 0 }] }, Buffer.alloc(300), 'RUNTIME_TOO_LARGE', "test: tensor big has 1200 bytes, over this agent's limit of 1000 (start the agent with a larger --max-tensor-bytes)"],
    ['unknown encoding', { tensors: [{ name: 'x', dtype: 'float32', dims: [1], bytes: 1, encoding: 'int4' }] }, Buffer.alloc(1), 'RUNTIME_BAD_MESSAGE', 'test: tensor x: unknown encoding "int4" (this agent reads fp16 and int8)'],
    ['an encoded int64', { tensors: [{ name: 'x', dtype: 'int64', dims: [1], bytes: 2, encoding: 'fp16' }] }, Buffer.alloc(2), 'RUNTIME_BAD_MESSAGE', 'test: tensor x: only float32 tensors travel encoded, not int64'],
    ['int8 without its scale', { tensors: [{ name: 'x', dtype: 'float32', dims: [1], bytes: 1, encoding: 'int8', zeroPoint: 0 }] }, Buffer.alloc(1), 'RUNTIME_BAD_MESSAGE', 'test: tensor x: int8 needs a finite scale > 0 and an integer zeroPoint in -128..127'],
    ['int8 with a zero point out of range', { tensors: [{ name: 'x', dtype: 'float32', dims: [1], bytes: 1, encoding: 'int8', scale: 0.5, zeroPoint: 200 }] }, Buffer.alloc(1), 'RUNTIME_BAD_MESSAGE', 'test: tensor x: int8 needs a finite scale > 0 and an integer zeroPoint in -128..127'],
    ['fp16 bytes disagree with dims', { tensors: [{ name: 'x', dtype: 'float32', dims: [3], bytes: 4, encoding: 'fp16' }] }, Buffer.alloc(4), 'RUNTIME_BAD_MESSAGE', 'test: tensor x: dims [3] of fp16 need 6 bytes, header says 4'],
  ])('%s', (_n, header, payload, code, message) => {
    const msg = decodeMessage<{ tensors?: unknown }>(Buffer.concat([head(header), payload]), 'test');
    expect(() => unpackTensors(msg.header.tensors, msg.payload, limits, 'test')).toThrow(expect.objectContaining({ code, message }));
  });
});
