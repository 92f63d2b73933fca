// From a decoded ModelProto to the plain Graph: structural validation, unique node names, a
// topological order, and a static shape for every tensor. Pure; the ORT fallback is passed in
// as already-measured shapes (`extra`) by the loader.
import type { GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from 'onnx-buf';
import { GraphError } from './errors.js';
import { MAX_ELEMENTS, byteSize, decodeAttribute, decodeTensor, numel, valueInfoType, type MaybeDim } from './_proto.js';
import { inferNode, tensorInfo, type Info } from './_infer.js';
import { subgraphNode, type TripCounts } from './_subgraph.js';
import { sizedByData } from './data-sized.js';
import { tokenRows, type IdReader } from './token-inputs.js';
import type { AttributeValue, DType, Graph, GraphNode, GraphTensor, InputShapes, InputSpec, Shape, SubgraphCost } from './types.js';

const OP_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/** The default-domain opset of a model (0 if none). */
export function defaultOpset(proto: ModelProto): number {
  const o = proto.opsetImport.find((x) => x.domain === '' || x.domain === 'ai.onnx');
  return o ? Number(o.version) : 0;
}

/** Names a node's subgraphs read from enclosing scopes (If/Loop/Scan bodies), in first-use order. */
export function subgraphRefs(n: NodeProto): string[] {
  const refs = new Set<string>();
  for (const a of n.attribute) {
    for (const g of a.g ? [a.g, ...a.graphs] : a.graphs) for (const r of graphOuterRefs(g)) refs.add(r);
  }
  return [...refs];
}

function graphOuterRefs(g: GraphProto): Set<string> {
  const defined = new Set<string>([...g.input.map((i) => i.name), ...g.initializer.map((t) => t.name)]);
  for (const n of g.node) for (const o of n.output) defined.add(o);
  const out = new Set<string>();
  for (const n of g.node) {
    for (const i of n.input) if (i !== '' && !defined.has(i)) out.add(i);
    for (const r of subgraphRefs(n)) if (!defined.has(r)) out.add(r);
  }
  return out;
}

/** Everything a node reads: its inputs, then its subgraphs' outer references. */
export function nodeReads(n: NodeProto): string[] {
  const sub = n.attribute.some((a) => a.g || a.graphs.length) ? subgraphRefs(n) : [];
  return sub.length ? [...n.input, ...sub.filter((r) => !n.input.includes(r))] : n.input;
}

/**
 * Rejects protobufs that decoded but are no usable model: no graph, no nodes, no inputs, tensors
 * read before anything produces them, duplicate producers, absurd dims or opsets.
 */
export function validateModel(proto: ModelProto, label: string): void {
  const g = proto.graph;
  if (!g) throw new GraphError('GRAPH_NOT_ONNX', `${label} is not an ONNX model (no graph)`);
  const corrupt = (why: string): never => {
    throw new GraphError('GRAPH_CORRUPT', `${label} is corrupt: ${why}`);
  };
  if (proto.irVersion < 1n || proto.irVersion > 64n) corrupt(`ir_version ${proto.irVersion}`);
  const opset = defaultOpset(proto);
  if (opset < 1 || opset > 1000) corrupt(opset === 0 ? 'no opset_import for the default ONNX domain' : `default opset ${opset}`);
  if (g.node.length === 0) corrupt('the graph has no nodes');
  if (g.output.length === 0) corrupt('the graph has no outputs');
  const initNames = new Set<string>();
  for (const t of g.initializer) {
    if (!t.name) corrupt('an initializer has no name');
    if (initNames.has(t.name)) corrupt(`initializer ${t.name} appears twice`);
    initNames.add(t.name);
  }
  const defined = new Set<string>(initNames);
  let realInputs = 0;
  for (const vi of g.input) {
    if (!vi.name) corrupt('a graph input has no name');
    if (!initNames.has(vi.name)) {
      if (defined.has(vi.name)) corrupt(`graph input ${vi.name} appears twice`);
      realInputs++;
    }
    defined.add(vi.name);
  }
  // Valid ONNX, but every value is a constant: nothing runs per frame, so there is nothing to partition.
  if (realInputs === 0) throw new GraphError('GRAPH_CORRUPT', `${label} has no graph inputs (every value is a constant): there is nothing to run per frame or to partition`);
  for (const n of g.node) {
    if (!OP_NAME.test(n.opType)) corrupt(`a node has op type ${JSON.stringify(n.opType.slice(0, 40))}`);
    if (n.output.every((o) => o === '')) corrupt(`node ${n.name || n.opType} has no outputs`);
    for (const o of n.output) {
      if (o === '') continue;
      if (defined.has(o)) corrupt(`tensor ${o} is produced twice`);
      defined.add(o);
    }
  }
  for (const n of g.node) {
    for (const i of nodeReads(n)) if (i !== '' && !defined.has(i)) corrupt(`node ${n.name || n.opType} reads tensor ${i}, which nothing produces`);
  }
  for (const o of g.output) if (!defined.has(o.name)) corrupt(`graph output ${o.name} is never produced`);
}

/** Unique node names in file order: the file's name, else `<op>_<index>`; repeats get `_<k>`. */
export function uniqueNodeNames(nodes: readonly NodeProto[]): string[] {
  const taken = new Set<string>();
  const out = new Array<string>(nodes.length);
  const explicitFirst = new Set<number>();
  nodes.forEach((n, i) => {
    if (n.name !== '' && !taken.has(n.name)) {
      taken.add(n.name);
      out[i] = n.name;
      explicitFirst.add(i);
    }
  });
  nodes.forEach((n, i) => {
    if (explicitFirst.has(i)) return;
    const base = n.name !== '' ? n.name : `${n.opType}_${i}`;
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    out[i] = name;
  });
  return out;
}

/** A topological order of node indices: the file order when valid, else Kahn's algorithm preferring file order. */
export function topologicalOrder(nodes: readonly NodeProto[], names: readonly string[], graphDefined: ReadonlySet<string>): number[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output.forEach((o) => o !== '' && producer.set(o, i)));
  let valid = true;
  const seen = new Set<string>(graphDefined);
  for (const n of nodes) {
    if (nodeReads(n).some((x) => x !== '' && !seen.has(x))) {
      valid = false;
      break;
    }
    n.output.forEach((o) => seen.add(o));
  }
  if (valid) return nodes.map((_, i) => i);
  const indeg = new Array<number>(nodes.length).fill(0);
  const succ: number[][] = nodes.map(() => []);
  nodes.forEach((n, i) => {
    const preds = new Set<number>();
    for (const x of nodeReads(n)) {
      const p = x === '' || graphDefined.has(x) ? undefined : producer.get(x);
      if (p !== undefined && !preds.has(p)) {
        preds.add(p);
        succ[p]!.push(i);
        indeg[i]!++;
      }
    }
  });
  // A binary heap on file index keeps the order deterministic and close to the file's.
  const heap: number[] = [];
  const push = (v: number) => {
    heap.push(v);
    for (let i = heap.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (heap[p]! <= heap[i]!) break;
      [heap[p], heap[i]] = [heap[i]!, heap[p]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < heap.length && heap[l]! < heap[m]!) m = l;
        if (r < heap.length && heap[r]! < heap[m]!) m = r;
        if (m === i) break;
        [heap[m], heap[i]] = [heap[i]!, heap[m]!];
        i = m;
      }
    }
    return top;
  };
  indeg.forEach((d, i) => d === 0 && push(i));
  const order: number[] = [];
  while (heap.length > 0) {
    const i = pop();
    order.push(i);
    for (const s of succ[i]!) if (--indeg[s]! === 0) push(s);
  }
  if (order.length !== nodes.length) {
    const stuck = indeg.findIndex((d) => d > 0);
    throw new GraphError('GRAPH_CYCLE', `the graph has a cycle through node ${names[stuck]}; ONNX graphs must be acyclic`);
  }
  return order;
}

