// Loading a model: the file edge (bytes, external data files, sha256) around the pure decoder
// and analyser.
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, TensorProto_DataLocation, type ModelProto, type TensorProto, type ValueInfoProto } from 'onnx-buf';
import { zeroInputsAdvice } from './sample-input.js';
import { GraphError, runtimeMessage } from './errors.js';
import { byteSize, checkedDims, dtypeOf, numel, tensorValueInfo, valueInfoType } from './_proto.js';
import { analyseModel, uniqueNodeNames, validateModel, type ShapeMismatch } from './_build.js';
import { inputsToFeed, measureShapes } from './_ort.js';
import { replaceZipMapOutputs, type ReplacedOutput } from './_pass-zipmap.js';
import { groupSequences, OPTIONAL_OPS, SEQUENCE_OPS, typeBlockOutputs } from './_sequence-blocks.js';
import { simplifyProto, type SimplifyReport } from './simplify.js';
import type { DType, Graph, InputShapes } from './types.js';

/** A loaded model: the analysed graph, the decoded proto (external data inlined), the file's hash. */
export interface LoadedModel {
  readonly graph: Graph;
  readonly proto: ModelProto;
  /** Hex sha256 of the model file's bytes (external data files not included). */
  readonly sha256: string;
  readonly path?: string;
  /** What the load-time passes changed (Constant nodes, folded shape arithmetic, dead nodes). */
  readonly simplified: SimplifyReport;
  /** Tensors the file declares with another shape than onnxruntime computes (the computed one is used). */
  readonly shapeMismatches: readonly ShapeMismatch[];
  /**
   * Tensors that came out empty when onnxruntime ran the model on the sample input to measure their
   * shapes: their size depends on the data (NonMaxSuppression's selection, NonZero), and the graph
   * carries them as 0 bytes. One entry per such tensor whose producer reads no empty tensor.
   */
  readonly emptyTensors: readonly EmptyTensor[];
  /** Graph outputs no onnxruntime-node run can hand back (skl2onnx's ZipMap), each given as the tensor it was made from. */
  readonly replacedOutputs: readonly ReplacedOutput[];
}

/** A tensor whose measured shape is empty (LoadedModel.emptyTensors). */
export interface EmptyTensor {
  readonly tensor: string;
  /** The node that makes it, and its op. */
  readonly node: string;
  readonly op: string;
  readonly shape: readonly number[];
  /** Tensors computed from it that are empty too (not listed on their own). */
  readonly dependents: number;
  /** The warning in one line. */
  readonly message: string;
}

/** The empty tensors among those whose shapes onnxruntime measured, each with the empty tensors computed from it. */
function emptyTensors(graph: Graph, measured: ReadonlySet<string>): EmptyTensor[] {
  const empty = (name: string): boolean => {
    const t = graph.tensors.get(name);
    return t !== undefined && !t.isInitializer && !t.isGraphInput && t.producer !== null && numel(t.shape) === 0;
  };
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const found: EmptyTensor[] = [];
  for (const node of graph.nodes) {
    if (node.inputs.some((i) => i !== '' && empty(i))) continue;
    for (const name of node.outputs) {
      if (!measured.has(name) || !empty(name)) continue;
      // Every empty tensor downstream of this one.
      const seen = new Set<string>();
      const todo = [name];
      while (todo.length > 0) {
        const t = graph.tensors.get(todo.pop()!)!;
        for (const c of t.consumers) for (const o of byName.get(c)?.outputs ?? []) if (empty(o) && !seen.has(o)) { seen.add(o); todo.push(o); }
      }
      const shape = graph.tensors.get(name)!.shape;
      found.push({
        tensor: name, node: node.name, op: node.op, shape, dependents: seen.size,
        message: `tensor ${name} (made by node ${node.name}, ${node.op}) came out empty ([${shape.join(',')}]) when onnxruntime ran the model on its sample input (seeded, as profiled) to measure its shape${seen.size > 0 ? `, and so did ${seen.size} tensor(s) computed from it` : ''}: its size depends on the data, and plans count it as 0 bytes where it crosses between boards`,
      });
    }
  }
  return found;
}

