// ONNX sequences (lists of tensors: SplitToSequence, SequenceConstruct, ...) and optionals (torch's
// optional tensors: Optional, read by OptionalHasElement and OptionalGetElement) cannot cross a cut
// (onnxruntime-node hands a stage's outputs back as tensors only) and have no tensor shape. So the
// nodes such a value links (its producer, its readers, and whatever lies on a path between them) go
// into one block before the model is analysed: an If on a constant true whose branches are those
// nodes. The block is one layer that computes what the nodes did; the layers around it stay
// layers, and a plan can cut anywhere outside it. `inline-if` leaves such an If alone.
import { clone, create } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType, AttributeProtoSchema, GraphProtoSchema, NodeProtoSchema, ValueInfoProtoSchema,
  type GraphProto, type ModelProto, type NodeProto,
} from 'onnx-buf';
import { nodeReads } from './_build.js';
import { GraphError } from './errors.js';
import { addInitializers } from './_pass.js';
import { tensorFromValues, tensorValueInfo } from './_proto.js';
import type { Graph } from './types.js';

/** Ops whose output is an ONNX sequence (a list of tensors), not a tensor. */
export const SEQUENCE_OPS: ReadonlySet<string> = new Set(['SplitToSequence', 'SequenceConstruct', 'SequenceEmpty', 'SequenceInsert', 'SequenceErase', 'SequenceMap']);

/** Ops whose output is an ONNX optional (a tensor or none), not a tensor. */
export const OPTIONAL_OPS: ReadonlySet<string> = new Set(['Optional']);

/** What a blocked op makes, for messages. */
const madeBy = (op: string) => (OPTIONAL_OPS.has(op) ? 'an ONNX optional' : 'an ONNX sequence');
const blocked = (op: string) => SEQUENCE_OPS.has(op) || OPTIONAL_OPS.has(op);

const defaultDomain = (n: NodeProto) => n.domain === '' || n.domain === 'ai.onnx';

/** True when a graph's own nodes make a sequence or an optional: an If branch that is such a block. */
export function makesSequences(g: GraphProto): boolean {
  return g.node.some((n) => defaultDomain(n) && blocked(n.opType));
}

/** Node indices in topological order, each as early as its inputs allow and otherwise in file order. */
function stableTopologicalOrder(nodes: readonly NodeProto[]): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const deps = nodes.map((n) => new Set(nodeReads(n).map((x) => producer.get(x)).filter((p): p is number => p !== undefined)));
  const readers = nodes.map(() => [] as number[]);
  deps.forEach((d, i) => d.forEach((p) => readers[p]!.push(i)));
  const waiting = deps.map((d) => d.size);
  const ready = nodes.map((_, i) => i).filter((i) => waiting[i] === 0);
  const order: number[] = [];
  while (ready.length) {
    ready.sort((a, b) => a - b);
    const i = ready.shift()!;
    order.push(i);
    for (const r of readers[i]!) if (--waiting[r]! === 0) ready.push(r);
  }
  return order;
}

/**
 * Wraps the nodes each sequence or optional links into a block (an If on a constant true); returns
 * the blocks' names and the nodes they took. A sequence the graph gives, or one that would leave its
 * block, cannot be blocked: GRAPH_UNSUPPORTED_DTYPE naming it.
 */
