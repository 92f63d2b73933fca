// Splitting a model into pipeline stages: one self-contained ONNX model per stage and a manifest.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { clone, create, toBinary } from '@bufbuild/protobuf';
import {
  FunctionProtoSchema, GraphProtoSchema, ModelProtoSchema, OperatorSetIdProtoSchema, NodeProtoSchema, ValueInfoProtoSchema,
  type ModelProto, type NodeProto, type ValueInfoProto,
} from 'onnx-buf';
import { GraphError } from './errors.js';
import { byteSize, onnxElementType, tensorValueInfo as valueInfo } from './_proto.js';
import { dataSizedTensors } from './data-sized.js';
import { writeModelFile } from './model-file.js';
import type { LoadedModel } from './load.js';
import type { DType, Graph, GraphNode, GraphTensor, SplitManifest, StageManifest } from './types.js';

/** Where to split: after the named nodes (in topological order), or an explicit node -> stage map. */
export type SplitSpec =
  | { readonly after: readonly string[] }
  | { readonly stages: Readonly<Record<string, number>> };

/** One stage: its model (initializer tensors shared with the source model: read-only), encoded bytes, and its manifest entry. */
export interface StageModel extends StageManifest {
  readonly index: number;
  readonly proto: ModelProto;
  /** The proto encoded (on first read: a stage over 2 GB is written with external data instead, writeSplit). */
  readonly bytes: Uint8Array;
}

/** The stages of a split and the manifest that describes them. */
export interface SplitResult {
  readonly stages: readonly StageModel[];
  readonly manifest: SplitManifest;
}

/** Encodes a model to ONNX bytes. */
export function encodeModel(proto: ModelProto): Uint8Array {
  return toBinary(ModelProtoSchema, proto);
}

/**
 * The model as onnxruntime-node can run it whole: its own proto (read-only), or, when a graph input
 * or output has a type onnxruntime-node can neither feed nor hand back (bfloat16, float8, 4-bit), the
 * model as one stage that takes and gives those as `edgeDtype` and casts them inside, as a split's
 * stages do.
 */
export function runnableModel(model: LoadedModel): ModelProto {
  const { graph } = model;
  const carried = [...graph.inputs, ...graph.outputs].some((x) => EDGE_DTYPE[graph.tensors.get(x)?.dtype ?? 'float32'] !== undefined);
  return carried ? wholeStage(model).proto : model.proto;
}

/** The whole model as a split's one stage: its inputs and outputs as stages have them (see `edgeDtype`). */
export function wholeStage(model: LoadedModel): StageModel {
  return splitModel(model, { stages: Object.fromEntries(model.graph.nodes.map((n) => [n.name, 0])) }).stages[0]!;
}

/**
 * Types onnxruntime-node can neither feed nor hand back (it refuses float8 and bfloat16 ones, and an
 * int4 output aborts the process), and the type each crosses a stage edge as: one that holds every
 * value exactly, so a cast there and back changes nothing.
 */
const EDGE_DTYPE: Readonly<Partial<Record<DType, DType>>> = {
  bfloat16: 'float32', float8e4m3fn: 'float32', float8e4m3fnuz: 'float32', float8e5m2: 'float32', float8e5m2fnuz: 'float32',
  int4: 'int8', uint4: 'uint8',
};

/** The type a tensor has where onnxruntime-node feeds or returns it: bfloat16 and float8 as float32, int4 as int8, uint4 as uint8 (see `runnableModel`). */
export function edgeDtype<T extends string>(dtype: T): T | DType {
  return EDGE_DTYPE[dtype as DType] ?? dtype;
}

/** The bytes a tensor takes where onnxruntime-node feeds or returns it (as its `edgeDtype`): what crosses a cut. */
export function edgeBytes(t: Pick<GraphTensor, 'dtype' | 'shape' | 'bytes'>): number {
  const edge = edgeDtype(t.dtype);
  return edge === t.dtype ? t.bytes : byteSize(edge, t.shape.reduce((a, b) => a * b, 1));
}