/** Options of `loadModel`. */
export interface LoadOptions {
  /** Shapes for dynamic input dimensions (`--input`). */
  readonly inputShapes?: InputShapes;
  /** Model name; defaults to the graph name, else (none, or an exporter's fixed default) the file's base name. */
  readonly name?: string;
  /**
   * Run the graph passes (default true): Constant nodes become initializers, shape arithmetic is
   * folded for the fixed input shapes, dead nodes go. `proto` is then the simplified model.
   */
  readonly simplify?: boolean;
  /**
   * Iterations to cost for Loop nodes whose trip count is computed at run time, by node name
   * (`--loop-trips <node>=N`); without one such a Loop costs one iteration (`LoopTrips.trips` says
   * `assumed`). A Loop with a constant trip count uses it; naming it here with another count, or
   * naming a node that is no Loop, is `GRAPH_LOOP_TRIPS`.
   */
  readonly loopTrips?: Readonly<Record<string, number>>;
}

// First bytes a serialized ModelProto can start with (the tag of one of its fields).
const MODEL_FIRST_TAGS = new Set([0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72, 0xa2, 0xca, 0xd2]);

/** Decodes and structurally validates model bytes; `label` names the source in errors. */
export function decodeModel(bytes: Uint8Array, label = 'model'): ModelProto {
  if (bytes.length === 0) throw new GraphError('GRAPH_NOT_ONNX', `${label} is empty, not an ONNX model`);
  if (!MODEL_FIRST_TAGS.has(bytes[0]!)) throw new GraphError('GRAPH_NOT_ONNX', `${label} is not an ONNX model (does not start like a ModelProto)`);
  let proto: ModelProto;
  try {
    proto = fromBinary(ModelProtoSchema, bytes, { readUnknownFields: false });
  } catch (e) {
    throw new GraphError('GRAPH_CORRUPT', `${label} is truncated or corrupt: ${(e as Error).message}`, { cause: e });
  }
  try {
    validateModel(proto, label);
  } catch (e) {
    // Absurdly nested subgraphs in a hostile file exhaust the stack; that is a corrupt file too.
    if (e instanceof RangeError) throw new GraphError('GRAPH_CORRUPT', `${label} is corrupt: subgraphs nested too deeply`, { cause: e });
    throw e;
  }
  return proto;
}

/** Reads every EXTERNAL initializer's bytes from files beside the model into raw_data. */
function inlineExternalData(proto: ModelProto, baseDir: string | undefined, label: string): void {
  const external = proto.graph!.initializer.filter((t) => t.dataLocation === TensorProto_DataLocation.EXTERNAL);
  if (external.length === 0) return;
  if (baseDir === undefined) {
    throw new GraphError('GRAPH_EXTERNAL_DATA', `${label} keeps initializer ${external[0]!.name} in an external file; load it from a file path, not bytes`);
  }
  const fds = new Map<string, { fd: number; size: number }>();
  try {
    for (const t of external) readExternal(t, baseDir, fds, label);
  } finally {
    for (const { fd } of fds.values()) closeSync(fd);
  }
}

function readExternal(t: TensorProto, baseDir: string, fds: Map<string, { fd: number; size: number }>, label: string): void {
  const kv = new Map(t.externalData.map((e) => [e.key, e.value]));
  const location = kv.get('location');
  const fail = (why: string): never => {
    throw new GraphError('GRAPH_EXTERNAL_DATA', `${label}: external data of initializer ${t.name}: ${why}`);
  };
  if (!location) return fail('no location');
  if (isAbsolute(location) || normalize(location).split(/[\\/]/).includes('..')) fail(`location ${location} must be a path inside the model's directory`);
  const file = join(baseDir, location);
  let h = fds.get(file);
  if (!h) {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return fail(`file ${file} not found`);
    }
    h = { fd, size: fstatSync(fd).size };
    fds.set(file, h);
  }
  const dtype = dtypeOf(t.dataType, `initializer ${t.name}`);
  const need = byteSize(dtype, numel(checkedDims(t.dims, `initializer ${t.name}`)));
  const offset = Number(kv.get('offset') ?? '0');
  const length = kv.has('length') ? Number(kv.get('length')) : need;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length)) fail('bad offset or length');
  if (length !== need) fail(`length ${length} but dims need ${need} bytes`);
  if (offset + length > h.size) fail(`${file} has ${h.size} bytes, the tensor needs bytes ${offset}..${offset + length}`);
  const buf = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(h.fd, buf, done, length - done, offset + done);
    if (n <= 0) fail(`short read from ${file}`);
    done += n;
  }
  t.rawData = buf;
  t.externalData = [];
  t.dataLocation = TensorProto_DataLocation.DEFAULT;
}