/** Resolves the user's InputShapes against the model's inputs. */
function userShapeLookup(inputs: readonly string[], shapes: InputShapes | undefined, label: string): (name: string) => InputSpec | undefined {
  if (shapes === undefined) return () => undefined;
  if (Array.isArray(shapes)) {
    if (inputs.length !== 1) {
      throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `${label} has ${inputs.length} inputs (${inputs.join(', ')}); give --input <name>=<shape> for each`);
    }
    return () => ({ shape: shapes as Shape });
  }
  const rec = shapes as Readonly<Record<string, Shape | InputSpec>>;
  for (const k of Object.keys(rec)) {
    if (!inputs.includes(k)) throw new GraphError('GRAPH_UNKNOWN_INPUT', `--input ${k}: ${label} has no input ${k} (inputs: ${inputs.join(', ')})`);
  }
  return (name) => {
    const v = rec[name];
    return v === undefined ? undefined : Array.isArray(v) ? { shape: v as Shape } : (v as InputSpec);
  };
}

/** How an --input value for this input is written: `name=` for a scalar, `name=AxB` otherwise. */
function specText(name: string, shape: readonly number[]): string {
  return `${name}=${shape.join('x')}`;
}

/** Static shape of one graph input from its declared type and the user's shape. */
function resolveInput(vi: ValueInfoProto, user: Shape | undefined, label: string): { dtype: DType; shape: number[]; dynamic: boolean; open?: OpenInput } {
  const t = valueInfoType(vi, `${label}: graph input ${vi.name}`);
  if (!t) {
    const kind = vi.type?.value.case;
    // A list of tensors (sequence), a map or an optional: onnxruntime-node feeds tensors only.
    if (kind === 'sequenceType' || kind === 'mapType' || kind === 'optionalType') {
      const what = kind === 'sequenceType' ? 'an ONNX sequence (a list of tensors)' : kind === 'mapType' ? 'an ONNX map' : 'an ONNX optional';
      throw new GraphError('GRAPH_UNSUPPORTED_DTYPE', `${label}: graph input ${vi.name} is ${what}; dnnpart feeds models tensors only: export the model with tensor inputs`);
    }
    throw new GraphError('GRAPH_CORRUPT', `${label}: graph input ${vi.name} has no tensor type`);
  }
  const dims = t.dims?.map((d) => (d === 0 ? null : d)) ?? null;
  const dynamic = dims === null || dims.some((d) => d === null);
  if (user) {
    if (dims && dims.length !== user.length) {
      if (dims.length === 0) {
        throw new GraphError('GRAPH_INPUT_SHAPE_MISMATCH', `--input ${specText(vi.name, user)}: input ${vi.name} is a scalar (rank 0); give --input ${vi.name}= for its shape, or --input ${vi.name}=:<value> (e.g. ${vi.name}=:${user[0] ?? 1}) to fix its value`);
      }
      throw new GraphError('GRAPH_INPUT_SHAPE_MISMATCH', `--input ${specText(vi.name, user)}: the model's input has rank ${dims.length}, not ${user.length}`);
    }
    dims?.forEach((d, i) => {
      if (d !== null && d !== user[i]) {
        throw new GraphError('GRAPH_INPUT_SHAPE_MISMATCH', `--input ${specText(vi.name, user)}: dim ${i} of input ${vi.name} is fixed at ${d} in the model`);
      }
    });
    if (numel(user) > MAX_ELEMENTS) throw new GraphError('GRAPH_BAD_SHAPE_SPEC', `--input ${specText(vi.name, user)} has more elements than any input can`);
    return { dtype: t.dtype, shape: user.slice(), dynamic };
  }
  if (!dims) throw new GraphError('GRAPH_DYNAMIC_DIM', `${label}: input ${vi.name} has no declared shape; pass --input ${vi.name}=<shape> (--input ${vi.name}= for a scalar)`);
  // A dynamic batch dimension alone is the common export; batch 1 is what inference on a board means.
  const open = dims.flatMap((d, i) => (d === null && i > 0 ? [i] : []));
  if (open.length > 0) {
    // Said by the caller, with every other input that needs a shape.
    const example = exampleShape(dims, t.dtype, t.params);
    // A waveform's length: other common chunk sizes to try when a second does not load (Silero VAD takes 512).
    const wave = example.flatMap((d, i) => (dims[i] === null && d === WAVE_SAMPLES ? [i] : []));
    const alternates = wave.length === 0 ? [] : WAVE_CHUNKS.map((n) => example.map((d, i) => (wave.includes(i) ? n : d)));
    const said = { input: vi.name, dims: open.map((i) => `${i}${t.params[i] ? ` (${t.params[i]})` : ''}`), example, alternates };
    return { dtype: t.dtype, shape: [], dynamic, open: said };
  }
  const shape = dims.map((d) => d ?? 1);
  if (numel(shape) > MAX_ELEMENTS) throw new GraphError('GRAPH_CORRUPT', `${label}: input ${vi.name} declares shape [${shape.join(',')}], more elements than any input can have`);
  return { dtype: t.dtype, shape, dynamic };
}

