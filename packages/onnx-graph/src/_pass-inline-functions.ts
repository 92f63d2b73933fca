// Pass: a call of a model-local function (FunctionProto in `model.functions`, as PyTorch's exporters
// write submodules with `export_modules_as_functions` or the dynamo exporter keeps them) is replaced
// by the function's body, as onnxruntime inlines it when it loads the model. The body's nodes then
// become layers: the cost model sees their ops and a plan can cut between them. Each call's nodes
// and values get the call's name as a prefix (`block1/Conv`), so two calls never collide.
import { clone } from '@bufbuild/protobuf';
import { AttributeProtoSchema, NodeProtoSchema, type AttributeProto, type FunctionProto, type ModelProto, type NodeProto } from 'onnx-buf';
import { hasSubgraphs, isDefaultDomain, type PassContext, type PassResult } from './_pass.js';

const key = (domain: string, name: string) => `${isDefaultDomain(domain) ? '' : domain}::${name}`;

/** The function's opsets agree with the model's: its body means the same inlined. */
function sameOpsets(fn: FunctionProto, model: ModelProto): boolean {
  return fn.opsetImport.every((o) => {
    const m = model.opsetImport.find((x) => (isDefaultDomain(x.domain) && isDefaultDomain(o.domain)) || x.domain === o.domain);
    return m === undefined || m.version === o.version;
  });
}

/** Attribute references (`ref_attr_name`) resolved against the call's attributes and the function's defaults. */
function resolveAttributes(attrs: readonly AttributeProto[], call: NodeProto, fn: FunctionProto): AttributeProto[] {
  const out: AttributeProto[] = [];
  for (const a of attrs) {
    if (!a.refAttrName) {
      out.push(a);
      continue;
    }
    const given = call.attribute.find((x) => x.name === a.refAttrName) ?? fn.attributeProto.find((x) => x.name === a.refAttrName);
    if (given) {
      const copy = clone(AttributeProtoSchema, given);
      copy.name = a.name;
      out.push(copy);
    }
  }
  return out;
}

/** Inlines every call of a local function whose opsets agree with the model's; drops functions nothing calls any more. */
export function inlineFunctions(proto: ModelProto, _ctx: PassContext): PassResult {
  if (proto.functions.length === 0) return { removed: [], addedInitializers: 0, removedInitializers: 0 };
  const g = proto.graph!;
  // A body with If/Loop/Scan stays a call: its subgraphs read body values by names this pass would rename.
  const fns = new Map(proto.functions.filter((f) => sameOpsets(f, proto) && !f.node.some(hasSubgraphs)).map((f) => [key(f.domain, f.name), f]));
  const removed: { name: string; op: string }[] = [];
  const names = new Set(g.node.map((n) => n.name));
  // Every value name in the graph, so a prefixed body value never takes one.
  const values = new Set([...g.input.map((v) => v.name), ...g.output.map((v) => v.name), ...g.initializer.map((t) => t.name), ...g.node.flatMap((n) => [...n.input, ...n.output])]);
  const out: NodeProto[] = [];
  for (const call of g.node) {
    const fn = fns.get(key(call.domain, call.opType));
    // A call with more inputs or outputs than the function declares is malformed: onnxruntime says so.
    if (!fn || call.input.length > fn.input.length || call.output.length > fn.output.length) {
      out.push(call);
      continue;
    }
    const prefix = call.name;
    const map = new Map<string, string>();
    fn.input.forEach((x, i) => map.set(x, call.input[i] ?? ''));
    fn.output.forEach((x, i) => map.set(x, call.output[i] ?? ''));
    // Values inside the body: the call's name as a prefix. An output the call leaves out ('') is
    // still computed inside the body under its own prefixed name.
    const inner = new Map<string, string>();
    const value = (x: string) => {
      if (x === '') return x;
      const m = map.get(x);
      if (m !== undefined && m !== '') return m;
      let v = inner.get(x);
      if (v === undefined) {
        v = `${prefix}/${x}`;
        for (let k = 1; values.has(v); k++) v = `${prefix}/${x}_${k}`;
        values.add(v);
        inner.set(x, v);
      }
      return v;
    };
    fn.node.forEach((b, i) => {
      let name = `${prefix}/${b.name || `${b.opType}_${i}`}`;
      for (let k = 1; names.has(name); k++) name = `${prefix}/${b.name || `${b.opType}_${i}`}_${k}`;
      names.add(name);
      // Cloned and then assigned: spreading an ONNX (proto2) message would drop the fields it leaves at their defaults.
      const node = clone(NodeProtoSchema, b);
      node.name = name;
      node.input = b.input.map(value);
      node.output = b.output.map(value);
      node.attribute = resolveAttributes(b.attribute, call, fn);
      out.push(node);
    });
    removed.push({ name: call.name, op: call.opType });
  }
  if (removed.length === 0) return { removed, addedInitializers: 0, removedInitializers: 0 };
  g.node = out;
  // Functions no node calls any more (in the graph or in another function) go.
  const called = (nodes: readonly NodeProto[]) => nodes.map((n) => key(n.domain, n.opType));
  const live = new Set([...called(g.node), ...proto.functions.flatMap((f) => called(f.node))]);
  proto.functions = proto.functions.filter((f) => live.has(key(f.domain, f.name)));
  return { removed, addedInitializers: 0, removedInitializers: 0 };
}