// Graph names exporters write whatever the model is (tf2onnx, torch.onnx by version, spox,
// paddle2onnx, Optimum's merged decoders): as a model's name they would label every report and
// stage file of every model from that tool the same, so the file's name is used instead.
const EXPORTER_GRAPH_NAMES: ReadonlySet<string> = new Set(['tf2onnx', 'torch-jit-export', 'torch_jit', 'main_graph', 'spox_graph', 'Model from PaddlePaddle.', 'merged']);

/** Loads an ONNX model from a file path or bytes and analyses it (shapes for every tensor). */
export async function loadModel(source: string | Uint8Array, options: LoadOptions = {}): Promise<LoadedModel> {
  let bytes: Uint8Array;
  let path: string | undefined;
  if (typeof source === 'string') {
    path = resolve(source);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      throw new GraphError('GRAPH_FILE_NOT_FOUND', `model file ${source} not found`);
    }
    if (!isFile) throw new GraphError('GRAPH_NOT_ONNX', `${source} is not a file`);
    bytes = readFileSync(path);
  } else bytes = source;
  const label = path ? source as string : 'model bytes';
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const proto = decodeModel(bytes, label);
  inlineExternalData(proto, path ? dirname(path) : undefined, label);
  const given = proto.graph!.name;
  const name = options.name ?? (given && !EXPORTER_GRAPH_NAMES.has(given) ? given : path ? basename(path).replace(/\.onnx$/i, '') : given || 'model');
  // The proto's node names become the graph's unique names, so passes, stage files and the graph agree.
  const unique = uniqueNodeNames(proto.graph!.node);
  proto.graph!.node.forEach((n, i) => { n.name = unique[i]!; });
  // The nodes each ONNX sequence or optional links become one block (layer), before anything reads shapes.
  const fileNodes = proto.graph!.node.length;
  const replacedOutputs = replaceZipMapOutputs(proto);
  const blocked = groupSequences(proto, label);
  // Shapes onnxruntime measured for tensors inference cannot tell; names survive the passes.
  const extra = new Map<string, { dtype: DType; shape: number[] }>();
  const loopTrips = tripCounts(options.loopTrips);
  const analyse = async (p: ModelProto) => {
    let r = analyseModel(p, { inputShapes: options.inputShapes, name, label, extra, loopTrips });
    if (r.missing) {
      refuseSequences(p, r.missing, label);
      let measured: Awaited<ReturnType<typeof measureShapes>>;
      try {
        measured = await measureShapes(p, r.feeds, r.missing, label);
      } catch (e) {
        // A node this package's rule refused, and onnxruntime cannot run the model either: the
        // rule's message names the node, onnxruntime's says the file (or the input shapes given) is at fault.
        if (!r.refused || !(e instanceof GraphError)) throw e;
        throw new GraphError(r.refused.code, `${r.refused.message}; onnxruntime fails on it too: ${e.cause ? runtimeMessage(e.cause, 300) : e.message}`, { cause: e });
      }
      for (const [k, v] of measured) extra.set(k, v);
      r = analyseModel(p, { inputShapes: options.inputShapes, name, label, extra, loopTrips });
      if (r.missing) {
        const advice = zeroInputsAdvice(inputsToFeed(r.feeds));
        throw new GraphError('GRAPH_SHAPE_INFERENCE', `${label}: no shape for tensor ${r.missing[0]}, even from an onnxruntime run; ${advice || 'give the input shapes with --input'}`);
      }
    }
    return r;
  };
  const passes = options.simplify === false ? unsimplified(proto) : await simplifyProto(proto, label, analyse);
  // Nodes taken before the passes (into sequence blocks, or ZipMaps left out) are no longer the file's layers either.
  const taken = [...replacedOutputs.map((x) => x.node), ...blocked.nodes];
  const simplified: SimplifyReport = taken.length === 0 ? passes
    : { ...passes, nodesBefore: fileNodes, sequenceBlocks: blocked.blocks.length, removedNodes: [...taken, ...passes.removedNodes] };
  const r = await analyse(proto);
  if (blocked.blocks.length > 0) typeBlockOutputs(proto, r.graph, blocked.blocks);
  alignDeclarations(proto, r.graph, label);
  checkLoopTrips(r.graph, loopTrips, label);
  const model = { graph: r.graph, proto, sha256, simplified, shapeMismatches: r.mismatches, emptyTensors: emptyTensors(r.graph, new Set(extra.keys())), replacedOutputs };
  return path ? { ...model, path } : model;
}