/** An input whose dims past the batch are dynamic and were not given: which, and a shape to suggest. */
interface OpenInput {
  readonly input: string;
  readonly dims: readonly string[];
  readonly example: readonly number[];
  /** Other shapes to suggest, in order, when the model does not load at `example`. */
  readonly alternates: readonly (readonly number[])[];
}

/**
 * The open inputs with examples the model loads at: the first examples as suggested when they load
 * (or when no alternative does), else the first alternative that does. Shape inference only, no run.
 */
function loadableExamples(proto: ModelProto, opts: AnalyseOptions, inputs: readonly string[], given: (name: string) => InputSpec | undefined, open: readonly OpenInput[]): readonly OpenInput[] {
  const tries = Math.max(0, ...open.map((o) => o.alternates.length));
  if (tries === 0) return open;
  const loads = (pick: (o: OpenInput) => readonly number[]): boolean => {
    const shapes: Record<string, Shape | InputSpec> = {};
    for (const name of inputs) {
      const spec = given(name);
      if (spec) shapes[name] = spec;
    }
    for (const o of open) shapes[o.input] = pick(o).slice();
    try {
      // A node the rules refuse at these shapes is left to a run, which is not made here: no load.
      return analyseModel(proto, { ...opts, inputShapes: shapes }).refused === undefined;
    } catch {
      return false;
    }
  };
  if (loads((o) => o.example)) return open;
  for (let k = 0; k < tries; k++) {
    const pick = (o: OpenInput) => o.alternates[k] ?? o.example;
    if (loads(pick)) return open.map((o) => ({ ...o, example: pick(o) }));
  }
  return open;
}

