// Pass: nodes whose outputs nothing reads (left behind by folding, or dead in the file) and
// initializers nothing reads are removed, as onnxruntime would; its "unused initializer"
// warnings then have nothing to warn about.
import type { ModelProto } from 'onnx-buf';
import { nodeReads } from './_build.js';
import type { PassResult } from './_pass.js';

/** Removes dead nodes (to a fixpoint) and unread initializers. */
export function removeDeadNodes(proto: ModelProto): PassResult {
  const g = proto.graph!;
  const removed: { name: string; op: string }[] = [];
  const graphOutputs = g.output.map((o) => o.name);
  for (;;) {
    const read = new Set<string>(graphOutputs);
    for (const n of g.node) for (const x of nodeReads(n)) read.add(x);
    const dead = g.node.filter((n) => n.output.every((o) => o === '' || !read.has(o)));
    if (dead.length === 0) break;
    for (const n of dead) removed.push({ name: n.name, op: n.opType });
    const deadSet = new Set(dead);
    g.node = g.node.filter((n) => !deadSet.has(n));
  }
  const read = new Set<string>(graphOutputs);
  for (const n of g.node) for (const x of nodeReads(n)) read.add(x);
  const before = g.initializer.length;
  const gone = new Set(g.initializer.filter((t) => !read.has(t.name)).map((t) => t.name));
  if (gone.size > 0) {
    g.initializer = g.initializer.filter((t) => !gone.has(t.name));
    // Before IR 4 initializers are listed as inputs too; those entries go with them.
    g.input = g.input.filter((i) => !gone.has(i.name));
  }
  const produced = new Set(g.node.flatMap((n) => n.output));
  g.valueInfo = g.valueInfo.filter((v) => produced.has(v.name));
  return { removed, addedInitializers: 0, removedInitializers: before - g.initializer.length };
}