/**
 * The model as loaded says what it computes: a graph output the file declares with another type,
 * rank or fixed dim than the analysis found (exporters write such: ddddocr's recognizer declares
 * [1, seqlen] for a [32, 1, 8210] output) is declared with the computed type, and such value_info
 * goes. The analysis used onnxruntime's shapes where the two disagreed (`shapeMismatches`).
 */
function alignDeclarations(proto: ModelProto, graph: Graph, label: string): void {
  const g = proto.graph!;
  const contradicts = (vi: ValueInfoProto): boolean => {
    const t = valueInfoType(vi, `${label}: value_info ${vi.name}`);
    const computed = graph.tensors.get(vi.name);
    if (!t || !computed) return false;
    if (t.dtype !== computed.dtype) return true;
    return t.dims !== null && (t.dims.length !== computed.shape.length || t.dims.some((d, i) => d !== null && d !== computed.shape[i]));
  };
  g.valueInfo = g.valueInfo.filter((vi) => !contradicts(vi));
  g.output = g.output.map((o) => (contradicts(o) ? tensorValueInfo(graph.tensors.get(o.name)!) : o));
}

/**
 * A sequence (or an optional) between the graph's nodes cannot cross a cut (onnxruntime-node hands back tensors
 * only) and has no tensor shape: say which node makes one, instead of the shape run's failure.
 */
function refuseSequences(p: ModelProto, missing: readonly string[], label: string): void {
  const wanted = new Set(missing);
  const n = p.graph!.node.find((x) => (SEQUENCE_OPS.has(x.opType) || OPTIONAL_OPS.has(x.opType)) && (x.domain === '' || x.domain === 'ai.onnx') && x.output.some((o) => wanted.has(o)));
  if (!n) return;
  throw new GraphError(
    'GRAPH_UNSUPPORTED_DTYPE',
    OPTIONAL_OPS.has(n.opType)
      ? `${label}: node ${n.name} (${n.opType}) makes an ONNX optional, which dnnpart cannot partition; export the model with the tensor itself (torch: no Optional[Tensor] in its outputs)`
      : `${label}: node ${n.name} (${n.opType}) makes an ONNX sequence, which dnnpart cannot partition; export the model without sequence ops (e.g. torch.split or torch.unbind with static sizes exports as Split)`,
  );
}

/** The `loopTrips` option as a map, each count checked. */
function tripCounts(given: Readonly<Record<string, number>> | undefined): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const [node, n] of Object.entries(given ?? {})) {
    if (!Number.isSafeInteger(n) || n < 0) throw new GraphError('GRAPH_LOOP_TRIPS', `--loop-trips ${node}=${n}: the iterations must be a whole number >= 0`);
    out.set(node, n);
  }
  return out;
}

/** Every node named in `loopTrips` must be a Loop of the model (top level or inside a body). */
function checkLoopTrips(graph: Graph, trips: ReadonlyMap<string, number>, label: string): void {
  if (trips.size === 0) return;
  const loops = graph.nodes.flatMap((n) => n.subgraphCost?.loops ?? []).map((l) => l.node);
  for (const node of trips.keys()) {
    if (loops.includes(node)) continue;
    const known = loops.length ? `its Loop nodes are ${[...new Set(loops)].join(', ')}` : 'it has no Loop node';
    throw new GraphError('GRAPH_LOOP_TRIPS', `--loop-trips ${node}=${trips.get(node)}: ${label} has no Loop node ${node}; ${known}`);
  }
}

/** The report of a model loaded without passes. */
function unsimplified(proto: ModelProto): SimplifyReport {
  const n = proto.graph!.node.length;
  return { nodesBefore: n, nodesAfter: n, constants: 0, folded: 0, inlined: 0, functions: 0, identities: 0, dead: 0, dequantizeColumns: 0, sequenceBlocks: 0, passes: [], removedNodes: [] };
}