/** One line for every input that needs a shape: the dims, and an --input for each that would load. */
function openInputsMessage(label: string, open: readonly OpenInput[]): string {
  const flags = open.map((o) => `--input ${o.input}=${o.example.join('x')}`).join(' ');
  if (open.length === 1) {
    const [o] = open as [OpenInput];
    const which = o.dims.length === 1 ? `dim ${o.dims[0]} of input ${o.input} is` : `dims ${o.dims.slice(0, -1).join(', ')} and ${o.dims.at(-1)} of input ${o.input} are`;
    return `${label}: ${which} dynamic; pass --input ${o.input}=<shape> with the size${o.dims.length > 1 ? 's' : ''} your application feeds, e.g. ${flags}`;
  }
  const each = open.map((o) => `${o.input} dim${o.dims.length > 1 ? 's' : ''} ${o.dims.join(', ')}`).join('; ');
  return `${label}: ${open.length} inputs have dynamic dims (${each}); pass --input <name>=<shape> for each with the sizes your application feeds (or model.input in a system file), e.g. ${flags}`;
}

/** A dim name that says it counts audio samples. */
const AUDIO_DIM = /sample|audio|wave|speech|signal/i;
/** A waveform input's suggested length: a second at 16 kHz; then other chunk sizes speech models take. */
const WAVE_SAMPLES = 16000;
const WAVE_CHUNKS = [512, 1024, 480, 1600, 8000, 4000];

/**
 * A shape to show for an input with dynamic dims: batch 1; an image's dynamic side (rank 4, dims 2
 * and 3) as its fixed other side when that is at least 16 (a text line 48 high: 48x48), else 224;
 * a waveform's samples (a float input of rank 2, or a dim named for samples or audio) 16000; any
 * other dynamic dim 1.
 */
