// Nodes that carry subgraphs (If, Loop, Scan): output shapes and costs from their bodies. The
// node stays one node of the DAG (never cut inside); its cost is that of the body it runs: the
// larger branch of an If (the taken one when the condition is a known constant), a Loop's or a
// Scan's body times its iterations.
import type { GraphProto, NodeProto } from 'onnx-buf';
import { GraphError } from './errors.js';
import { byteSize, decodeAttribute, decodeTensor, numel, valueInfoType } from './_proto.js';
import { inferNode, tensorInfo, type Info } from './_infer.js';
import { nodeCost } from './costs.js';
import { VALUE_TIMED_OPS } from './data-sized.js';
import type { AttributeValue, Graph, GraphNode, GraphTensor, LoopTrips, SubgraphCost } from './types.js';

type Lookup = (name: string) => Info | undefined;

/** Iterations the user gave for Loop nodes whose trip count is computed at run time, by node name. */
export type TripCounts = ReadonlyMap<string, number>;

/** Trip counts from here on are a `while` loop's "no limit" (torch writes INT64_MAX), not a count. */
const MAX_STATIC_TRIPS = 2 ** 31 - 1;

interface BodyResult {
  /** Infos of the body's outputs, in order. */
  readonly outputs: (Info | undefined)[];
  readonly cost: SubgraphCost;
}

const ZERO: SubgraphCost = { macs: 0, flops: 0, unknownOps: [] };

/** The value-timed ops of two costs, as the optional field. */
function timedOps(a: SubgraphCost, b: SubgraphCost): Pick<SubgraphCost, 'valueTimedOps'> {
  const ops = [...new Set([...(a.valueTimedOps ?? []), ...(b.valueTimedOps ?? [])])].sort();
  return ops.length ? { valueTimedOps: ops } : {};
}

function addCost(a: SubgraphCost, b: SubgraphCost, times = 1): SubgraphCost {
  const loops = [...(a.loops ?? []), ...(b.loops ?? [])];
  return {
    macs: a.macs + b.macs * times, flops: a.flops + b.flops * times, unknownOps: [...new Set([...a.unknownOps, ...b.unknownOps])].sort(),
    ...(loops.length ? { loops } : {}), ...timedOps(a, b),
  };
}

function attributesOf(n: NodeProto, where: string): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const a of n.attribute) {
    const v = decodeAttribute(a, where);
    if (v !== undefined) out[a.name] = v;
  }
  return out;
}

function graphAttr(n: NodeProto, name: string): GraphProto | undefined {
  return n.attribute.find((a) => a.name === name)?.g;
}

function sameInfo(a: Info | undefined, b: Info | undefined): boolean {
  return !!a && !!b && a.dtype === b.dtype && a.shape.join() === b.shape.join();
}