/** Writes a model to an .onnx file. */
export function saveModel(proto: ModelProto, path: string): void {
  try {
    writeFileSync(path, encodeModel(proto));
  } catch (e) {
    throw new GraphError('GRAPH_WRITE_FAILED', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/** Explicit and implicit (subgraph) inputs of a node. */
function reads(n: GraphNode): readonly string[] {
  return n.implicitInputs ? [...n.inputs, ...n.implicitInputs] : n.inputs;
}

function unknownNode(graph: Graph, name: string, flag: string, why?: (name: string) => string | undefined): never {
  const near = graph.nodes.map((n) => n.name).filter((n) => n.toLowerCase().includes(name.toLowerCase())).slice(0, 3);
  const reason = why?.(name);
  throw new GraphError('GRAPH_UNKNOWN_NODE', `${flag} ${name}: no node of that name in ${graph.name}${reason ? ` (${reason})` : near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`);
}

/**
 * Why a name a user took from the file (a viewer shows every node) is no layer of the loaded model:
 * a node inside an If/Loop/Scan subgraph, or one the load-time passes folded away.
 */
function whyNotALayer(model: LoadedModel): (name: string) => string | undefined {
  return (name) => {
    const within = (nodes: readonly NodeProto[]): boolean =>
      nodes.some((n) => n.name === name || n.attribute.some((a) => [...(a.g ? [a.g] : []), ...a.graphs].some((g) => within(g.node))));
    const owner = model.proto.graph!.node.find((n) => n.attribute.some((a) => [...(a.g ? [a.g] : []), ...a.graphs].some((g) => within(g.node))));
    if (owner) return `it runs inside the ${owner.opType} node ${owner.name}, in a subgraph; cuts fall between top-level nodes, so cut before or after ${owner.name}`;
    return model.simplified.removedNodes.includes(name) ? 'it was folded away on load, as dnnpart inspect reports; cut after a node that remains' : undefined;
  };
}

/** Stage number of every node (by topological index), checked against the graph's edges. */
export function stageAssignment(graph: Graph, spec: SplitSpec, why?: (name: string) => string | undefined): number[] {
  const index = new Map(graph.nodes.map((n) => [n.name, n.index]));
  const stageOf = new Array<number>(graph.nodes.length).fill(0);
  let count: number;
  if ('after' in spec) {
    let prev = -1;
    let prevName = '';
    for (const name of spec.after) {
      const i = index.get(name) ?? unknownNode(graph, name, '--after', why);
      if (i <= prev) {
        throw new GraphError('GRAPH_CUTS_OUT_OF_ORDER', `--after ${name} (position ${i}) must come after ${prevName} (position ${prev}) in the topological order`);
      }
      if (i === graph.nodes.length - 1) {
        throw new GraphError('GRAPH_EMPTY_STAGE', `--after ${name}: it is the last node, so the stage after it would be empty`);
      }
      prev = i;
      prevName = name;
    }
    let k = 0;
    const cuts = new Set(spec.after.map((n) => index.get(n)!));
    for (let i = 0; i < graph.nodes.length; i++) {
      stageOf[i] = k;
      if (cuts.has(i)) k++;
    }
    count = k + 1;
  } else {
    const seen = new Set<number>();
    for (const [name, k] of Object.entries(spec.stages)) {
      const i = index.get(name) ?? unknownNode(graph, name, 'stage assignment of', why);
      if (!Number.isInteger(k) || k < 0) throw new GraphError('GRAPH_BAD_ASSIGNMENT', `node ${name} is assigned stage ${k}; stages are integers from 0`);
      stageOf[i] = k;
      seen.add(k);
    }
    for (const n of graph.nodes) {
      if (!(n.name in spec.stages)) throw new GraphError('GRAPH_BAD_ASSIGNMENT', `node ${n.name} is not assigned to a stage`);
    }
    count = Math.max(...seen) + 1;
    for (let k = 0; k < count; k++) {
      if (!seen.has(k)) throw new GraphError('GRAPH_EMPTY_STAGE', `stage ${k} has no nodes; number stages 0..${count - 1} without gaps`);
    }
    for (const n of graph.nodes) {
      for (const x of reads(n)) {
        const p = x ? graph.tensors.get(x)?.producer : null;
        if (p && stageOf[index.get(p)!]! > stageOf[n.index]!) {
          throw new GraphError('GRAPH_BAD_ASSIGNMENT', `tensor ${x} flows from ${p} (stage ${stageOf[index.get(p)!]}) back to ${n.name} (stage ${stageOf[n.index]}); a stage may only read from earlier stages`);
        }
      }
    }
  }
  return stageOf;
}

/** Splits a loaded model into stages; each stage is a valid model with static shapes on its edges. */
export function splitModel(model: LoadedModel, spec: SplitSpec): SplitResult {
  const { graph, proto } = model;
  const stageOf = stageAssignment(graph, spec, whyNotALayer(model));
  const count = Math.max(...stageOf) + 1;
  const protoNode = new Map<string, NodeProto>(proto.graph!.node.map((n) => [n.name, n]));
  const initializer = new Map(proto.graph!.initializer.map((t) => [t.name, t]));
  const index = new Map(graph.nodes.map((n) => [n.name, n.index]));
  const stageOfTensor = (name: string): number => {
    const p = graph.tensors.get(name)!.producer;
    return p === null ? -1 : stageOf[index.get(p)!]!;
  };
  // The last stage that reads each tensor decides whether it must leave its producing stage.
  const lastReader = new Map<string, number>();
  for (const n of graph.nodes) for (const x of reads(n)) if (x) lastReader.set(x, Math.max(lastReader.get(x) ?? -1, stageOf[n.index]!));
  const isOutput = new Set(graph.outputs);
  // Production order (graph inputs first) orders every stage's inputs and outputs the same way.
  const rank = new Map<string, number>();
  for (const x of graph.inputs) rank.set(x, rank.size);
  for (const n of graph.nodes) for (const o of n.outputs) if (o) rank.set(o, rank.size);

  const sized = dataSizedTensors(graph);
  const byStage: GraphNode[][] = Array.from({ length: count }, () => []);
  for (const n of graph.nodes) byStage[stageOf[n.index]!]!.push(n);

  const stages: StageModel[] = [];
  for (let k = 0; k < count; k++) {
    const nodes = byStage[k]!;
    const inputs: string[] = [];
    const inits: string[] = [];
    const seen = new Set<string>();
    for (const n of nodes) {
      for (const x of reads(n)) {
        if (!x || seen.has(x)) continue;
        seen.add(x);
        const t = graph.tensors.get(x)!;
        if (t.isInitializer) inits.push(x);
        else if (stageOfTensor(x) !== k) inputs.push(x);
      }
    }
    inputs.sort((a, b) => rank.get(a)! - rank.get(b)!);
    const outputs: string[] = [];
    const inner: string[] = [];
    for (const n of nodes) {
      for (const o of n.outputs) {
        if (!o) continue;
        if (isOutput.has(o) || (lastReader.get(o) ?? -1) > k) outputs.push(o);
        else inner.push(o);
      }
    }
    // A model output that is also a graph input passes through no node; the first stage reports it.
    if (k === 0) for (const o of graph.outputs) if (graph.tensors.get(o)!.isGraphInput) outputs.push(o);
    // A model output that is a constant (a weight the file lists as an output, e.g. a detector's
    // anchors) is computed by no node either; the last stage carries it and reports it.
    if (k === count - 1) {
      for (const o of graph.outputs) {
        const c = graph.tensors.get(o)!;
        if (!c.isInitializer || c.isGraphInput) continue;
        outputs.push(o);
        if (!seen.has(o)) inits.push(o);
      }
    }
    const t = (name: string) => graph.tensors.get(name)!;
    // A size the data decides (NonZero's, Unique's, and what follows them) is declared by name.
    const declared = (x: GraphTensor) => valueInfo(x, sized.get(x.name));
    const stageNodes = nodes.map((n) => clone(NodeProtoSchema, protoNode.get(n.name)!));
    const carried = carryEdgeTypes(stageNodes, nodes, inputs, outputs.filter((o) => { const p = t(o).producer; return p !== null && stageOf[index.get(p)!] === k; }), t);
    const g = create(GraphProtoSchema, {
      name: `${graph.name}_stage${k}`,
      node: [...carried.before, ...stageNodes, ...carried.after],
      // Shared, not copied: weights can be hundreds of MB. Treat stage protos as read-only.
      initializer: inits.map((name) => initializer.get(name)!),
      input: [...inputs.map((x) => declared(carried.edge(t(x)))), ...(proto.irVersion < 4n ? inits.map((x) => valueInfo(t(x))) : [])],
      output: outputs.map((x) => declared(carried.edge(t(x)))),
      valueInfo: [...inner.map((x) => declared(t(x))), ...carried.inner],
    });
    const m = create(ModelProtoSchema, {
      irVersion: proto.irVersion,
      opsetImport: proto.opsetImport.map((o) => clone(OperatorSetIdProtoSchema, o)),
      producerName: 'dnnpart',
      producerVersion: '0.1.0',
      domain: proto.domain,
      modelVersion: proto.modelVersion,
      docString: `stage ${k} of ${count} of ${graph.name}`,
      graph: g,
      functions: proto.functions.map((f) => clone(FunctionProtoSchema, f)),
    });
    const file = `stage-${k}.onnx`;
    let encoded: Uint8Array | undefined;
    stages.push({ index: k, file, inputs, outputs, nodes: nodes.map((n) => n.name), proto: m, get bytes() { return (encoded ??= encodeModel(m)); } });
  }
  return {
    stages,
    manifest: { stages: stages.map((s) => ({ file: s.file, inputs: s.inputs, outputs: s.outputs, nodes: s.nodes })) },
  };
}

/**
 * onnxruntime-node holds no bfloat16, float8 or 4-bit tensor (it can neither feed nor hand back one),
 * so such a tensor crosses between stages as its `edgeDtype`, which holds every value exactly: the
 * stage that makes it casts it (its node writes `<name>/<type>`, `x/bfloat16` say), the stage that
 * reads it casts it back. Renames in `stageNodes` (the stage's cloned nodes); returns the Casts to put
 * before and after them, the value_info of the renamed tensors, and the stage edge's type of each
 * tensor. A tensor that a subgraph of the stage reads by its name keeps its type (onnxruntime then
 * names it when it refuses).
 */
function carryEdgeTypes(
  stageNodes: NodeProto[],
  nodes: readonly GraphNode[],
  inputs: readonly string[],
  made: readonly string[],
  t: (name: string) => GraphTensor,
): { before: NodeProto[]; after: NodeProto[]; inner: ValueInfoProto[]; edge: (x: GraphTensor) => GraphTensor } {
  const implicit = new Set(nodes.flatMap((n, i) => reads(n).filter((x) => !stageNodes[i]!.input.includes(x))));
  const carried = (x: string) => EDGE_DTYPE[t(x).dtype] !== undefined && !implicit.has(x);
  const inCarried = inputs.filter(carried);
  const outCarried = made.filter(carried);
  const crossing = new Set([...inCarried, ...outCarried]);
  if (crossing.size === 0) return { before: [], after: [], inner: [], edge: (x) => x };
  const inside = (x: string) => (crossing.has(x) ? `${x}/${t(x).dtype}` : x);
  for (const n of stageNodes) {
    n.input = n.input.map(inside);
    n.output = n.output.map(inside);
  }
  const cast = (from: string, to: string, type: number) => create(NodeProtoSchema, {
    opType: 'Cast', name: `dnnpart_cast:${to}`, input: [from], output: [to], attribute: [{ name: 'to', type: 2, i: BigInt(type) }],
  });
  return {
    before: inCarried.map((x) => cast(x, inside(x), onnxElementType(t(x).dtype))),
    after: outCarried.map((x) => cast(inside(x), x, onnxElementType(edgeDtype(t(x).dtype)))),
    inner: [...crossing].map((x) => valueInfo({ ...t(x), name: inside(x) })),
    edge: (x) => (crossing.has(x.name) ? { ...x, dtype: edgeDtype(x.dtype) } : x),
  };
}

/**
 * Writes `stage-<k>.onnx` files and `manifest.json` into `outDir` (created if missing); a stage whose
 * weights pass `externalAbove` bytes (default externalDataAbove()) keeps them in `stage-<k>.onnx.data`
 * beside it (writeModelFile).
 */
export function writeSplit(result: SplitResult, outDir: string, externalAbove?: number): void {
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new GraphError('GRAPH_WRITE_FAILED', `cannot write the split to ${outDir}: ${(e as Error).message}`, { cause: e });
  }
  for (const s of result.stages) writeModelFile(s.proto, join(outDir, s.file), externalAbove);
  try {
    writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(result.manifest, null, 2)}\n`);
  } catch (e) {
    throw new GraphError('GRAPH_WRITE_FAILED', `cannot write the split to ${outDir}: ${(e as Error).message}`, { cause: e });
  }
}
