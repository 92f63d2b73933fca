// Folding BatchNormalization into the Conv before it, as int8 deployment does: the BN's scale and
// shift go into the convolution's weights and bias, so the int8 Conv computes what Conv+BN did.
import { clone } from '@bufbuild/protobuf';
import { NodeProtoSchema, type GraphProto, type NodeProto, type TensorProto } from 'onnx-buf';
import { dimsOf, floatTensor, readFloats, T_FLOAT } from './_onnx.js';

function floatAttr(n: NodeProto, name: string, dflt: number): number {
  const a = n.attribute.find((x) => x.name === name);
  return a ? a.f : dflt;
}

/** Nodes and initializers of `g` with every foldable Conv -> BatchNormalization pair merged; `folded` lists the BN nodes. */
export function foldBatchNorms(g: GraphProto): { nodes: NodeProto[]; initializers: TensorProto[]; folded: string[] } {
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const readers = new Map<string, number>();
  for (const n of g.node) for (const x of n.input) readers.set(x, (readers.get(x) ?? 0) + 1);
  const outputs = new Set(g.output.map((o) => o.name));
  const producer = new Map<string, NodeProto>();
  for (const n of g.node) for (const o of n.output) producer.set(o, n);
  const replaced = new Map<NodeProto, NodeProto>();
  const dropped = new Set<NodeProto>();
  const added: TensorProto[] = [];
  const folded: string[] = [];
  const float = (name: string | undefined) => (name ? inits.get(name) : undefined)?.dataType === T_FLOAT ? inits.get(name!) : undefined;

  for (const bn of g.node) {
    if (bn.opType !== 'BatchNormalization' || bn.domain !== '' || bn.output.filter((o) => o !== '').length !== 1) continue;
    const conv = producer.get(bn.input[0]!);
    if (!conv || conv.opType !== 'Conv' || conv.domain !== '' || replaced.has(conv)) continue;
    if (readers.get(bn.input[0]!) !== 1 || outputs.has(bn.input[0]!)) continue;
    if (bn.attribute.some((a) => a.name === 'spatial' && Number(a.i) === 0)) continue;
    const [scale, shift, mean, variance] = bn.input.slice(1, 5).map(float);
    const w = float(conv.input[1]);
    const b = conv.input[2] ? float(conv.input[2]) : undefined;
    if (!scale || !shift || !mean || !variance || !w || (conv.input[2] && !b)) continue;
    const eps = floatAttr(bn, 'epsilon', 1e-5);
    const wd = dimsOf(w);
    const cOut = wd[0]!;
    const [s, sh, m, v] = [scale, shift, mean, variance].map(readFloats) as [Float32Array, Float32Array, Float32Array, Float32Array];
    if (s.length !== cOut) continue;
    const weights = readFloats(w);
    const per = weights.length / cOut;
    const bias = b ? readFloats(b) : new Float32Array(cOut);
    const newW = new Float32Array(weights.length);
    const newB = new Float32Array(cOut);
    for (let c = 0; c < cOut; c++) {
      const k = s[c]! / Math.sqrt(v[c]! + eps);
      for (let i = 0; i < per; i++) newW[c * per + i] = weights[c * per + i]! * k;
      newB[c] = (bias[c]! - m[c]!) * k + sh[c]!;
    }
    const wName = `${conv.input[1]}__bn_folded`;
    const bName = `${bn.name || bn.output[0]}__bias_folded`;
    added.push(floatTensor(wName, wd, newW), floatTensor(bName, [cOut], newB));
    const merged = clone(NodeProtoSchema, conv);
    merged.input = [conv.input[0]!, wName, bName];
    merged.output = [bn.output[0]!];
    replaced.set(conv, merged);
    dropped.add(bn);
    folded.push(bn.name);
  }
  const nodes = g.node.filter((n) => !dropped.has(n)).map((n) => replaced.get(n) ?? n);
  return { nodes, initializers: [...g.initializer, ...added], folded };
}