/** Infers and costs a body: its inputs bound to `bound`, outer names through `outer`. */
function runBody(body: GraphProto, bound: readonly (Info | undefined)[], outer: Lookup, opset: number, where: string, depth: number, trips: TripCounts): BodyResult {
  if (depth > 32) throw new GraphError('GRAPH_CORRUPT', `${where}: subgraphs nested more than 32 deep`);
  const local = new Map<string, Info>();
  body.input.forEach((vi, i) => {
    const b = bound[i];
    if (b) local.set(vi.name, b);
    else {
      const t = valueInfoType(vi, `${where}: body input ${vi.name}`);
      if (t?.dims && t.dims.every((d) => d !== null)) local.set(vi.name, { dtype: t.dtype, shape: t.dims as number[] });
    }
  });
  const inits = new Set<string>();
  for (const t of body.initializer) {
    local.set(t.name, tensorInfo(decodeTensor(t, `${where}: body initializer ${t.name}`, true)));
    inits.add(t.name);
  }
  const declared = new Map<string, Info>();
  for (const vi of [...body.valueInfo, ...body.output]) {
    const t = valueInfoType(vi, `${where}: body value_info ${vi.name}`);
    if (t?.dims && t.dims.every((d) => d !== null && d > 0)) declared.set(vi.name, { dtype: t.dtype, shape: t.dims as number[] });
  }
  const lookup: Lookup = (name) => local.get(name) ?? outer(name);
  let cost = ZERO;
  const costNodes: GraphNode[] = [];
  body.node.forEach((n, k) => {
    const name = n.name || `${n.opType}_${k}`;
    const attributes = attributesOf(n, `${where}: node ${name}`);
    let node: GraphNode = { name, op: n.opType, domain: n.domain, attributes, inputs: n.input.slice(), outputs: n.output.slice(), index: k };
    let outs: (Info | undefined)[];
    if (n.attribute.some((a) => a.g || a.graphs.length)) {
      const r = subgraphNode(n, name, n.input.map((x) => (x === '' ? undefined : lookup(x))), lookup, opset, where, depth + 1, trips);
      outs = r.outputs;
      cost = addCost(cost, r.cost);
      node = { ...node, subgraphCost: r.cost };
    } else {
      try {
        outs = inferNode(node, opset, n.input.map((x) => (x === '' ? undefined : lookup(x))));
      } catch (e) {
        throw e instanceof GraphError ? new GraphError(e.code, `${where}: ${e.message}`, { cause: e }) : e;
      }
    }
    n.output.forEach((o, j) => {
      if (o === '') return;
      const v = outs[j] ?? declared.get(o);
      if (v) local.set(o, v);
    });
    costNodes.push(node);
  });
  // Costs with the graph package's own model, on a graph view of the body's tensors.
  const tensors = new Map<string, GraphTensor>();
  const view = (name: string) => {
    if (!name || tensors.has(name)) return;
    const i = lookup(name);
    if (!i) return;
    tensors.set(name, {
      name, dtype: i.dtype, shape: i.shape, bytes: byteSize(i.dtype, numel(i.shape)), producer: null, consumers: [],
      isInitializer: inits.has(name), isGraphInput: false, isGraphOutput: false,
    });
  };
  for (const n of costNodes) for (const x of [...n.inputs, ...n.outputs]) view(x);
  const g = { tensors } as unknown as Graph;
  const unknown = new Set(cost.unknownOps);
  const timed = new Set(cost.valueTimedOps);
  let macs = cost.macs;
  let flops = cost.flops;
  for (const n of costNodes) {
    if (n.subgraphCost) continue;
    const c = nodeCost(g, n);
    macs += c.macs;
    flops += c.flops;
    if (!c.known) unknown.add(n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.op}` : n.op);
    if ((n.domain === '' || n.domain === 'ai.onnx') && VALUE_TIMED_OPS.has(n.op)) timed.add(n.op);
  }
  return {
    outputs: body.output.map((o) => local.get(o.name)),
    cost: { macs, flops, unknownOps: [...unknown].sort(), ...(cost.loops ? { loops: cost.loops } : {}), ...(timed.size ? { valueTimedOps: [...timed].sort() } : {}) },
  };
}

/**
 * Output infos and body cost of a node with subgraphs. `ins` are the infos of its explicit inputs;
 * `outer` resolves names the bodies read from enclosing scopes.
 */
export function subgraphNode(n: NodeProto, name: string, ins: readonly (Info | undefined)[], outer: Lookup, opset: number, label: string, depth = 0, trips: TripCounts = new Map()): BodyResult {
  const where = `${label}: node ${name} (${n.opType})`;
  const none = n.output.map(() => undefined);
  if (n.domain !== '' && n.domain !== 'ai.onnx') return { outputs: none, cost: { ...ZERO, unknownOps: [`${n.domain}.${n.opType}`] } };
  if (n.opType === 'If') {
    const thenG = graphAttr(n, 'then_branch');
    const elseG = graphAttr(n, 'else_branch');
    if (!thenG || !elseG) throw new GraphError('GRAPH_CORRUPT', `${where} lacks then_branch or else_branch`);
    const cond = ins[0]?.value;
    if (cond && cond.length === 1) return runBody(cond[0] !== 0 ? thenG : elseG, [], outer, opset, `${where} ${cond[0] !== 0 ? 'then' : 'else'}_branch`, depth, trips);
    // A branch that cannot run at these shapes (the 8 kHz branch of a 16 kHz input) is never taken.
    const tryBody = (g: GraphProto, which: string): BodyResult | GraphError => {
      try {
        return runBody(g, [], outer, opset, `${where} ${which}`, depth, trips);
      } catch (err) {
        if (err instanceof GraphError && err.code === 'GRAPH_SHAPE_INFERENCE') return err;
        throw err;
      }
    };
    const t = tryBody(thenG, 'then_branch');
    const e = tryBody(elseG, 'else_branch');
    if (t instanceof GraphError && e instanceof GraphError) throw new GraphError('GRAPH_SHAPE_INFERENCE', `${where}: neither branch runs at these shapes: ${t.message}`, { cause: t });
    if (t instanceof GraphError) return e as BodyResult;
    if (e instanceof GraphError) return t;
    // Either branch may run: the node costs what the larger one costs, and has a shape when both agree.
    const larger = e.cost.macs > t.cost.macs || (e.cost.macs === t.cost.macs && e.cost.flops > t.cost.flops) ? e : t;
    // Loops of both branches are listed: either may run.
    const loops = [...(t.cost.loops ?? []), ...(e.cost.loops ?? [])];
    return {
      outputs: n.output.map((_, i) => (sameInfo(t.outputs[i], e.outputs[i]) ? t.outputs[i] : undefined)),
      cost: { ...larger.cost, unknownOps: [...new Set([...t.cost.unknownOps, ...e.cost.unknownOps])].sort(), ...(loops.length ? { loops } : {}), ...timedOps(t.cost, e.cost) },
    };
  }
  if (n.opType === 'Loop') {
    const body = graphAttr(n, 'body');
    if (!body) throw new GraphError('GRAPH_CORRUPT', `${where} has no body`);
    const v = ins[0]?.value;
    const trip = v && v.length === 1 && Number.isInteger(v[0]) && v[0]! >= 0 && v[0]! <= MAX_STATIC_TRIPS ? v[0] : undefined;
    const given = trips.get(name);
    if (trip !== undefined && given !== undefined && given !== trip) {
      throw new GraphError('GRAPH_LOOP_TRIPS', `--loop-trips ${name}=${given}: ${where} has the constant trip count ${trip}; leave ${name} out of --loop-trips`);
    }
    // A trip count computed at run time (or a while loop): what the user says, else one iteration.
    const iterations = trip ?? given ?? 1;
    const loop: LoopTrips = { node: name, iterations, trips: trip !== undefined ? 'constant' : given !== undefined ? 'given' : 'assumed' };
    const carried = ins.slice(2);
    const r = runBody(body, [{ dtype: 'int64', shape: [] }, { dtype: 'bool', shape: [] }, ...carried], outer, opset, `${where} body`, depth, trips);
    const nCarried = carried.length;
    // Body outputs: cond, carried values, then scan outputs stacked over the iterations.
    const outs = n.output.map((_, i) => {
      const o = r.outputs[i + 1];
      if (!o) return undefined;
      if (i < nCarried) return o;
      return trip !== undefined ? { dtype: o.dtype, shape: [trip, ...o.shape] } : undefined;
    });
    return { outputs: outs, cost: addCost({ ...ZERO, loops: [loop] }, r.cost, iterations) };
  }
  if (n.opType === 'Scan') {
    const body = graphAttr(n, 'body');
    if (!body) throw new GraphError('GRAPH_CORRUPT', `${where} has no body`);
    const attrs = attributesOf(n, where);
    const m = typeof attrs['num_scan_inputs'] === 'number' ? attrs['num_scan_inputs'] : 0;
    if (opset < 9) return scan8(body, ins, m, outer, opset, where, depth, trips);
    const nState = ins.length - m;
    const axes = Array.isArray(attrs['scan_input_axes']) ? (attrs['scan_input_axes'] as number[]) : [];
    let iterations: number | undefined;
    const bound = ins.map((x, i) => {
      if (i < nState || !x) return x;
      const a0 = axes[i - nState] ?? 0;
      const a = a0 < 0 ? a0 + x.shape.length : a0;
      iterations ??= x.shape[a];
      return { dtype: x.dtype, shape: x.shape.filter((_, k) => k !== a) };
    });
    const r = runBody(body, bound, outer, opset, `${where} body`, depth, trips);
    const outs = n.output.map((_, i) => {
      const o = r.outputs[i];
      if (!o) return undefined;
      return i < nState ? o : iterations !== undefined ? { dtype: o.dtype, shape: [iterations, ...o.shape] } : undefined;
    });
    return { outputs: outs, cost: addCost(ZERO, r.cost, iterations ?? 1) };
  }
  return { outputs: none, cost: { ...ZERO, unknownOps: [n.opType] } };
}

/**
 * Scan of opset 8: input 0 is the optional sequence_lens, and every state and scan input has a batch
 * axis 0 (scan inputs then scan along axis 1); the body sees one batch item and one step. Outputs:
 * the states with the batch axis, the scan outputs with batch and step axes.
 */
function scan8(body: GraphProto, ins: readonly (Info | undefined)[], m: number, outer: Lookup, opset: number, where: string, depth: number, trips: TripCounts): BodyResult {
  const rest = ins.slice(1);
  const nState = rest.length - m;
  let batch: number | undefined;
  let iterations: number | undefined;
  const bound = rest.map((x, i) => {
    if (!x) return x;
    batch ??= x.shape[0];
    if (i < nState) return { dtype: x.dtype, shape: x.shape.slice(1) };
    iterations ??= x.shape[1];
    return { dtype: x.dtype, shape: x.shape.slice(2) };
  });
  const r = runBody(body, bound, outer, opset, `${where} body`, depth, trips);
  const outputs = r.outputs.map((o, i) => {
    if (!o || batch === undefined) return undefined;
    if (i < nState) return { dtype: o.dtype, shape: [batch, ...o.shape] };
    return iterations !== undefined ? { dtype: o.dtype, shape: [batch, iterations, ...o.shape] } : undefined;
  });
  return { outputs, cost: addCost(ZERO, r.cost, (iterations ?? 1) * (batch ?? 1)) };
}