function exampleShape(dims: readonly (number | null)[], dtype: DType, params: readonly (string | undefined)[]): number[] {
  const float = dtype === 'float32' || dtype === 'float16' || dtype === 'float64';
  return dims.map((d, i) => {
    if (d !== null) return d;
    // A waveform ([batch, samples] of floats, or a dim named so): a second at 16 kHz. One sample
    // is no input for a speech model's first convolution (Moonshine's: a window of 127).
    if (i > 0 && ((float && dims.length === 2) || AUDIO_DIM.test(params[i] ?? ''))) return WAVE_SAMPLES;
    if (dims.length === 4 && i >= 2) {
      const other = dims[i === 2 ? 3 : 2];
      return other !== null && other !== undefined && other >= 16 ? other : 224;
    }
    return 1;
  });
}

// The load-time passes analyse a model several times; its initializers are decoded once.
const INIT_INFO = new WeakMap<TensorProto, Info>();

/** Info of an initializer (decoded and checked once per TensorProto object). */
export function initializerInfo(t: TensorProto, what: string): Info {
  let i = INIT_INFO.get(t);
  if (!i) {
    i = tensorInfo(decodeTensor(t, what, true));
    INIT_INFO.set(t, i);
  }
  return i;
}

/**
 * An initializer the fold pass computed, with its values: the next round's analysis reads them from
 * here (tensorInfo reads values only from small initializers), so a chain of constant work larger than
 * that folds in one round after another.
 */
export function computedInitializer(t: TensorProto, info: Info): void {
  INIT_INFO.set(t, info);
}

/** Options of `analyseModel`. */
export interface AnalyseOptions {
  readonly inputShapes?: InputShapes;
  readonly name: string;
  readonly label: string;
  /** Shapes measured by an ORT run for tensors inference could not determine. */
  readonly extra?: ReadonlyMap<string, { dtype: DType; shape: number[] }>;
  /** Iterations of Loop nodes whose trip count is computed at run time, by node name. */
  readonly loopTrips?: TripCounts;
}

/**
 * A tensor whose type the file declares (value_info or a graph output) other than the one
 * onnxruntime computes: any difference when the file fixes every input dim; with dynamic inputs,
 * the element type, the rank or a graph output's fixed dim. onnxruntime runs such a file (it warns
 * and merges leniently), so the computed shape is used and the declaration is reported.
 */
export interface ShapeMismatch {
  readonly tensor: string;
  /** The node that produces it. */
  readonly node: string;
  /** `dtype[dims]` as the file declares it. */
  readonly declared: string;
  /** `dtype[dims]` as onnxruntime computed it in a run: what every stage will carry. */
  readonly computed: string;
  /** False when this package's own inference agreed with the file instead (its rule for the op is wrong: onnxruntime's shape was used). */
  readonly inferenceAgreed: boolean;
  /** The warning in one line. */
  readonly message: string;
}

/** The analysed graph, or the tensors whose shapes still need an ORT run (with the input shapes to feed). */
export type AnalyseResult =
  | { readonly graph: Graph; readonly info: ReadonlyMap<string, Info>; readonly mismatches: readonly ShapeMismatch[]; readonly missing?: undefined; readonly refused?: undefined }
  | {
      readonly graph?: undefined; readonly missing: string[]; readonly feeds: ReadonlyMap<string, Feed>;
      /** The first node whose shapes this package's rule refused: its outputs are among `missing`, for onnxruntime to decide. */
      readonly refused?: GraphError;
    };

/** What the shape-measuring onnxruntime run feeds an input: the sample input's values (`sample-input.ts`), or the user's fixed value. */
export interface Feed {
  readonly dtype: DType;
  readonly shape: number[];
  readonly value?: readonly number[];
  /** A token input (`token-inputs.ts`): ids are drawn in [1, tokenRows). */
  readonly tokenRows?: number;
}