export function groupSequences(proto: ModelProto, label: string): { readonly blocks: readonly string[]; readonly nodes: readonly string[] } {
  const g = proto.graph!;
  const nodes = g.node;
  const seq = new Set<string>();
  for (const n of nodes) if (defaultDomain(n) && blocked(n.opType)) for (const o of n.output) if (o) seq.add(o);
  if (seq.size === 0) return { blocks: [], nodes: [] };
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const refuse = (why: string, o: string): never => {
    const optional = OPTIONAL_OPS.has(nodes[producer.get(o)!]!.opType);
    throw new GraphError('GRAPH_UNSUPPORTED_DTYPE', `${label}: ${why}, which dnnpart cannot partition; ${optional ? 'export the model with the tensor itself (torch: no Optional[Tensor] in its outputs)' : 'export the model without sequence ops (e.g. torch.split or torch.unbind with static sizes exports as Split)'}`);
  };
  const readers = new Map<string, number[]>();
  nodes.forEach((n, i) => nodeReads(n).forEach((x) => x && readers.set(x, [...(readers.get(x) ?? []), i])));
  // An Identity of a sequence (an optional) is one too.
  for (let changed = true; changed;) {
    changed = false;
    for (const n of nodes) if (n.opType === 'Identity' && seq.has(n.input[0] ?? '') && !seq.has(n.output[0] ?? '')) { seq.add(n.output[0]!); changed = true; }
  }
  const outputs = new Set(g.output.map((o) => o.name));
  for (const o of seq) if (outputs.has(o)) refuse(`graph output ${o} (made by node ${nodes[producer.get(o)!]!.name}) is ${madeBy(nodes[producer.get(o)!]!.opType)}`, o);

  // Blocks: a sequence's producer and readers, merged; then each closed under paths between its nodes.
  const parent = nodes.map((_, i) => i);
  const find = (i: number): number => (parent[i] === i ? i : (parent[i] = find(parent[i]!)));
  const union = (a: number, b: number) => { parent[find(a)] = find(b); };
  for (const s of seq) for (const r of readers.get(s) ?? []) union(producer.get(s)!, r);
  const succ = nodes.map((n) => [...new Set(n.output.flatMap((o) => readers.get(o) ?? []))]);
  const pred = nodes.map((n) => [...new Set(nodeReads(n).map((x) => producer.get(x)).filter((p): p is number => p !== undefined))]);
  const reach = (from: Iterable<number>, next: number[][]): Set<number> => {
    const seen = new Set<number>();
    const stack = [...from];
    while (stack.length) for (const j of next[stack.pop()!]!) if (!seen.has(j)) { seen.add(j); stack.push(j); }
    return seen;
  };
  // A block is every node unioned with a sequence's producer, in file order.
  const members = (): Map<number, number[]> => {
    const roots = new Set([...seq].map((s) => find(producer.get(s)!)));
    const m = new Map<number, number[]>();
    nodes.forEach((_, i) => { const root = find(i); if (roots.has(root)) m.set(root, [...(m.get(root) ?? []), i]); });
    return m;
  };
  for (let changed = true; changed;) {
    changed = false;
    for (const block of members().values()) {
      const down = reach(block, succ);
      const up = reach(block, pred);
      for (const i of down) if (up.has(i) && find(i) !== find(block[0]!)) { union(i, block[0]!); changed = true; }
    }
  }
  const blocks = [...members().values()];

  const taken = new Set<string>([...nodes.map((n) => n.name), ...nodes.flatMap((n) => n.output), ...g.initializer.map((t) => t.name), ...g.input.map((i) => i.name)]);
  const unique = (base: string) => {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  };
  const replaced = new Map<number, NodeProto | null>();
  const conds = [];
  const names: string[] = [];
  for (const block of blocks) {
    const inside = new Set(block);
    const escaping = [...new Set(block.flatMap((i) => nodes[i]!.output.filter((o) => o && (outputs.has(o) || (readers.get(o) ?? []).some((r) => !inside.has(r))))))];
    for (const o of escaping) if (seq.has(o)) refuse(`${madeBy(nodes[producer.get(o)!]!.opType).replace('an ONNX ', '')} ${o} of node ${nodes[producer.get(o)!]!.name} leaves the nodes it links`, o);
    const name = unique(`${nodes[block[0]!]!.name}/${block.some((i) => SEQUENCE_OPS.has(nodes[i]!.opType)) ? 'sequences' : 'optionals'}`);
    const cond = tensorFromValues(unique(`${name}/always`), 'bool', [], [1]);
    conds.push(cond);
    const branch = (which: string) => create(GraphProtoSchema, {
      name: `${name}/${which}`,
      node: block.map((i) => clone(NodeProtoSchema, nodes[i]!)),
      output: escaping.map((o) => create(ValueInfoProtoSchema, { name: o })),
    });
    const wrapper = create(NodeProtoSchema, {
      opType: 'If', name, input: [cond.name], output: escaping,
      attribute: ['then_branch', 'else_branch'].map((a) => create(AttributeProtoSchema, { name: a, type: AttributeProto_AttributeType.GRAPH, g: branch(a) })),
    });
    block.forEach((i, k) => replaced.set(i, k === block.length - 1 ? wrapper : null));
    names.push(name);
  }
  const kept = nodes.flatMap((n, i) => (replaced.has(i) ? (replaced.get(i) ? [replaced.get(i)!] : []) : [n]));
  g.node = stableTopologicalOrder(kept).map((i) => kept[i]!);
  addInitializers(proto, conds);
  return { blocks: names, nodes: [...replaced.keys()].sort((a, b) => a - b).map((i) => nodes[i]!.name) };
}

/**
 * Gives the blocks' branch outputs their element types and shapes once the model is analysed
 * (a graph's outputs must be typed, and the branches are graphs).
 */
export function typeBlockOutputs(proto: ModelProto, graph: Graph, blocks: readonly string[]): void {
  const names = new Set(blocks);
  for (const n of proto.graph!.node) {
    if (!names.has(n.name)) continue;
    for (const a of n.attribute) {
      if (!a.g) continue;
      a.g.output = a.g.output.map((o) => {
        const t = graph.tensors.get(o.name);
        return t ? tensorValueInfo(t) : o;
      });
    }
  }
}
