// Pass: Identity nodes go, their readers read the Identity's input instead (exporters and inlined
// If branches leave them behind; as layers they would only add cut positions that cost nothing).
// An Identity that produces a graph output stays: the output's name is the model's interface.
import type { GraphProto, ModelProto, NodeProto } from 'onnx-buf';
import { isDefaultDomain, type PassResult } from './_pass.js';

function renameReads(nodes: NodeProto[], resolve: (x: string) => string): void {
  for (const n of nodes) {
    n.input = n.input.map((x) => (x === '' ? x : resolve(x)));
    for (const a of n.attribute) for (const g of a.g ? [a.g, ...a.graphs] : a.graphs) renameBody(g, resolve);
  }
}

function renameBody(g: GraphProto, resolve: (x: string) => string): void {
  // Body outputs may name an outer tensor directly.
  for (const o of g.output) o.name = resolve(o.name);
  renameReads(g.node, resolve);
}

/** Removes Identity nodes that do not produce graph outputs, rewiring their readers. */
export function removeIdentities(proto: ModelProto): PassResult {
  const g = proto.graph!;
  const outputs = new Set(g.output.map((o) => o.name));
  const alias = new Map<string, string>();
  const removed: { name: string; op: string }[] = [];
  for (const n of g.node) {
    if (n.opType !== 'Identity' || !isDefaultDomain(n.domain) || n.input.length !== 1 || n.output.length !== 1) continue;
    if (!n.input[0] || outputs.has(n.output[0]!)) continue;
    alias.set(n.output[0]!, n.input[0]);
    removed.push({ name: n.name, op: n.opType });
  }
  if (alias.size === 0) return { removed, addedInitializers: 0, removedInitializers: 0 };
  const resolve = (x: string): string => {
    let y = x;
    for (let k = 0; alias.has(y) && k <= alias.size; k++) y = alias.get(y)!;
    return y;
  };
  const gone = new Set(removed.map((r) => r.name));
  g.node = g.node.filter((n) => !gone.has(n.name));
  renameReads(g.node, resolve);
  g.valueInfo = g.valueInfo.filter((v) => !alias.has(v.name));
  return { removed, addedInitializers: 0, removedInitializers: 0 };
}
