// Pass: an If whose condition is a constant (a sample rate given with --input sr=:16000, a shape
// test folded to true) is replaced by the nodes of the branch it takes, as onnxruntime's constant
// folding does. The branch's layers then become layers of the DAG that a plan can cut between.
import { create } from '@bufbuild/protobuf';
import { NodeProtoSchema, type ModelProto, type NodeProto } from 'onnx-buf';
import { nodeReads } from './_build.js';
import { decodeTensor } from './_proto.js';
import { addInitializers, isDefaultDomain, type PassContext, type PassResult } from './_pass.js';
import { makesSequences } from './_sequence-blocks.js';

/** Every name a graph defines or reads, subgraphs included, to keep the inlined names unique. */
function allNames(nodes: readonly NodeProto[], into: Set<string>): void {
  for (const n of nodes) {
    into.add(n.name);
    for (const x of [...n.input, ...n.output]) into.add(x);
    for (const a of n.attribute) for (const g of a.g ? [a.g, ...a.graphs] : a.graphs) {
      for (const t of g.initializer) into.add(t.name);
      for (const i of g.input) into.add(i.name);
      allNames(g.node, into);
    }
  }
}

/** Inlines the taken branch of every If with a constant condition. */
export function inlineConstantIfs(proto: ModelProto, ctx: PassContext): PassResult {
  const g = proto.graph!;
  const inits = new Map(g.initializer.map((t) => [t.name, t]));
  const removed: { name: string; op: string }[] = [];
  let added = 0;
  const out: NodeProto[] = [];
  const base = new Set<string>();
  for (const t of g.initializer) base.add(t.name);
  for (const i of g.input) base.add(i.name);
  for (const o of g.output) base.add(o.name);
  const renamed = new Set<string>();
  for (const n of g.node) {
    // The condition is a constant: an initializer (a folded test) or an input given a value (--input c=:1).
    const isIf = n.opType === 'If' && isDefaultDomain(n.domain);
    const condInit = isIf ? inits.get(n.input[0] ?? '') : undefined;
    const cond = condInit ? decodeTensor(condInit, `${ctx.label}: initializer ${condInit.name}`, true).data : isIf ? ctx.info?.get(n.input[0] ?? '')?.value : undefined;
    const taken0 = cond && cond.length === 1 ? n.attribute.find((a) => a.name === (Number(cond[0]) !== 0 ? 'then_branch' : 'else_branch'))?.g : undefined;
    // A branch that makes sequences stays inside its If: no cut may fall between its nodes.
    const branch = taken0 && !makesSequences(taken0) ? taken0 : undefined;
    if (!branch) {
      out.push(n);
      continue;
    }
    // A name the branch defines that is taken anywhere else (the If's other branch aside: it goes
    // with the If) gets the If's name as a prefix, so exporter names survive where they can.
    const taken = new Set<string>([...base, ...renamed]);
    allNames(g.node.filter((x) => x !== n), taken);
    for (const i of n.input) taken.add(i);
    for (const o of n.output) taken.add(o);
    const defined = new Set<string>([...branch.initializer.map((t) => t.name), ...branch.node.flatMap((x) => x.output.filter((o) => o !== ''))]);
    const rename = new Map<string, string>();
    for (const d of defined) {
      if (!taken.has(d) || d === '') continue;
      let k = 1;
      let name = `${n.name}/${d}`;
      while (taken.has(name)) name = `${n.name}/${d}_${k++}`;
      rename.set(d, name);
      taken.add(name);
      renamed.add(name);
    }
    // Body outputs become the If's outputs: the producing node writes the If's output name.
    const outputOf = new Map<string, string>();
    const identities: NodeProto[] = [];
    branch.output.forEach((o, i) => {
      const target = n.output[i];
      if (!target) return;
      const producedHere = branch.node.some((x) => x.output.includes(o.name));
      if (producedHere && !outputOf.has(o.name) && !branch.output.slice(0, i).some((p) => p.name === o.name)) outputOf.set(o.name, target);
      else identities.push(create(NodeProtoSchema, { opType: 'Identity', name: `${n.name}/output_${i}`, input: [rename.get(o.name) ?? o.name], output: [target] }));
    });
    const mapName = (x: string) => outputOf.get(x) ?? rename.get(x) ?? x;
    if (branch.node.some((x) => nodeReads(x).some((r) => outputOf.has(r)))) {
      // An output also read inside the branch: keep its body name and copy it out instead.
      for (const [o, target] of outputOf) identities.push(create(NodeProtoSchema, { opType: 'Identity', name: `${n.name}/${target}`, input: [rename.get(o) ?? o], output: [target] }));
      outputOf.clear();
    }
    const topNames = new Set([...g.node.map((x) => x.name), ...out.map((x) => x.name)]);
    for (const b of branch.node) {
      // Node names stay unique among the top-level nodes: a clash gets the If's name as a prefix.
      let name = b.name || `${n.name}/${b.opType}`;
      if (topNames.has(name)) {
        const base = name.startsWith(`${n.name}/`) ? name : `${n.name}/${name}`;
        name = base;
        for (let k = 1; topNames.has(name); k++) name = `${base}_${k}`;
      }
      topNames.add(name);
      b.name = name;
      b.input = b.input.map((x) => (x === '' ? x : mapName(x)));
      b.output = b.output.map((x) => (x === '' ? x : mapName(x)));
      // Nested bodies read outer names that may have been renamed.
      if (rename.size > 0) for (const a of b.attribute) for (const sg of a.g ? [a.g, ...a.graphs] : a.graphs) renameReads(sg.node, rename);
      out.push(b);
    }
    out.push(...identities);
    const inlinedInits = branch.initializer.map((t) => {
      t.name = rename.get(t.name) ?? t.name;
      return t;
    });
    if (inlinedInits.length) addInitializers(proto, inlinedInits);
    added += inlinedInits.length;
    removed.push({ name: n.name, op: n.opType });
  }
  if (removed.length === 0) return { removed, addedInitializers: 0, removedInitializers: 0 };
  g.node = out;
  return { removed, addedInitializers: added, removedInitializers: 0 };
}

function renameReads(nodes: NodeProto[], rename: ReadonlyMap<string, string>): void {
  for (const n of nodes) {
    n.input = n.input.map((x) => rename.get(x) ?? x);
    for (const a of n.attribute) for (const sg of a.g ? [a.g, ...a.graphs] : a.graphs) renameReads(sg.node, rename);
  }
}