/** Each graph input's readers among the top-level nodes; a node reading it inside a subgraph reads it as `If (subgraph)`. */
function inputReaders(g: GraphProto, inputs: ReadonlySet<string>): Map<string, IdReader[]> {
  const readers = new Map<string, IdReader[]>();
  for (const n of g.node) {
    const sub = n.attribute.some((a) => a.g || a.graphs.length) ? new Set(subgraphRefs(n)) : new Set<string>();
    const axis = n.attribute.find((a) => a.name === 'axis');
    for (const x of new Set([...n.input, ...sub])) {
      if (!inputs.has(x)) continue;
      const op = sub.has(x) ? `${n.opType} (subgraph)` : n.opType;
      (readers.get(x) ?? readers.set(x, []).get(x)!).push({ op, domain: n.domain, inputs: n.input, ...(axis ? { axis: Number(axis.i) } : {}) });
    }
  }
  return readers;
}

/** Builds the Graph of a validated model. */
export function analyseModel(proto: ModelProto, opts: AnalyseOptions): AnalyseResult {
  const g = proto.graph!;
  const { label } = opts;
  const opset = defaultOpset(proto);
  const initNames = new Set(g.initializer.map((t) => t.name));
  const inputVis = g.input.filter((vi) => !initNames.has(vi.name));
  const inputNames = inputVis.map((vi) => vi.name);
  const userShape = userShapeLookup(inputNames, opts.inputShapes, label);

  const info = new Map<string, Info>();
  const feeds = new Map<string, Feed>();
  let fileStatic = true;
  const open: OpenInput[] = [];
  for (const vi of inputVis) {
    const spec = userShape(vi.name);
    const r = resolveInput(vi, spec?.shape, label);
    if (r.open) {
      open.push(r.open);
      continue;
    }
    if (r.dynamic) fileStatic = false;
    // A fixed value makes the input a known constant for shape arithmetic (If conditions included).
    const value = spec?.value ? spec.value.slice() : undefined;
    info.set(vi.name, value ? { dtype: r.dtype, shape: r.shape, value } : { dtype: r.dtype, shape: r.shape });
    feeds.set(vi.name, value ? { dtype: r.dtype, shape: r.shape, value } : { dtype: r.dtype, shape: r.shape });
  }
  if (open.length > 0) throw new GraphError('GRAPH_DYNAMIC_DIM', openInputsMessage(label, loadableExamples(proto, opts, inputNames, userShape, open)));
  for (const t of g.initializer) info.set(t.name, initializerInfo(t, `${label}: initializer ${t.name}`));
  // Token ids: drawn over their tables' rows by every run on the sample input, this one included.
  const readers = inputReaders(g, new Set(feeds.keys()));
  for (const [x, f] of feeds) {
    if (f.value) continue;
    const rows = tokenRows(x, f.dtype, readers.get(x) ?? [], (t) => (initNames.has(t) ? info.get(t)?.shape : undefined));
    if (rows !== undefined) feeds.set(x, { ...f, tokenRows: rows });
  }

  // What the file declares: the static shape when every dim is fixed, and the dims as written (dim names kept for messages).
  const declared = new Map<string, { dtype: DType; shape: number[] | null; dims: MaybeDim[] | null; text: string }>();
  for (const vi of [...g.valueInfo, ...g.output]) {
    const t = valueInfoType(vi, `${label}: value_info ${vi.name}`);
    if (!t) continue;
    const shape = t.dims && t.dims.every((d) => d !== null && d > 0) ? (t.dims as number[]) : null;
    if (shape && numel(shape) > MAX_ELEMENTS) throw new GraphError('GRAPH_CORRUPT', `${label}: value_info ${vi.name} declares shape [${shape.join(',')}], more elements than any tensor can have`);
    const text = `${t.dtype}[${(t.dims ?? []).map((d, i) => d ?? (t.params[i] || '?')).join(',')}]`;
    declared.set(vi.name, { dtype: t.dtype, shape, dims: t.dims, text });
  }
  const graphOutputs = new Set(g.output.map((o) => o.name));
  /**
   * Whether a declaration contradicts a computed type. With every input fixed in the file, any
   * difference. With dynamic inputs the user's shapes change the dims, but not the element type,
   * the rank, nor a graph output's fixed dims (onnxruntime checks those on every run).
   */
  const contradicts = (file: { dtype: DType; shape: number[] | null; dims: MaybeDim[] | null }, own: Info, tensor: string): boolean => {
    if (file.dtype !== own.dtype) return true;
    if (fileStatic) return file.shape !== null && file.shape.join() !== own.shape.join();
    if (!file.dims) return false;
    return file.dims.length !== own.shape.length || (graphOutputs.has(tensor) && file.dims.some((d, i) => d !== null && d !== own.shape[i]));
  };

  const names = uniqueNodeNames(g.node);
  const graphDefined = new Set<string>([...initNames, ...inputNames]);
  const order = topologicalOrder(g.node, names, graphDefined);

  const nodes: GraphNode[] = [];
  const missing: string[] = [];
  const mismatches: ShapeMismatch[] = [];
  let refused: GraphError | undefined;
  // Tensors whose size the data decides (a detector's selected boxes, and what is computed from
  // them): their shapes are the sample run's, one of many, so nothing read from them is a constant.
  // A Shape of one folded to its measured value would freeze the count into the model (a TopK's k
  // of 813 fails on a frame with no candidate box, where the file returns none).
  const dataSized = new Set<string>();
  const known = (x: string) => info.get(x)?.value !== undefined;
  const typeText = (i: Info) => `${i.dtype}[${i.shape.join(',')}]`;
  for (const fileIdx of order) {
    const n = g.node[fileIdx]!;
    const name = names[fileIdx]!;
    const attributes: Record<string, AttributeValue> = {};
    for (const a of n.attribute) {
      const v = decodeAttribute(a, `${label}: node ${name}`);
      if (v !== undefined) attributes[a.name] = v;
    }
    const implicit = nodeReads(n).slice(n.input.length);
    const ins = n.input.map((x) => (x === '' ? undefined : info.get(x)));
    let outs: (Info | undefined)[];
    let ruleRefused = false;
    let subgraphCost: SubgraphCost | undefined;
    if (implicit.length > 0 || n.attribute.some((a) => a.g || a.graphs.length)) {
      // If/Loop/Scan: shapes and cost from the bodies; the node stays one node.
      const r = subgraphNode(n, name, ins, (x) => info.get(x), opset, label, 0, opts.loopTrips);
      outs = r.outputs;
      subgraphCost = r.cost;
    } else {
      try {
        outs = inferNode({ name, op: n.opType, domain: n.domain, attributes, inputs: n.input, outputs: n.output }, opset, ins);
      } catch (e) {
        if (!(e instanceof GraphError)) throw e;
        // The node is inconsistent by this package's rule for its op. Either the file is (the
        // loader's onnxruntime run then fails too, and says so beside this message) or the rule is
        // wrong: onnxruntime runs the file, and its shapes are used, with a warning.
        const err = new GraphError(e.code, `${label}: ${e.message}`, { cause: e });
        refused ??= err;
        ruleRefused = true;
        outs = n.output.map(() => undefined);
        const measured = n.output.filter((o) => o !== '').map((o) => [o, opts.extra?.get(o)] as const);
        const first = measured[0];
        if (first?.[1] && measured.every(([, m]) => m)) {
          const computed = typeText(first[1]);
          mismatches.push({
            tensor: first[0], node: name, declared: declared.get(first[0])?.text ?? 'undeclared', computed, inferenceAgreed: false,
            message: `node ${name} (${n.opType}): dnnpart's shape rule for the op refused it (${e.message.replace(/^node \S+ \(\w+\): /, '')}) but onnxruntime runs it, computing ${computed} for ${first[0]}; using onnxruntime's shapes (please report it)`,
          });
        }
      }
    }
    // Shape and Size of such a tensor have a fixed size (its rank, one element) but no constant value.
    const readsSized = [...n.input, ...implicit].some((x) => dataSized.has(x));
    const sizedHere = readsSized || sizedByData({ op: n.opType, domain: n.domain, inputs: n.input }, known);
    const keepsSize = (n.opType === 'Shape' || n.opType === 'Size') && (n.domain === '' || n.domain === 'ai.onnx');
    const node: GraphNode = {
      name, op: n.opType, domain: n.domain, attributes, inputs: n.input.slice(), outputs: n.output.slice(), index: nodes.length,
      ...(implicit.length ? { implicitInputs: implicit } : {}),
      ...(subgraphCost ? { subgraphCost } : {}),
    };
    nodes.push(node);
    n.output.forEach((o, k) => {
      if (o === '') return;
      const own = outs[k];
      const file = declared.get(o);
      const measured = opts.extra?.get(o);
      if (ruleRefused) {
        // Not the file's declaration: only a run can tell whether the file or the rule is wrong.
        if (measured) info.set(o, measured);
        else missing.push(o);
      } else if (own) {
        // value_info describes the file's own input shapes; it can only contradict inference then.
        // Exporters do write wrong declarations (a graph output declared [1, seqlen] that computes
        // [32, 1, 8210]), and onnxruntime runs such files: a run decides, and the file is reported.
        if (file && contradicts(file, own, o)) {
          if (!measured) {
            missing.push(o);
            info.set(o, own);
            return;
          }
          const computed = typeText(measured);
          const agreed = computed === typeText(own);
          const who = agreed ? 'onnxruntime computes' : "onnxruntime computes (dnnpart's own rule for the op agreed with the file: please report it)";
          mismatches.push({
            tensor: o, node: name, declared: file.text, computed, inferenceAgreed: agreed,
            // The file right and the rule wrong: the run sides with the declaration.
            message: !contradicts(file, measured, o)
              ? `tensor ${o} (node ${name}): dnnpart's shape rule for the op computed ${typeText(own)}, but onnxruntime computes ${computed}, as the file declares; using ${computed} (please report it)`
              : `tensor ${o} (node ${name}) is declared ${file.text} in the file but ${who} ${computed}; using ${computed}`,
          });
          info.set(o, measured);
          return;
        }
        info.set(o, own);
      } else if (fileStatic && file?.shape) info.set(o, { dtype: file.dtype, shape: file.shape });
      else if (measured) info.set(o, measured);
      else missing.push(o);
      const got = info.get(o);
      if (readsSized && got?.value) info.set(o, { dtype: got.dtype, shape: got.shape });
      if (sizedHere && !keepsSize) dataSized.add(o);
    });
  }
  if (missing.length > 0) return refused ? { missing, feeds, refused } : { missing, feeds };

  const consumers = new Map<string, string[]>();
  for (const n of nodes) {
    for (const x of new Set([...n.inputs, ...(n.implicitInputs ?? [])])) if (x !== '') (consumers.get(x) ?? consumers.set(x, []).get(x)!).push(n.name);
  }
  const producer = new Map<string, string>();
  for (const n of nodes) for (const o of n.outputs) if (o !== '') producer.set(o, n.name);
  const outputNames = g.output.map((o) => o.name);
  const outputSet = new Set(outputNames);
  const inputSet = new Set(inputNames);
  const tensors = new Map<string, GraphTensor>();
  const add = (tname: string) => {
    const i = info.get(tname)!;
    const shape = i.shape.slice();
    tensors.set(tname, {
      name: tname, dtype: i.dtype, shape, bytes: byteSize(i.dtype, numel(shape)),
      producer: producer.get(tname) ?? null, consumers: consumers.get(tname) ?? [],
      isInitializer: initNames.has(tname), isGraphInput: inputSet.has(tname), isGraphOutput: outputSet.has(tname),
    });
  };
  inputNames.forEach(add);
  g.initializer.forEach((t) => add(t.name));
  for (const n of nodes) for (const o of n.outputs) if (o !== '') add(o);

  const inputValues: Record<string, readonly number[]> = {};
  for (const [k, f] of feeds) if (f.value) inputValues[k] = f.value;
  const tokenInputs: Record<string, number> = {};
  for (const [k, f] of feeds) if (f.tokenRows !== undefined) tokenInputs[k] = f.tokenRows;
  return {
    graph: {
      name: opts.name, opsetVersion: opset, nodes, tensors, inputs: inputNames, outputs: outputNames,
      initializers: g.initializer.map((t) => t.name),
      ...(Object.keys(inputValues).length ? { inputValues } : {}),
      ...(Object.keys(tokenInputs).length ? { tokenInputs } : {}),
    },
    info,
    mismatches,
  };
}
